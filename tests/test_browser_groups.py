"""The web UI's groups, history and search in a real headless Chromium, against docktail and a
real engine: the dashboard grouped by compose project, merged group panes (member labels, the
member filter, joined/left/end markers), scrolling back to a log's first line with a bounded
DOM, jumping to a moment, the whole-history search, and published ports as links.

Screenshots land in tests/artifacts/ (git-ignored)."""
import json
import os
import re
import time
from collections import Counter

import pytest
from selenium.webdriver.common.by import By

from helpers import ROOT, Docktail
from test_browser import PANE, browser, free_port, pane_lines, wait_for  # noqa: F401  (the shared selenium setup)

ARTIFACTS = os.path.join(ROOT, "tests", "artifacts")


def screenshot(d, name):
    os.makedirs(ARTIFACTS, exist_ok=True)
    d.save_screenshot(os.path.join(ARTIFACTS, name))


def compose(project, service):
    return ("--label", f"com.docker.compose.project={project}", "--label", f"com.docker.compose.service={service}")


def group_pane(key):
    return f"document.querySelector('docktail-log[group=\"{key}\"]').shadowRoot"


def visible_lines(d, root):
    """[member label, text] of every line element shown (hidden members' lines have no box)."""
    return d.execute_script(f"""
        return [...{root}.querySelectorAll('.line:not(.event)')].filter(l => l.offsetParent !== null)
            .map(l => [l.querySelector('.member')?.textContent, l.querySelector('.text').textContent]);""")


def contrast(fg, bg):
    """WCAG contrast ratio of two computed `rgb(…)` colours."""
    def lum(c):
        r, g, b = (int(v) / 255 for v in re.findall(r"\d+", c)[:3])
        f = lambda v: v / 12.92 if v <= 0.03928 else ((v + 0.055) / 1.055) ** 2.4  # noqa: E731
        return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b)
    a, b = sorted([lum(fg), lum(bg)], reverse=True)
    return (a + 0.05) / (b + 0.05)


def test_dashboard_groups_by_project_and_tails_a_group(browser, server, engine):
    engine.run("uigrp-web", 'i=1; while true; do echo "web says $i"; i=$((i+1)); sleep 0.3; done', extra=compose("uigrp", "web"))
    engine.run("uigrp-db", 'i=1; while true; do echo "db says $i"; i=$((i+1)); sleep 0.3; done', extra=compose("uigrp", "db"))
    engine.run("uigrp-job", 'echo "job ran"; exit 3', extra=compose("uigrp", "job"))
    engine.run("uigrp-solo", 'echo solo; sleep 600')
    engine.wait_exit("uigrp-job")
    browser.get(server.url("/"))
    section = 'section.group[data-kind="project"][data-group="uigrp"]'
    # (The list is rebuilt on every engine event: read and click through the page, atomically.)
    rows = lambda sel: sorted(browser.execute_script(f"return [...document.querySelectorAll('{sel} tbody tr')].map(r => r.dataset.name)"))  # noqa: E731
    click = lambda sel: browser.execute_script(f"document.querySelector('{sel}').click()")  # noqa: E731
    wait_for(lambda: rows(section) == ["uigrp-db", "uigrp-job", "uigrp-web"], message="the project's three containers")
    head = lambda sel, part: browser.execute_script(f"return document.querySelector('{sel} .group-head {part}').textContent")  # noqa: E731
    assert head(section, ".kind").lower() == "project"
    assert head(section, ".group-count") == "3"
    wait_for(lambda: head(section, ".group-summary") == "2 running · 1 exited", message="state summary")
    # A container without a project is listed under its engine, and only there.
    host_section = 'section.group[data-kind="host"][data-group="local"]'
    wait_for(lambda: "uigrp-solo" in rows(host_section), message="solo container under its engine")
    assert browser.execute_script("return document.querySelectorAll('tr[data-name=\"uigrp-web\"]').length") == 1
    # Sections fold (remembered) and unfold.
    click(f"{section} .fold")
    wait_for(lambda: rows(section) == [], message="folded")
    assert browser.execute_script(f"return document.querySelector('{section} .fold').getAttribute('aria-expanded')") == "false"
    assert "project/uigrp" in browser.execute_script("return localStorage.getItem('docktail-collapsed')")
    click(f"{section} .fold")
    wait_for(lambda: len(rows(section)) == 3, message="unfolded")
    # The filter box keeps working across sections.
    browser.find_element(By.ID, "filter").send_keys("uigrp-so")
    wait_for(lambda: browser.execute_script("return [...document.querySelectorAll('tbody tr')].map(r => r.dataset.name)") == ["uigrp-solo"], message="filtered")
    browser.execute_script("const f = document.getElementById('filter'); f.value = ''; f.dispatchEvent(new Event('input'));")

    # "tail this group": a merged pane of every member, in the grid and in the URL.
    click(f"{section} .tail-group")
    wait_for(lambda: "g=project/uigrp" in browser.current_url, message="group in the URL (readable)")
    root = group_pane("project/uigrp")
    wait_for(lambda: browser.execute_script("return document.querySelector('docktail-log[group=\"project/uigrp\"]') !== null"), message="group pane")

    def labelled():
        lines = visible_lines(browser, root)
        names = {n for n, _ in lines}
        return {"uigrp-web", "uigrp-db", "uigrp-job"} <= names and lines
    lines = wait_for(labelled, message="lines of every member")
    # Each line carries its member's name, and the right one.
    for name, text in lines:
        assert name in ("uigrp-web", "uigrp-db", "uigrp-job"), (name, text)
        assert text.startswith({"uigrp-web": "web says", "uigrp-db": "db says", "uigrp-job": "job ran"}[name]), (name, text)
    # The exited member's end is marked with its name.
    wait_for(lambda: browser.execute_script(f"return [...{root}.querySelectorAll('.line.event')].some(e => e.textContent.includes('uigrp-job') && e.textContent.includes('exited with code 3'))"),
             message="end marker with the member's name")
    # A stable colour per member: every label of a member has its chip's colour class.
    colours = browser.execute_script(f"""
        const out = {{}};
        for (const l of {root}.querySelectorAll('.line .member')) (out[l.textContent] ||= new Set()).add(l.className);
        const chips = Object.fromEntries([...{root}.querySelectorAll('.chip')].map(c => [c.textContent, [...c.classList].find(k => k.startsWith('mc-'))]));
        return Object.entries(out).map(([k, v]) => [k, [...v], chips[k]]);""")
    for name, classes, chip in colours:
        assert len(classes) == 1 and classes[0] == f"member {chip}", (name, classes, chip)

    # The member filter hides a member's lines (client-side), new ones too, and shows them again.
    browser.execute_script(f"[...{root}.querySelectorAll('.chip')].find(c => c.textContent === 'uigrp-db').click()")
    assert browser.execute_script(f"return [...{root}.querySelectorAll('.chip')].find(c => c.textContent === 'uigrp-db').getAttribute('aria-pressed')") == "false"
    total = browser.execute_script(f"return document.querySelector('docktail-log[group=\"project/uigrp\"]').total")
    wait_for(lambda: browser.execute_script(f"return document.querySelector('docktail-log[group=\"project/uigrp\"]').total") > total + 6, message="more lines")
    shown = visible_lines(browser, root)
    assert shown and all(n != "uigrp-db" for n, _ in shown)
    assert any(n == "uigrp-web" for n, _ in shown)
    hidden = browser.execute_script(f"return [...{root}.querySelectorAll('.line.stdout')].filter(l => l.querySelector('.member').textContent === 'uigrp-db').length")
    assert hidden > 0  # still there, just not shown
    screenshot(browser, "dashboard-groups.png")
    browser.execute_script(f"[...{root}.querySelectorAll('.chip')].find(c => c.textContent === 'uigrp-db').click()")
    wait_for(lambda: any(n == "uigrp-db" for n, _ in visible_lines(browser, root)), message="db lines shown again")

    # Ticking a container still adds its own pane beside the group's (the layout in the URL).
    click('tr[data-name=\"uigrp-solo\"] input[type=checkbox]')
    wait_for(lambda: "c=local/uigrp-solo" in browser.current_url, message="container in the URL (readable)")
    assert len(browser.find_elements(By.CSS_SELECTOR, "docktail-log")) == 2
    # The layout comes back from the URL.
    browser.get(browser.current_url)
    wait_for(lambda: len(browser.find_elements(By.CSS_SELECTOR, "docktail-log")) == 2, message="layout restored")
    # (The list comes from /api/containers after the page: wait for the section.)
    wait_for(lambda: browser.execute_script(f"const b = document.querySelector('{section} .tail-group'); return b && b.getAttribute('aria-pressed')") == "true",
             message="tail button pressed")
    wait_for(lambda: len(visible_lines(browser, group_pane("project/uigrp"))) > 3, message="group pane restored")
    for name in ("uigrp-web", "uigrp-db", "uigrp-job", "uigrp-solo"):
        engine.docker("rm", "-f", name)


def test_group_viewer_page_markers_and_themes(browser, server, engine):
    engine.run("uiv-api", 'i=1; while true; do echo "api $i"; i=$((i+1)); sleep 0.4; done', extra=compose("uiview", "api"))
    engine.run("uiv-worker", 'i=1; while true; do echo "worker $i" >&2; i=$((i+1)); sleep 0.4; done', extra=compose("uiview", "worker"))
    browser.get(server.url("/groups/project/uiview?tail=5"))
    root = PANE
    wait_for(lambda: {n for n, _ in visible_lines(browser, root)} >= {"uiv-api", "uiv-worker"}, message="both members")
    assert browser.execute_script(f"return {root}.querySelector('.title').textContent") == "project uiview"
    assert browser.find_element(By.ID, "crumb").text == "project uiview"
    assert browser.execute_script(f"return [...{root}.querySelectorAll('.chip')].map(c => c.textContent)") == ["uiv-api", "uiv-worker"]
    # Scroll-back pages a container's history: a group pane has no "older lines" row.
    assert browser.execute_script(f"return {root}.querySelector('.older').hidden")
    # A member that starts later joins, one that is removed leaves, one that exits ends.
    engine.run("uiv-late", 'echo "late hello"; sleep 2; exit 4', extra=compose("uiview", "late"))
    markers = lambda: browser.execute_script(f"return [...{root}.querySelectorAll('.line.event')].map(e => e.textContent)")  # noqa: E731
    wait_for(lambda: any("uiv-late" in m and "joined" in m for m in markers()), message="joined marker")
    wait_for(lambda: any(n == "uiv-late" and t == "late hello" for n, t in visible_lines(browser, root)), message="the late member's line")
    wait_for(lambda: any("uiv-late" in m and "exited with code 4" in m for m in markers()), timeout=30, message="end marker")
    engine.docker("rm", "-f", "uiv-late")
    wait_for(lambda: any("uiv-late" in m and "left" in m for m in markers()), message="left marker")
    assert "gone" in browser.execute_script(f"return [...{root}.querySelectorAll('.chip')].find(c => c.textContent === 'uiv-late').className")
    # Member labels are readable in both themes (WCAG AA against the pane's background).
    for theme in ("light", "dark"):
        browser.execute_script(f"document.querySelector('docktail-log').setAttribute('theme', '{theme}')")
        pairs = browser.execute_script(f"""
            const bg = getComputedStyle(document.querySelector('docktail-log')).backgroundColor;
            return [...{root}.querySelectorAll('.line.stdout .member')].slice(-3).map(l => [getComputedStyle(l).color, bg]);""")
        assert pairs
        for fg, bg in pairs:
            assert contrast(fg, bg) >= 4.5, (theme, fg, bg)
        screenshot(browser, f"group-viewer-{theme}.png")
    for name in ("uiv-api", "uiv-worker"):
        engine.docker("rm", "-f", name)


def test_group_pane_resumes_each_member_without_duplicate_or_gap(browser, binary, engine):
    """The pane resumes a group from the oldest of its members' last stamps and skips, per member
    and stream, what it already has: after docktail restarts, each member's lines are whole (both
    members write to stdout, so marks per stream alone could not tell them apart)."""
    port = free_port()
    d = Docktail(binary, engine_url=engine.url, listen=f"127.0.0.1:{port}")
    try:
        engine.run("uirc-a", 'i=1; while [ $i -le 100 ]; do echo "a $i"; i=$((i+1)); sleep 0.1; done; sleep 600', extra=compose("uirc", "a"))
        engine.run("uirc-b", 'i=1; while [ $i -le 100 ]; do echo "b $i"; i=$((i+1)); sleep 0.13; done; sleep 600', extra=compose("uirc", "b"))
        browser.get(d.url("/groups/project/uirc?tail=all"))
        wait_for(lambda: len(pane_lines(browser)) >= 30, message="30 lines")
        d.stop()
        wait_for(lambda: browser.execute_script(f"return {PANE}.querySelector('.state').textContent") == "reconnecting", message="reconnecting")
        time.sleep(1.5)
        d = Docktail(binary, engine_url=engine.url, listen=f"127.0.0.1:{port}")
        wait_for(lambda: len(pane_lines(browser)) >= 200, timeout=40, message="all 200 lines")
        time.sleep(0.5)
        lines = visible_lines(browser, PANE)
        assert [t for n, t in lines if n == "uirc-a"] == [f"a {i}" for i in range(1, 101)]
        assert [t for n, t in lines if n == "uirc-b"] == [f"b {i}" for i in range(1, 101)]
    finally:
        d.stop()
        engine.docker("rm", "-f", "uirc-a", "uirc-b", check=False)


def test_scroll_back_to_the_first_line_with_a_bounded_dom(browser, server, engine):
    engine.run("ui-scroll", 'i=1; while [ $i -le 3000 ]; do echo "n $i"; i=$((i+1)); done; sleep 600')
    bound = 1000
    browser.get(server.url(f"/logs/ui-scroll?max-lines={bound}"))  # the default tail (100)
    wait_for(lambda: pane_lines(browser)[-1:] == ["n 3000"], message="the tail")
    first = pane_lines(browser)
    assert first == [f"n {i}" for i in range(2901, 3001)]
    # Every line element ever added, and the most the pane ever held at once.
    browser.execute_script(f"""
        const root = {PANE}; window.added = []; window.most = root.querySelectorAll('.line').length;
        new MutationObserver((ms) => {{
            for (const m of ms) for (const n of m.addedNodes) if (n.classList?.contains('line')) window.added.push(n.querySelector('.text').textContent);
            window.most = Math.max(window.most, root.querySelectorAll('.line').length);
        }}).observe(root.querySelector('.log'), {{childList: true, subtree: true}});""")
    state = f"""const p = document.querySelector('docktail-log');
        return {{older: {PANE}.querySelector('.older').textContent, loading: p.loadingOlder, lo: p.loSeq,
                 lines: {PANE}.querySelectorAll('.line').length, top: {PANE}.querySelector('.log').scrollTop}};"""
    to_top = f"const l = {PANE}.querySelector('.log'); l.scrollTop = 0; l.dispatchEvent(new Event('scroll'));"
    s = browser.execute_script(f"return (() => {{ {state} }})()")
    for _ in range(80):
        if s["older"] == "start of log":
            break
        before = s["lo"]
        browser.execute_script(to_top)
        s = wait_for(lambda: (x := browser.execute_script(f"return (() => {{ {state} }})()")) and not x["loading"]
                     and (x["lo"] != before or x["older"] == "start of log" or x["older"].startswith("older lines:")) and x,
                     message="a page of older lines")
        assert not s["older"].startswith("older lines:"), s
        assert s["lines"] <= bound, s
        # The view stays put when lines come in above it (it does not jump to the new top).
        assert s["older"] == "start of log" or s["top"] > 0, s
    assert s["older"] == "start of log", s
    browser.execute_script(to_top)
    assert browser.execute_script(f"const o = {PANE}.querySelector('.older'); return !o.hidden && o.getBoundingClientRect().top >= {PANE}.querySelector('.log').getBoundingClientRect().top")
    screenshot(browser, "scroll-back-start-of-log.png")
    # The first line of the log is at the top, and every line was shown exactly once.
    assert pane_lines(browser)[0] == "n 1"
    shown = Counter(first + browser.execute_script("return window.added"))
    assert sorted(shown, key=lambda t: int(t.split()[1])) == [f"n {i}" for i in range(1, 3001)]
    assert set(shown.values()) == {1}, [t for t, n in shown.items() if n > 1][:10]
    assert browser.execute_script("return window.most") <= bound
    # The pane keeps the lines in memory, in order, each once.
    assert browser.execute_script("return document.querySelector('docktail-log').records.filter(r => !r.marker).map(r => r.text)") == \
        [f"n {i}" for i in range(1, 3001)]
    # Scrolling down brings released lines back (from memory), still bounded, to the live end.
    to_bottom = f"const l = {PANE}.querySelector('.log'); l.scrollTop = l.scrollHeight; l.dispatchEvent(new Event('scroll'));"
    for _ in range(80):
        browser.execute_script(to_bottom)
        time.sleep(0.05)
        if browser.execute_script("return document.querySelector('docktail-log').following"):
            break
    assert browser.execute_script("return document.querySelector('docktail-log').following")
    assert pane_lines(browser)[-1] == "n 3000"
    assert browser.execute_script("return window.most") <= bound
    engine.docker("rm", "-f", "ui-scroll")


def test_jump_to_time(browser, server, engine):
    engine.run("ui-jump", 'i=1; while [ $i -le 40 ]; do echo "tick $i"; i=$((i+1)); sleep 0.1; done; sleep 600')
    browser.get(server.url("/logs/ui-jump?tail=all"))
    wait_for(lambda: len(pane_lines(browser)) == 40, message="40 lines")
    stamps = browser.execute_script("return document.querySelector('docktail-log').records.filter(r => !r.marker).map(r => [r.ts, r.text])")
    # The jump control takes local time to the second: jump to the second after line 10.
    browser.execute_script(f"""
        const ms = Math.floor(Date.parse('{stamps[9][0]}') / 1000) * 1000 + 1000;
        const at = new Date(ms), p = (n) => String(n).padStart(2, '0');
        {PANE}.querySelector('.jump-at').value = `${{at.getFullYear()}}-${{p(at.getMonth() + 1)}}-${{p(at.getDate())}}T${{p(at.getHours())}}:${{p(at.getMinutes())}}:${{p(at.getSeconds())}}`;
        window.jumpMs = ms;
        {PANE}.querySelector('.jump').click();""")
    jump_ms = browser.execute_script("return window.jumpMs")
    expected = [t for ts, t in stamps if browser.execute_script(f"return Date.parse('{ts}')") >= jump_ms]
    assert 0 < len(expected) < 40
    wait_for(lambda: pane_lines(browser) == expected, message="the lines from that moment")
    notice = browser.execute_script(f"return {PANE}.querySelector('.notice').textContent")
    assert notice.startswith("from ") and "back to live" in notice
    assert not browser.execute_script("return document.querySelector('docktail-log').following")
    # Older lines than the moment come from the history API when scrolling up.
    browser.execute_script(f"{PANE}.querySelector('.older button').click()")
    wait_for(lambda: pane_lines(browser) == [t for _, t in stamps], message="the lines before the moment")
    # Back to live: the newest lines, following.
    browser.execute_script(f"[...{PANE}.querySelectorAll('.notice button')].find(b => b.textContent === 'back to live').click()")
    wait_for(lambda: browser.execute_script(f"return {PANE}.querySelector('.notice').hidden") and pane_lines(browser)[-1:] == ["tick 40"], message="live again")
    assert browser.execute_script("return document.querySelector('docktail-log').following")
    engine.docker("rm", "-f", "ui-jump")


def test_whole_history_search(browser, server, engine):
    engine.run("ui-needle", 'echo "a Needle in the haystack"; i=1; while [ $i -le 3000 ]; do echo "hay $i"; i=$((i+1)); done; sleep 600')
    browser.get(server.url("/logs/ui-needle"))
    wait_for(lambda: pane_lines(browser)[-1:] == ["hay 3000"], message="the tail")
    search = lambda text: browser.execute_script(  # noqa: E731
        f"const s = {PANE}.querySelector('.search'); s.value = {json.dumps(text)}; s.dispatchEvent(new Event('input'));")
    matches = lambda: browser.execute_script(f"return {PANE}.querySelector('.matches').textContent")  # noqa: E731
    notice = lambda: browser.execute_script(f"return {PANE}.querySelector('.notice').textContent")  # noqa: E731
    # The in-page filter only sees the lines the pane holds.
    search("NEEDLE")
    wait_for(lambda: matches() == "0 matches", message="no match in the page")
    # The whole history (plain text: any case).
    browser.execute_script(f"{PANE}.querySelector('.grep').click()")
    wait_for(lambda: pane_lines(browser) == ["a Needle in the haystack"], message="the needle, found far back")
    text = wait_for(lambda: (t := notice()) and re.search(r"searched back to \d\d:\d\d:\d\d · 1 match\b", t) and t, message="search progress")
    assert "“NEEDLE”" in text and "any case" in text
    assert matches() == "1 match"
    assert browser.execute_script(f"return {PANE}.querySelector('mark').textContent") == "Needle"
    screenshot(browser, "whole-history-search.png")
    # A regex keeps its case unless it says /i.
    search("/NEEDLE/")
    browser.execute_script(f"{PANE}.querySelector('.grep').click()")
    wait_for(lambda: re.search(r"searched back to .* · 0 matches", notice()), message="no case-sensitive match")
    assert pane_lines(browser) == []
    search("/^a NEEDLE/i")
    browser.execute_script(f"{PANE}.querySelector('.grep').click()")
    wait_for(lambda: pane_lines(browser) == ["a Needle in the haystack"], message="found with /i")
    # A pattern the server refuses (valid for the page's JavaScript filter): its message, and
    # the pane is not reopened.
    search("/hay(?=stack)/")
    browser.execute_script(f"{PANE}.querySelector('.grep').click()")
    error = wait_for(lambda: browser.execute_script(f"const e = {PANE}.querySelector('.notice .search-error'); return e && e.textContent"), message="the refusal")
    assert error.startswith("grep:") and "lookahead" in error
    assert pane_lines(browser) == ["a Needle in the haystack"]
    screenshot(browser, "whole-history-search-invalid.png")
    # Leaving the search reopens the plain tail.
    browser.execute_script(f"[...{PANE}.querySelectorAll('.notice button')].find(b => b.textContent === 'exit search').click()")
    wait_for(lambda: pane_lines(browser)[-1:] == ["hay 3000"] and len(pane_lines(browser)) == 100, message="the tail again")
    engine.docker("rm", "-f", "ui-needle")


# Adds ports to /api/containers answers in the page (Chrome DevTools Protocol, before any page
# script runs), for the named containers only; everything else is the server's real answer.
PORTS_SHIM = """
(() => {
  const ports = %s;
  const real = window.fetch;
  window.fetch = async (...args) => {
    const r = await real(...args);
    if (!String(args[0]).startsWith('/api/containers')) return r;
    const list = await r.clone().json();
    if (!Array.isArray(list)) return r;
    for (const c of list) if (ports[c.name]) c.ports = ports[c.name];
    return new Response(JSON.stringify(list), {status: r.status, headers: r.headers});
  };
})();"""


def test_published_ports_as_links(browser, server, engine):
    """Published ports appear next to the name as http://HOST:PUBLIC/ links.

    The test engine has no bridge (containers run with --network none). It accepts `-p` there,
    but lists no ports for such containers (`GET /containers/json` gives `"Ports": []`; only
    inspect keeps the requested binding), so /api/containers lists none either. When that is so,
    the list the page receives is given ports through the DevTools Protocol (the page's fetch,
    wrapped before the page loads), and the rendering is checked against those."""
    engine.run("ui-ports", "sleep 600", extra=("-p", "127.0.0.1:18081:80"))
    _, listed = server.json("/api/containers?all=1")
    real = next(c for c in listed if c["name"] == "ui-ports").get("ports") or []
    shim = None
    if any(p.get("public") for p in real):
        expected = {"http://127.0.0.1:18081/"}
        texts = {"127.0.0.1:18081"}
    else:
        fake = [
            {"private": 80, "public": 18080, "type": "tcp", "ip": "0.0.0.0"},
            {"private": 80, "public": 18080, "type": "tcp", "ip": "::"},        # the same port over IPv6: one link
            {"private": 443, "public": 18443, "type": "tcp", "ip": "127.0.0.2"},  # bound to one address: that address
            {"private": 8080, "public": 18090, "type": "tcp", "ip": "::1"},
            {"private": 53, "public": 5353, "type": "udp", "ip": "0.0.0.0"},     # not HTTP: text
            {"private": 9000, "public": None, "type": "tcp", "ip": None},        # exposed, not published: nothing
        ]
        shim = browser.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": PORTS_SHIM % json.dumps({"ui-ports": fake})})["identifier"]
        expected = {"http://127.0.0.1:18080/", "http://127.0.0.2:18443/", "http://[::1]:18090/"}
        texts = {":18080", "127.0.0.2:18443", "[::1]:18090"}
    try:
        browser.get(server.url("/"))
        row = 'tr[data-name="ui-ports"]'
        links = wait_for(lambda: browser.execute_script(f"""
            return [...document.querySelectorAll('{row} td.name a.port')].map(a => ({{href: a.href, text: a.textContent, target: a.target, rel: a.rel}}));"""),
            message="port links")
        assert {a["href"] for a in links} == expected
        assert {a["text"] for a in links} == texts
        assert all(a["target"] == "_blank" and "noopener" in a["rel"] for a in links)
        # Next to the name, in the name cell.
        assert browser.execute_script(f"return document.querySelector('{row} td.name .cname').textContent") == "ui-ports"
        if shim:
            assert browser.execute_script(f"return [...document.querySelectorAll('{row} .port.other')].map(s => s.textContent)") == ["5353/udp"]
        # Containers without published ports show none.
        engine.run("ui-noports", "sleep 600")
        wait_for(lambda: browser.execute_script("return document.querySelector('tr[data-name=\"ui-noports\"]') !== null"), message="second row")
        assert browser.execute_script("return document.querySelectorAll('tr[data-name=\"ui-noports\"] .port').length") == 0
        screenshot(browser, "dashboard-ports.png")
    finally:
        if shim:
            browser.execute_cdp_cmd("Page.removeScriptToEvaluateOnNewDocument", {"identifier": shim})
        engine.docker("rm", "-f", "ui-ports", "ui-noports", check=False)


@pytest.fixture(autouse=True)
def _leave_the_page(browser):
    """Each test leaves a blank page behind, so no pane of it keeps a stream open."""
    yield
    browser.get("about:blank")
