"""The log pane (<docktail-log>) in a real headless Chromium against docktail and a real engine:
level chips with live counts (kept in the URL), multi-line entries (a Java stack trace, a Python
traceback), structured JSON lines, timestamps with their UTC offset, jump to time, permalinks,
search ("n / m", an invalid regex, Esc), exit codes, a restarting container, an unknown
container, and the 900×500 embed size.

Screenshots land in tests/artifacts/ (git-ignored)."""
import json
import os
import re
import time
import urllib.parse

import pytest
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.keys import Keys

from helpers import ROOT
from test_browser import PANE, browser, pane_lines, wait_for  # noqa: F401  (the shared selenium setup)

ARTIFACTS = os.path.join(ROOT, "tests", "artifacts")
HOST = "document.querySelector('docktail-log')"
RED = "rgb(207, 34, 46)"


def screenshot(d, name):
    os.makedirs(ARTIFACTS, exist_ok=True)
    d.save_screenshot(os.path.join(ARTIFACTS, name))


def js(d, script, *args):
    return d.execute_script(script, *args)


def chip_counts(d):
    return js(d, f"return Object.fromEntries([...{PANE}.querySelectorAll('.lvchip')].map(c => [c.dataset.level, c.querySelector('.n').textContent]))")


def shown_texts(d):
    """The first line of every entry element that has a box (hidden ones have none)."""
    return js(d, f"return [...{PANE}.querySelectorAll('.line:not(.event)')].filter(l => l.offsetParent !== null).map(l => l.querySelector('.text').textContent)")


def stub_clipboard(d):
    js(d, "window.__copied = []; Object.defineProperty(navigator, 'clipboard', {configurable: true, value: {writeText: async (t) => { window.__copied.push(t); }}});")


def hover(d, selector_js):
    """Moves the real pointer over an element of the pane (hover styles, pointer events)."""
    el = js(d, f"return {selector_js}")
    ActionChains(d).move_to_element(el).perform()
    return el


def entry_action(d, line_js, act):
    """Hovers an entry (its actions attach to it) and clicks one of them."""
    hover(d, line_js)
    js(d, f"{line_js}.querySelector('.act-{act}').click()")


def search(d, text):
    js(d, f"const s = {PANE}.querySelector('.search'); s.value = {json.dumps(text)}; s.dispatchEvent(new Event('input'));")
    time.sleep(0.3)


@pytest.fixture(autouse=True)
def _leave_the_page(browser):
    """Each test leaves a blank page behind (no stream stays open) and the real time zone."""
    yield
    browser.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})
    try:
        browser.execute_cdp_cmd("Emulation.setTimezoneOverride", {"timezoneId": ""})
    except Exception:  # noqa: BLE001 - no override set
        pass
    browser.get("about:blank")


def test_level_chips_count_filter_and_live_in_the_url(browser, server, engine):
    engine.run("pane-levels", 'echo "ERROR one"; echo "ERROR two" >&2; echo "level=error three"; '
               'echo "WARN careful"; echo "{\\"level\\":\\"warn\\",\\"msg\\":\\"json warn\\"}"; '
               'echo "INFO a"; echo "INFO b"; echo "[I] c"; echo "INFO d"; echo "DEBUG verbose"; echo "plain one"; echo "plain two"; sleep 600')
    browser.get(server.url("/logs/pane-levels?tail=all"))
    wait_for(lambda: chip_counts(browser) == {"error": "3", "warn": "2", "info": "4", "debug": "1", "other": "2"}, message="chip counts")
    assert len(shown_texts(browser)) == 12
    # A chip hides its level; the state goes to the attribute and to the page's URL.
    js(browser, f"{PANE}.querySelector('.lvchip[data-level=error]').click()")
    assert js(browser, f"return {PANE}.querySelector('.lvchip[data-level=error]').getAttribute('aria-pressed')") == "false"
    assert js(browser, f"return {HOST}.getAttribute('levels')") == "warn,info,debug,other"
    assert "levels=warn%2Cinfo%2Cdebug%2Cother" in browser.current_url
    texts = shown_texts(browser)
    assert len(texts) == 9 and not any("ERROR" in t or "three" in t for t in texts)
    # Shift+click: only that level.
    js(browser, f"{PANE}.querySelector('.lvchip[data-level=warn]').dispatchEvent(new MouseEvent('click', {{bubbles: true, shiftKey: true}}))")
    assert shown_texts(browser) == ["WARN careful", "json warn"]
    assert "levels=warn" in browser.current_url and "info" not in browser.current_url.split("levels=")[1]
    # Counts stay whole while hidden, and go on counting.
    assert chip_counts(browser)["error"] == "3"
    screenshot(browser, "pane-levels-only-warn.png")
    # The URL opens the pane with the same chips.
    browser.get(server.url("/logs/pane-levels?tail=all&levels=error,warn"))
    wait_for(lambda: chip_counts(browser)["other"] == "2", message="counts after reload")
    pressed = js(browser, f"return Object.fromEntries([...{PANE}.querySelectorAll('.lvchip')].map(c => [c.dataset.level, c.getAttribute('aria-pressed')]))")
    assert pressed == {"error": "true", "warn": "true", "info": "false", "debug": "false", "other": "false"}
    assert len(shown_texts(browser)) == 5
    screenshot(browser, "pane-levels.png")
    engine.docker("rm", "-f", "pane-levels")


JAVA = ["2026-11-30 02:20:00.193 ERROR [main] c.e.App - Request failed",
        "java.lang.IllegalStateException: boom",
        "\tat com.example.App.handle(App.java:42)",
        "\tat com.example.App.main(App.java:10)",
        "Caused by: java.io.IOException: disk full",
        "\tat com.example.Disk.write(Disk.java:7)",
        "\t... 2 more"]
PYTHON = ["ERROR:root:could not parse the request",
          "Traceback (most recent call last):",
          '  File "/app/main.py", line 12, in <module>',
          "    main()",
          '  File "/app/main.py", line 8, in main',
          "    int(value)",
          "ValueError: invalid literal for int() with base 10: 'x'"]


def printf_lines(lines):
    return "printf '%s\\n' " + " ".join("'" + l.replace("'", "'\\''") + "'" for l in lines)


def test_stack_traces_are_one_entry(browser, server, engine):
    script = (f'echo "2026-11-30 02:19:59.000 INFO [main] c.e.App - started"; {printf_lines(JAVA)}; '
              f'echo "2026-11-30 02:20:01.000 INFO [main] c.e.App - next request"; {printf_lines(PYTHON)}; echo "INFO:root:after"; sleep 600')
    engine.run("pane-traces", script)
    browser.get(server.url("/logs/pane-traces?tail=all"))
    wait_for(lambda: js(browser, f"return {PANE}.querySelector('.count').textContent") == "17 lines", message="17 lines")
    entries = lambda: js(browser, f"return [...{PANE}.querySelectorAll('.line:not(.event)')].map(l => [l.querySelector('.text').textContent, l.querySelector('.fold')?.textContent ?? null, l.querySelector('.lvl')?.textContent ?? null, l.querySelectorAll('.cont .cl').length])")  # noqa: E731
    wait_for(lambda: len(entries()) == 5, message="5 entries")
    got = entries()
    # One entry each, one level, collapsed to the first line with the count of the rest.
    assert got[1] == [JAVA[0], "▸ +6 lines", "error", 0], got
    assert got[3] == [PYTHON[0], "▸ +6 lines", "error", 0], got
    assert [g[0] for g in got] == ["2026-11-30 02:19:59.000 INFO [main] c.e.App - started", JAVA[0],
                                   "2026-11-30 02:20:01.000 INFO [main] c.e.App - next request", PYTHON[0], "INFO:root:after"]
    # One timestamp per entry.
    assert js(browser, f"return [...{PANE}.querySelectorAll('.line.multi')].map(l => l.querySelectorAll('.ts').length)") == [1, 1]
    java = f"[...{PANE}.querySelectorAll('.line.multi')][0]"
    python = f"[...{PANE}.querySelectorAll('.line.multi')][1]"
    # Expanding shows every line, as written.
    js(browser, f"{java}.querySelector('.fold').click()")
    assert js(browser, f"return [...{java}.querySelectorAll('.cont .cl')].map(l => l.textContent)") == JAVA[1:]
    assert js(browser, f"return {java}.querySelector('.fold').getAttribute('aria-expanded')") == "true"
    # Copy gives the whole entry.
    stub_clipboard(browser)
    entry_action(browser, java, "copy")
    entry_action(browser, python, "copy")
    wait_for(lambda: js(browser, "return window.__copied.length") == 2, message="two copies")
    assert js(browser, "return window.__copied") == ["\n".join(JAVA), "\n".join(PYTHON)]
    screenshot(browser, "pane-stack-traces.png")
    # Search treats the entry as one: a match in a folded line counts once and is shown; "only
    # matching" keeps the whole entry; the download has it whole, after one stamp.
    search(browser, "ValueError")
    assert js(browser, f"return {PANE}.querySelector('.matches').textContent") == "1 match"
    assert "has-match" in js(browser, f"return {python}.querySelector('.fold').className")
    js(browser, f"{PANE}.querySelector('.only').click()")
    assert len(shown_texts(browser)) == 1
    js(browser, f"{PANE}.querySelector('.next').click()")
    assert js(browser, f"return {PANE}.querySelector('.matches').textContent") == "1 / 1"
    assert js(browser, f"return [...{python}.querySelectorAll('.cont .cl')].map(l => l.textContent)") == PYTHON[1:]
    assert js(browser, f"return {python}.querySelector('mark').textContent") == "ValueError"
    text = js(browser, f"return {HOST}.logText(true)")
    assert re.fullmatch(r"\S+Z O " + re.escape("\n".join(PYTHON)) + "\n", text), text
    screenshot(browser, "pane-stack-traces-search.png")
    engine.docker("rm", "-f", "pane-traces")


def test_json_lines_message_first_and_expanded_state_survives(browser, server, engine):
    line = {"time": "2026-11-30T02:20:01Z", "level": "warn", "msg": "slow request", "path": "/api/users", "ms": 812,
            "user": {"id": 7, "roles": ["admin", "dev"]}, "ok": True, "note": None}
    engine.run("pane-json", f"echo '{json.dumps(line)}'; echo '{json.dumps({'@l': 'Error', '@m': 'payment declined', 'orderId': 'A-17'})}'; "
               "echo 'plain after'; sleep 600")
    browser.get(server.url("/logs/pane-json?tail=all"))
    wait_for(lambda: len(shown_texts(browser)) == 3, message="3 entries")
    first = f"{PANE}.querySelector('.line.jsonl')"
    # The level badge, the message first, the other fields dimmed as key=value.
    assert js(browser, f"return {first}.querySelector('.lvl').textContent") == "warn"
    assert js(browser, f"return {first}.querySelector('.j-msg').textContent") == "slow request"
    assert js(browser, f"return {first}.querySelector('.j-fields').textContent") == \
        ' time=2026-11-30T02:20:01Z path=/api/users ms=812 user={"id":7,"roles":["admin","dev"]} ok=true note=null'
    assert js(browser, f"return {first}.querySelector('.text').textContent").startswith("slow request time=")
    second = js(browser, f"return [...{PANE}.querySelectorAll('.line.jsonl')][1].querySelector('.text').textContent")
    assert second == "payment declined orderId=A-17"
    assert js(browser, f"return [...{PANE}.querySelectorAll('.line.jsonl')][1].querySelector('.lvl').textContent") == "error"
    dim = js(browser, f"return [getComputedStyle({first}.querySelector('.j-fields')).color, getComputedStyle({first}.querySelector('.j-msg')).color]")
    assert dim[0] != dim[1]
    # The { } control shows on hover (or focus) only.
    opacity = lambda: js(browser, f"return getComputedStyle({first}.querySelector('.json-toggle')).opacity")  # noqa: E731
    hover(browser, f"{PANE}.querySelectorAll('.line')[2]")
    assert opacity() == "0"
    hover(browser, first)
    assert opacity() == "1"
    hover(browser, f"{PANE}.querySelectorAll('.line')[2]")
    assert opacity() == "0"
    js(browser, f"{first}.querySelector('.json-toggle').focus()")
    assert opacity() == "1"
    # Expanded: a syntax-coloured tree.
    js(browser, f"{first}.querySelector('.json-toggle').click()")
    tree = js(browser, f"return {first}.querySelector('pre.json').textContent")
    assert json.loads(tree) == line
    classes = js(browser, f"return [...{first}.querySelectorAll('pre.json span')].map(s => [s.className, s.textContent])")
    assert ["j-key", '"msg"'] in classes and ["j-str", '"slow request"'] in classes and ["j-num", "812"] in classes
    assert ["j-bool", "true"] in classes and ["j-null", "null"] in classes
    colours = js(browser, f"return ['j-key', 'j-str', 'j-num'].map(c => getComputedStyle({first}.querySelector('pre.json .' + c)).color)")
    assert len(set(colours)) == 3
    screenshot(browser, "pane-json-expanded.png")
    # It stays expanded when the filter, the timestamps or the theme change.
    expanded = lambda: js(browser, f"const l = {PANE}.querySelector('.line.jsonl'); return Boolean(l && l.querySelector('pre.json'))")  # noqa: E731
    search(browser, "slow")
    assert expanded()
    search(browser, "")
    assert expanded()
    js(browser, f"const s = {PANE}.querySelector('.tsmode'); s.value = 'utc'; s.dispatchEvent(new Event('change'));")
    assert expanded()
    js(browser, f"{HOST}.setAttribute('theme', 'dark')")
    assert expanded()
    screenshot(browser, "pane-json-dark.png")
    engine.docker("rm", "-f", "pane-json")


def test_timestamps_local_by_default_with_the_offset_and_jump_to_time(browser, server, engine):
    browser.execute_cdp_cmd("Emulation.setTimezoneOverride", {"timezoneId": "Asia/Kolkata"})
    engine.run("pane-time", 'i=1; while [ $i -le 40 ]; do echo "tick $i"; i=$((i+1)); usleep 100000; done; sleep 600')
    # The WebSocket URLs the page opens (to see since/until).
    shim = browser.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source":
        "window.__ws = []; const W = window.WebSocket; window.WebSocket = class extends W { constructor(u, p) { super(u, p); window.__ws.push(String(u)); } };"})["identifier"]
    try:
        browser.get(server.url("/logs/pane-time?tail=all"))
        wait_for(lambda: len(pane_lines(browser)) == 40, message="40 lines")
        stamps = js(browser, f"return {HOST}.records.filter(r => !r.marker).map(r => r.ts)")
        shown = js(browser, f"return [...{PANE}.querySelectorAll('.line:not(.event) .ts')].map(t => [t.textContent, getComputedStyle(t).display])")
        # Shown by default, in local time (UTC+05:30 here), to the millisecond.
        for (text, display), ts in zip(shown, stamps):
            assert display != "none"
            h, m, s = int(ts[11:13]), int(ts[14:16]), ts[17:19]
            minutes = (h * 60 + m + 330) % 1440
            millis = re.search(r"[.](\d+)", ts).group(1).ljust(3, "0")[:3]
            assert text == f"{minutes // 60:02d}:{minutes % 60:02d}:{s}.{millis}", (text, ts)
        # The full date, nanoseconds and the UTC offset on hover.
        hover(browser, f"{PANE}.querySelector('.line .ts')")
        title = js(browser, f"return {PANE}.querySelector('.line .ts').title")
        frac = re.search(r"\.(\d+)Z", stamps[0]).group(1).ljust(9, "0")
        # (ICU may name the zone by its older name.)
        assert re.match(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{9} UTC\+05:30 \(Asia/(Kolkata|Calcutta)\)\n", title), title
        assert f".{frac} " in title and stamps[0] in title
        # The control says what the column is.
        assert js(browser, f"return {PANE}.querySelector('.tsmode').selectedOptions[0].textContent") == "local UTC+05:30"
        screenshot(browser, "pane-timestamps.png")
        # Jump to time: since and until (local time inputs), the pane reopened there.
        js(browser, f"""
            const ms = Math.floor(Date.parse('{stamps[9]}') / 1000) * 1000 + 1000;
            const at = new Date(ms), to = new Date(ms + 1000), p = (n) => String(n).padStart(2, '0');
            const v = (d) => `${{d.getFullYear()}}-${{p(d.getMonth() + 1)}}-${{p(d.getDate())}}T${{p(d.getHours())}}:${{p(d.getMinutes())}}:${{p(d.getSeconds())}}`;
            {PANE}.querySelector('.jumpbtn').click();
            {PANE}.querySelector('.jump-at').value = v(at);
            {PANE}.querySelector('.jump-until').value = v(to);
            window.jumpMs = ms;
            {PANE}.querySelector('.jump').click();""")
        jump_ms = js(browser, "return window.jumpMs")
        epoch = lambda ts: js(browser, f"return Date.parse('{ts[:23]}Z')")  # noqa: E731
        expected = [f"tick {i + 1}" for i, ts in enumerate(stamps) if jump_ms <= epoch(ts) <= jump_ms + 1000]
        assert 0 < len(expected) < 40
        wait_for(lambda: pane_lines(browser) == expected, message="the lines of that second")
        url = js(browser, "return window.__ws[window.__ws.length - 1]")
        since = urllib.parse.parse_qs(urllib.parse.urlsplit(url).query)["since"][0]
        assert "until=" in url and js(browser, f"return Date.parse('{since}')") == jump_ms
        notice = js(browser, f"return {PANE}.querySelector('.notice').textContent")
        assert notice.startswith("from ") and " until " in notice and "back to live" in notice
        wait_for(lambda: js(browser, f"return {PANE}.querySelector('.state').textContent") == "ended", message="the range ended " + str(js(browser, f"return [{PANE}.querySelector('.state').textContent, window.__ws]")))
    finally:
        browser.execute_cdp_cmd("Page.removeScriptToEvaluateOnNewDocument", {"identifier": shim})
    engine.docker("rm", "-f", "pane-time")


def test_permalink_opens_the_viewer_at_the_line(browser, server, engine):
    engine.run("pane-link", 'i=1; while [ $i -le 600 ]; do echo "n $i"; i=$((i+1)); usleep 2000; done; sleep 600')
    browser.get(server.url("/logs/pane-link?tail=all"))
    wait_for(lambda: pane_lines(browser)[-1:] == ["n 600"], timeout=30, message="600 lines")
    # The link action copies /logs/NAME?host=…#t=STAMP.
    stub_clipboard(browser)
    line = f"[...{PANE}.querySelectorAll('.line')].find(l => l.querySelector('.text').textContent === 'n 590')"
    entry_action(browser, line, "link")
    wait_for(lambda: js(browser, "return window.__copied.length") == 1, message="link copied")
    link = js(browser, "return window.__copied[0]")
    ts590 = js(browser, f"return {HOST}.records.find(r => r.text === 'n 590').ts")
    assert link == server.url(f"/logs/pane-link?host=local#t={ts590}")
    # A link to a line far above the default tail: the viewer opens there (since) with the
    # lines before it paged in, scrolled to it and highlighted.
    ts300 = js(browser, f"return {HOST}.records.find(r => r.text === 'n 300').ts")
    browser.get("about:blank")
    browser.get(server.url(f"/logs/pane-link#t={ts300}"))
    target = wait_for(lambda: js(browser, f"const t = {PANE}.querySelector('.line.target'); return t && t.querySelector('.text').textContent"), message="the target line")
    assert target == "n 300"
    wait_for(lambda: "n 299" in pane_lines(browser), message="the lines before it")
    lines = pane_lines(browser)
    assert lines[lines.index("n 300") - 1] == "n 299" and lines[0] == "n 1"
    inside = f"""const t = {PANE}.querySelector('.line.target').getBoundingClientRect(), l = {PANE}.querySelector('.log').getBoundingClientRect();
        return t.top >= l.top && t.bottom <= l.bottom"""
    time.sleep(0.3)
    assert js(browser, inside), "the linked line is in view"
    colours = js(browser, f"return [getComputedStyle({PANE}.querySelector('.line.target')).backgroundColor, getComputedStyle([...{PANE}.querySelectorAll('.line')].find(l => l.textContent.includes('n 301'))).backgroundColor]")
    assert colours[0] != colours[1]
    assert "linked line" in js(browser, f"return {PANE}.querySelector('.notice').textContent")
    assert not js(browser, f"return {HOST}.following")
    screenshot(browser, "pane-permalink.png")
    engine.docker("rm", "-f", "pane-link")


def test_search_count_invalid_regex_esc_and_context(browser, server, engine):
    engine.run("pane-search", 'i=1; while [ $i -le 60 ]; do if [ $((i % 5)) -eq 0 ]; then echo "needle $i"; else echo "hay $i"; fi; i=$((i+1)); done; sleep 600')
    browser.get(server.url("/logs/pane-search?tail=all"))
    wait_for(lambda: len(pane_lines(browser)) == 60, message="60 lines")
    box = js(browser, f"return {PANE}.querySelector('.search')")
    # From the top of the log (Enter steps from the first entry in view, like a browser's find).
    js(browser, f"const l = {PANE}.querySelector('.log'); l.scrollTop = 0; l.dispatchEvent(new Event('scroll'));")
    matches = lambda: js(browser, f"return {PANE}.querySelector('.matches').textContent")  # noqa: E731
    box.send_keys("needle")
    wait_for(lambda: matches() == "12 matches", message="12 matches")
    box.send_keys(Keys.ENTER)
    assert matches() == "1 / 12"
    box.send_keys(Keys.ENTER)
    assert matches() == "2 / 12"
    current = lambda: js(browser, f"return {PANE}.querySelector('.line.current .text').textContent")  # noqa: E731
    assert current() == "needle 10"
    box.send_keys(Keys.SHIFT, Keys.ENTER)
    box.send_keys(Keys.SHIFT, Keys.ENTER)
    assert matches() == "12 / 12" and current() == "needle 60"
    screenshot(browser, "pane-search-count.png")
    # An invalid regex clears the results and says why.
    search(browser, "/need(le/")
    assert matches() == "invalid"
    error = js(browser, f"return {PANE}.querySelector('.notice .filter-error').textContent")
    assert "Not a valid regular expression" in error and "unterminated group" in error.lower()
    assert js(browser, f"return [{PANE}.querySelectorAll('mark').length, {PANE}.querySelectorAll('.line.match').length, {PANE}.querySelector('.search').getAttribute('aria-invalid')]") == [0, 0, "true"]
    screenshot(browser, "pane-search-invalid.png")
    # "show context" around a match while only matching ones are shown.
    search(browser, "needle 30")
    js(browser, f"{PANE}.querySelector('.only').click()")
    assert shown_texts(browser) == ["needle 30"]
    entry_action(browser, f"{PANE}.querySelector('.line.match')", "context")
    assert shown_texts(browser) == [f"hay {i}" if i % 5 else f"needle {i}" for i in range(25, 36)]
    screenshot(browser, "pane-search-context.png")
    # Esc clears the search and turns "only matching" off.
    box.send_keys(Keys.ESCAPE)
    assert js(browser, f"return [{PANE}.querySelector('.search').value, {PANE}.querySelector('.only').getAttribute('aria-pressed'), {PANE}.querySelector('.matches').textContent]") == ["", "false", ""]
    assert len(shown_texts(browser)) == 60
    # "clear" empties the pane and resets the line counter and the chips.
    js(browser, f"{PANE}.querySelector('.clear').click()")
    assert js(browser, f"return {PANE}.querySelector('.count').textContent") == "0 lines"
    assert set(chip_counts(browser).values()) == {"0"} and shown_texts(browser) == []
    engine.docker("rm", "-f", "pane-search")


def test_exit_codes_badges_and_markers(browser, server, engine):
    engine.run("pane-exit0", 'echo "working"; sleep 4; echo "done"; exit 0')
    browser.get(server.url("/logs/pane-exit0?tail=all"))
    wait_for(lambda: js(browser, f"return {PANE}.querySelector('.state').textContent") == "live", message="live")
    bar = f"[...{PANE}.querySelectorAll('.bar > *, .lvchip')].filter(e => e.offsetParent !== null).map(e => [Math.round(e.getBoundingClientRect().left), Math.round(e.getBoundingClientRect().width)])"
    before = js(browser, f"return {bar}")
    wait_for(lambda: js(browser, f"return {PANE}.querySelector('.state').textContent") == "exited (0)", message="exited (0)")
    # No layout shift: the badge changed (and the counts), nothing in the toolbar moved.
    assert js(browser, f"return {bar}") == before
    badge = js(browser, f"const s = {PANE}.querySelector('.state'); return [s.className, getComputedStyle(s).backgroundColor]")
    assert "clean" in badge[0] and badge[1] != RED
    marker = js(browser, f"const m = {PANE}.querySelector('.line.event'); return [m.textContent, getComputedStyle(m).color, m.querySelector('.ts').textContent]")
    assert "exited with code 0" in marker[0] and marker[1] != RED
    assert re.fullmatch(r"≈?\d\d:\d\d:\d\d\.\d{3}", marker[2]), marker
    screenshot(browser, "pane-exit-0.png")
    # A failure is red.
    engine.run("pane-exit3", 'echo "working"; sleep 1; exit 3')
    browser.get(server.url("/logs/pane-exit3?tail=all"))
    wait_for(lambda: js(browser, f"return {PANE}.querySelector('.state').textContent") == "exited (3)", message="exited (3)")
    badge = js(browser, f"const s = {PANE}.querySelector('.state'); return [s.className, getComputedStyle(s).backgroundColor]")
    assert "failed" in badge[0] and badge[1] == RED
    # A container that had stopped before the pane opened shows its code too.
    browser.get(server.url("/logs/pane-exit0?tail=all"))
    wait_for(lambda: js(browser, f"return {PANE}.querySelector('.state').textContent") == "exited (0)", message="exited (0) on opening")
    engine.docker("rm", "-f", "pane-exit0", "pane-exit3")


def test_restarting_container_is_not_live(browser, server, engine):
    engine.run("pane-loop", 'echo "run $(date +%s)"; sleep 0.3; exit 1', extra=("--restart", "always"))
    browser.get(server.url("/logs/pane-loop?tail=all"))
    state = lambda: js(browser, f"return {PANE}.querySelector('.state').textContent")  # noqa: E731
    wait_for(lambda: state() == "restarting", timeout=30, message="restarting")
    seen = set()
    deadline = time.time() + 4
    while time.time() < deadline:
        seen.add(state())
        time.sleep(0.05)
    assert "live" not in seen, seen
    title = js(browser, f"return {PANE}.querySelector('.state').title")
    assert "restart" in title and "exit code 1" in title
    # Its restarts and exits are marked, each with its time.
    markers = js(browser, f"return [...{PANE}.querySelectorAll('.line.event')].map(m => [m.querySelector('.mtext').textContent, m.querySelector('.ts').textContent])")
    assert any("restarted" in t for t, _ in markers) and any("exited with code 1" in t for t, _ in markers), markers
    assert all(re.fullmatch(r"≈?\d\d:\d\d:\d\d\.\d{3}", ts) for _, ts in markers), markers
    screenshot(browser, "pane-restarting.png")
    engine.docker("rm", "-f", "pane-loop")


def test_unknown_container_says_what_to_check_and_stops_retrying(browser, server, engine):
    engine.run("pane-similar-name", 'echo "found me"; sleep 600')
    shim = browser.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source":
        "window.__wsCount = 0; const W = window.WebSocket; window.WebSocket = class extends W { constructor(u, p) { super(u, p); window.__wsCount++; } };"})["identifier"]
    try:
        browser.get(server.url("/logs/similar-name"))
        text = wait_for(lambda: js(browser, f"const r = {PANE}.querySelector('.notice .refused'); return r && r.textContent"), message="the explanation")
        assert "No container “similar-name”" in text
        for what in ("name", "id prefix", "engine", "host=", "visibility"):
            assert what in text, (what, text)
        assert "Stopped after 3 attempts" in text
        assert js(browser, f"return {PANE}.querySelector('.state').textContent") == "not found"
        attempts = js(browser, "return window.__wsCount")
        assert attempts == 3
        time.sleep(3)
        assert js(browser, "return window.__wsCount") == attempts, "it stopped retrying"
        # A container with a name like it, offered to open.
        suggestion = wait_for(lambda: js(browser, f"const b = {PANE}.querySelector('.notice .suggestion'); return b && b.textContent"), message="a suggestion")
        assert suggestion == "open pane-similar-name"
        screenshot(browser, "pane-unknown-container.png")
        js(browser, f"{PANE}.querySelector('.notice .suggestion').click()")
        wait_for(lambda: pane_lines(browser) == ["found me"], message="the suggested container")
        assert js(browser, f"return {PANE}.querySelector('.notice').hidden")
    finally:
        browser.execute_cdp_cmd("Page.removeScriptToEvaluateOnNewDocument", {"identifier": shim})
    engine.docker("rm", "-f", "pane-similar-name")


def test_embed_at_900x500_has_no_horizontal_overflow(browser, server, engine):
    long_token = "x" * 3000
    engine.run("pane-embed", f'echo "{long_token}"; echo "a/very/long/path/" ; '
               f'echo \'{{"level":"error","msg":"{"y" * 800}","k":"{"z" * 600}"}}\'; '
               f'{printf_lines(JAVA)}; i=1; while true; do echo "level=info tick $i"; i=$((i+1)); sleep 1; done')
    browser.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {"width": 900, "height": 500, "deviceScaleFactor": 1, "mobile": False})
    browser.get(server.url("/logs/pane-embed?embed=1&tail=all"))
    wait_for(lambda: len(pane_lines(browser)) >= 5, message="lines")
    js(browser, f"[...{PANE}.querySelectorAll('.line.multi .fold')].forEach(b => b.click()); {PANE}.querySelector('.json-toggle').click()")
    time.sleep(0.3)
    metrics = js(browser, f"""
        const R = {PANE}, bar = R.querySelector('.bar').getBoundingClientRect(), log = R.querySelector('.log');
        const controls = [...R.querySelectorAll('.bar > *, .bar .lvchip, .bar .find > *')].filter(e => e.offsetParent !== null && getComputedStyle(e).display !== 'none');
        return {{
          viewport: [innerWidth, innerHeight], doc: document.documentElement.scrollWidth,
          host: [{HOST}.scrollWidth, {HOST}.clientWidth], log: [log.scrollWidth, log.clientWidth],
          bar: [R.querySelector('.bar').scrollWidth, R.querySelector('.bar').clientWidth, Math.round(bar.height)],
          outside: controls.filter(e => {{ const r = e.getBoundingClientRect(); return r.right > bar.right + 0.5 || r.left < bar.left - 0.5 || r.top < bar.top - 0.5 || r.bottom > bar.bottom + 0.5; }}).map(e => e.className),
          chips: [...R.querySelectorAll('.lvchip')].filter(c => c.offsetParent !== null).length,
        }};""")
    assert metrics["viewport"] == [900, 500], metrics
    assert metrics["doc"] <= 900, metrics
    assert metrics["host"][0] <= metrics["host"][1], metrics
    assert metrics["log"][0] <= metrics["log"][1], metrics
    assert metrics["bar"][0] <= metrics["bar"][1] and metrics["bar"][2] <= 34, metrics  # one row
    assert metrics["outside"] == [], metrics
    assert metrics["chips"] == 5, metrics
    screenshot(browser, "pane-embed-900x500.png")
    # The "more" menu opens inside the pane.
    js(browser, f"{PANE}.querySelector('.more').click()")
    menu = js(browser, f"""const m = {PANE}.querySelector('.extra').getBoundingClientRect(), h = {HOST}.getBoundingClientRect();
        return [m.left >= h.left, m.right <= h.right, m.bottom <= h.bottom, m.width > 0, getComputedStyle({PANE}.querySelector('.extra .label')).display !== 'none']""")
    assert menu == [True, True, True, True, True], menu
    screenshot(browser, "pane-embed-900x500-menu.png")
    # Maximise and close: events for the page; a page that handles neither gets the pane's own.
    js(browser, f"""window.__events = []; {HOST}.removeAttribute('pane-controls');
        for (const n of ['docktail-maximize', 'docktail-close']) document.addEventListener(n, (e) => window.__events.push([n, e.bubbles, e.composed]));
        {PANE}.querySelector('.maximize').click();""")
    assert js(browser, "return window.__events") == [["docktail-maximize", True, True]]
    assert js(browser, f"const r = {HOST}.getBoundingClientRect(); return [{HOST}.getAttribute('maximized'), r.width, r.height, {PANE}.querySelector('.maximize').getAttribute('aria-pressed')]") == ["overlay", 900, 500, "true"]
    js(browser, f"{PANE}.querySelector('.close-pane').click()")
    wait_for(lambda: js(browser, f"return {HOST} === null"), message="closed")
    assert js(browser, "return window.__events")[-1] == ["docktail-close", True, True]
    engine.docker("rm", "-f", "pane-embed")
