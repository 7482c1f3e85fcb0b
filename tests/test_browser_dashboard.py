"""The dashboard in a real headless Chromium against docktail and a real engine: the list grouped
by compose project and kept in place from /events (focus, ticks, scroll and the row elements
themselves survive a flapping container), the uptime column that refreshes by itself, the phone
layout (a list, then a pane drawer; no horizontal overflow; 44 px tap targets), six panes at once
on a desktop, maximise and close, one shared and remembered theme switch, embed mode's attributes
over stored preferences, and the readable layout URL.

Screenshots of the light, dark and phone layouts land in tests/artifacts/ (git-ignored)."""
import json
import os
import re
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from selenium.webdriver.common.by import By

from helpers import ROOT, Docktail
from test_browser import browser, serve_page, wait_for  # noqa: F401  (the shared selenium setup)

ARTIFACTS = os.path.join(ROOT, "tests", "artifacts")


def screenshot(d, name):
    os.makedirs(ARTIFACTS, exist_ok=True)
    d.save_screenshot(os.path.join(ARTIFACTS, name))


def viewport(d, width, height, mobile=False):
    """The page's viewport, exactly (the window's size would include the browser's own chrome)."""
    d.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": mobile})
    d.execute_cdp_cmd("Emulation.setTouchEmulationEnabled", {"enabled": mobile, "maxTouchPoints": 5 if mobile else 1})


@pytest.fixture(autouse=True)
def _clean_page(browser):
    """Each test starts at 1366×768 and leaves a blank page behind (no pane keeps a stream open)."""
    viewport(browser, 1366, 768)
    yield
    browser.get("about:blank")
    browser.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})
    browser.execute_cdp_cmd("Emulation.setTouchEmulationEnabled", {"enabled": False})


def compose(project, service):
    return ("--label", f"com.docker.compose.project={project}", "--label", f"com.docker.compose.service={service}")


def run_all(engine, specs):
    """Starts containers in parallel: [(name, script, extra)]."""
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(lambda s: engine.run(s[0], s[1], extra=s[2] if len(s) > 2 else ()), specs))


@pytest.fixture
def made(engine):
    """Starts containers ([(name, script, extra)], in parallel) and removes them after the test, whatever happens."""
    names = []

    def run(specs):
        names.extend(s[0] for s in specs)
        run_all(engine, specs)
    yield run
    if names:
        engine.docker("rm", "-f", *names, check=False)


def talker(word):
    return f'i=1; while true; do echo "{word} $i"; i=$((i+1)); sleep 0.3; done'


def rows(d, section):
    return d.execute_script(f"return [...document.querySelectorAll('{section} tbody tr')].map(r => r.dataset.name)")


def row_js(name):
    return f"document.querySelector('tr[data-name=\"{name}\"]')"


def url_query(d):
    return d.execute_script("return location.search")


def pane_count(d):
    return d.execute_script("return document.querySelectorAll('#grid docktail-log').length")


def open_dashboard(d, server, query=""):
    d.get(server.url(f"/{query}"))
    wait_for(lambda: d.execute_script("return document.querySelectorAll('#containers tr').length > 0"), message="the list")


def test_grouped_by_project_state_not_said_twice_and_side_by_side(browser, server, engine, made):
    made([
        ("dshg-web", talker("web"), compose("dshg", "web")),
        ("dshg-db", talker("db"), compose("dshg", "db")),
        ("dshg-job", 'echo "job ran"; exit 3', compose("dshg", "job")),
        ("dshg-solo", "sleep 600"),
    ])
    engine.wait_exit("dshg-job")
    open_dashboard(browser, server)
    section = 'section.group[data-kind="project"][data-group="dshg"]'
    wait_for(lambda: rows(browser, section) == ["dshg-db", "dshg-job", "dshg-web"], message="the project's rows, by name")
    head = lambda part: browser.execute_script(f"return document.querySelector('{section} .group-head {part}').textContent")  # noqa: E731
    assert head(".kind") == "project" and head(".group-count") == "3"
    wait_for(lambda: head(".group-summary") == "2 running · 1 exited", message="state summary")
    # Without a project: under its engine, and only there.
    assert "dshg-solo" in rows(browser, 'section.group[data-kind="host"][data-group="local"]')
    # State in the badge; the time column says what the badge does not: uptime, or the exit code and when.
    cells = lambda name: browser.execute_script(f"const r = {row_js(name)}; return [r.querySelector('.badge').textContent, r.querySelector('td.status').textContent]")  # noqa: E731
    badge, status = cells("dshg-web")
    assert badge == "running" and re.fullmatch(r"<1m|\d+m", status), (badge, status)
    badge, status = wait_for(lambda: (x := cells("dshg-job")) and x[1].startswith("exit") and x, message="exit code")
    assert badge == "exited" and re.fullmatch(r"exit 3 · (<1m|\d+m) ago", status), (badge, status)
    assert "Exited" not in status and "Up" not in cells("dshg-web")[1]
    screenshot(browser, "dashboard-light.png")

    # "side by side": each member in a pane of its own, in the readable URL; again closes them.
    browser.execute_script(f"document.querySelector('{section} .tail-members').click()")
    wait_for(lambda: pane_count(browser) == 3, message="three panes")
    assert url_query(browser) == "?c=local/dshg-db,local/dshg-job,local/dshg-web"
    assert browser.execute_script("return [...document.querySelectorAll('#grid docktail-log')].map(p => p.getAttribute('container'))") == ["dshg-db", "dshg-job", "dshg-web"]
    assert browser.execute_script(f"return document.querySelector('{section} .tail-members').getAttribute('aria-pressed')") == "true"
    assert browser.execute_script(f"return [...document.querySelectorAll('{section} tbody input[type=checkbox]')].every(b => b.checked)")
    browser.execute_script(f"document.querySelector('{section} .tail-members').click()")
    wait_for(lambda: pane_count(browser) == 0, message="panes closed")
    assert url_query(browser) == ""
    # "tail this group": one merged pane.
    browser.execute_script(f"document.querySelector('{section} .tail-group').click()")
    wait_for(lambda: browser.execute_script("return document.querySelector('#grid docktail-log[group=\"project/dshg\"]') !== null"), message="group pane")
    assert url_query(browser) == "?g=project/dshg"


def test_rows_update_in_place_through_a_flapping_container(browser, server, engine, made):
    fillers = [f"dshf-{i:02d}" for i in range(14)]
    made([(n, "sleep 600", compose("dshf", "filler")) for n in fillers] + [("dshf-flap", talker("flap"), compose("dshf", "flap"))])
    viewport(browser, 1366, 400)
    open_dashboard(browser, server, "?c=local/dshf-flap")
    wait_for(lambda: len(rows(browser, 'section[data-group="dshf"]')) == 15, message="15 rows")
    wait_for(lambda: browser.execute_script(f"return {row_js('dshf-flap')}.querySelector('.badge').textContent") == "running", message="running")
    # Mark every row and section element, focus the flapper's tick box, tick another row, scroll the list.
    state = browser.execute_script(f"""
        const aside = document.querySelector('aside');
        document.querySelectorAll('#containers tr, #containers section').forEach(e => e.__mark = 'kept');
        window.__row = {row_js('dshf-flap')};
        window.__focus = window.__row.querySelector('input[type=checkbox]');
        {row_js('dshf-03')}.querySelector('input[type=checkbox]').click();
        window.__picked = {row_js('dshf-03')}.querySelector('input[type=checkbox]');
        window.__focus.focus();
        aside.scrollTop = Math.floor((aside.scrollHeight - aside.clientHeight) / 2);
        window.__removed = 0; window.__badges = []; window.__widths = new Set();
        const badge = window.__row.querySelector('.badge');
        new MutationObserver((ms) => {{
            for (const m of ms) for (const n of m.removedNodes) if (n.nodeName === 'TR' || n.nodeName === 'SECTION') window.__removed++;
        }}).observe(document.getElementById('containers'), {{childList: true, subtree: true}});
        new MutationObserver(() => {{
            window.__badges.push(badge.textContent);
            window.__widths.add(badge.getBoundingClientRect().width);
        }}).observe(badge, {{childList: true, characterData: true, subtree: true, attributes: true}});
        const r = window.__row.getBoundingClientRect();
        const cell = document.querySelector('#grid .cell').getBoundingClientRect();
        return {{scroll: aside.scrollTop, row: [r.x, r.y, r.width, r.height], cell: [cell.x, cell.y, cell.width, cell.height],
                 width: badge.getBoundingClientRect().width}};""")
    assert state["scroll"] > 40, state  # the list scrolls, and is scrolled halfway
    wait_for(lambda: "dshf-03" in url_query(browser), message="the ticked row in the layout")
    # Restarts every second or so (each one: kill, die, stop, start, restart events), then a stop and a start.
    for _ in range(5):
        engine.docker("restart", "-t", "0", "dshf-flap")
        time.sleep(0.4)
    engine.docker("stop", "-t", "0", "dshf-flap")
    wait_for(lambda: browser.execute_script("return window.__row.querySelector('.badge').textContent") == "exited", message="exited")
    exited = browser.execute_script("return window.__row.querySelector('td.status').textContent")
    assert exited.startswith("exit 137"), exited
    engine.docker("start", "dshf-flap")
    wait_for(lambda: browser.execute_script("return window.__row.querySelector('.badge').textContent") == "running", message="running again")
    time.sleep(1.5)  # the list's re-sync after the events has come and gone
    after = browser.execute_script(f"""
        const aside = document.querySelector('aside');
        const r = window.__row.getBoundingClientRect();
        const cell = document.querySelector('#grid .cell').getBoundingClientRect();
        return {{same: {row_js('dshf-flap')} === window.__row, focused: document.activeElement === window.__focus,
                 marked: [...document.querySelectorAll('#containers tr, #containers section')].every(e => e.__mark === 'kept'),
                 picked: window.__picked.isConnected && window.__picked.checked, removed: window.__removed,
                 badges: window.__badges, widths: [...window.__widths], scroll: aside.scrollTop,
                 row: [r.x, r.y, r.width, r.height], cell: [cell.x, cell.y, cell.width, cell.height]}};""")
    assert after["same"] and after["marked"], after
    assert after["focused"], after
    assert after["picked"], after
    assert after["removed"] == 0, after
    assert after["scroll"] == state["scroll"], after
    # The badge changed many times, and nothing moved: not the row, not its badge's width, not the pane.
    assert len(after["badges"]) >= 6 and {"exited", "running"} <= set(after["badges"]), after["badges"]
    assert after["widths"] == [state["width"]], after
    assert after["row"] == state["row"] and after["cell"] == state["cell"], (state, after)


def test_uptime_refreshes_by_itself(browser, server, engine, made):
    made([("dshu-up", "sleep 600"), ("dshu-done", "exit 0")])
    engine.wait_exit("dshu-done")
    open_dashboard(browser, server)
    status = lambda name: browser.execute_script(f"return {row_js(name)}.querySelector('td.status').textContent")  # noqa: E731
    wait_for(lambda: status("dshu-up") == "<1m" and status("dshu-done") == "exit 0 · <1m ago", message="fresh times")
    # The cell says when the container started, as the engine has it (to the second).
    started = engine.docker("inspect", "-f", "{{.State.StartedAt}}", "dshu-up")
    skew = browser.execute_script(f"""
        const title = {row_js('dshu-up')}.querySelector('td.status').title;
        const m = /^up since (\\d\\d):(\\d\\d):(\\d\\d)$/.exec(title);
        if (!m) return title;
        const d = new Date(); d.setHours(+m[1], +m[2], +m[3], 0);
        return Math.abs(d.getTime() - Date.parse('{started}'.replace(/(\\.\\d{{3}})\\d+/, '$1')));""")
    assert isinstance(skew, int) and skew <= 2000, skew
    # Two hours and five minutes later, by the page's clock: the column follows within ~30 s,
    # without a reload or an event, in the same cells.
    browser.execute_script(f"""
        window.__cells = [{row_js('dshu-up')}.querySelector('td.status'), {row_js('dshu-done')}.querySelector('td.status')];
        const real = Date.now.bind(Date);
        Date.now = () => real() + (2 * 3600 + 5 * 60) * 1000;""")
    wait_for(lambda: re.fullmatch(r"2h 0[56]m", status("dshu-up")), timeout=36, interval=0.5, message="uptime refreshed")
    assert re.fullmatch(r"exit 0 · 2h 0[56]m ago", status("dshu-done")), status("dshu-done")
    assert browser.execute_script(f"return window.__cells[0] === {row_js('dshu-up')}.querySelector('td.status') && window.__cells[1].isConnected")


TAP_TARGETS = """
    const out = [];
    for (const el of document.querySelectorAll(arguments[0])) {
        if (el.closest('[hidden]') || getComputedStyle(el).visibility === 'hidden') continue;
        const r = el.getBoundingClientRect();
        if (r.width === 0 && r.height === 0) continue;
        if (r.width < 44 || r.height < 44) out.push([el.className || el.tagName, el.textContent.trim().slice(0, 30), Math.round(r.width), Math.round(r.height)]);
    }
    return out;"""
LIST_TARGETS = ("header.top button, header.top input[type=search], header.top label, header.top a, "
                "#containers button, #containers a, #containers label.pickbox, #show-panes")
DRAWER_TARGETS = ".cell[data-active] header button, .cell[data-active] header a, #tabs button"


def no_overflow(d):
    return d.execute_script("return [document.documentElement.scrollWidth, innerWidth]")


def test_phone_list_first_then_a_pane_drawer(browser, server, made):
    made([
        ("dshp-web", talker("web"), compose("dshp", "web")),
        ("dshp-api-with-a-rather-long-name", talker("api"), compose("dshp", "api")),
        ("dshp-job", "exit 2", compose("dshp", "job")),
    ])
    viewport(browser, 390, 844, mobile=True)
    open_dashboard(browser, server)
    section = 'section[data-group="dshp"]'
    wait_for(lambda: len(rows(browser, section)) == 3, message="the project's rows")
    assert browser.execute_script("return innerWidth") == 390
    width, inner = no_overflow(browser)
    assert width <= inner, (width, inner)
    small = browser.execute_script(TAP_TARGETS, LIST_TARGETS)
    assert small == [], small
    # The list is the page: the drawer is out of sight and out of reach.
    assert browser.execute_script("return getComputedStyle(document.getElementById('panes')).visibility") == "hidden"
    screenshot(browser, "phone-list.png")
    # Opening a container slides its pane over the list.
    browser.find_element(By.CSS_SELECTOR, 'tr[data-name="dshp-web"] a.cname').click()
    wait_for(lambda: browser.execute_script("return document.getElementById('panes').getBoundingClientRect().x") == 0, message="the drawer in place")
    assert browser.execute_script("return document.body.classList.contains('drawer-open')")
    assert url_query(browser) == "?c=local/dshp-web"
    pane = "document.querySelector('.cell[data-active] docktail-log')"
    assert browser.execute_script(f"return {pane}.getAttribute('container')") == "dshp-web"
    wait_for(lambda: browser.execute_script(f"return {pane}.shadowRoot.querySelectorAll('.line').length") > 0, message="lines in the drawer")
    r = browser.execute_script(f"const r = {pane}.getBoundingClientRect(); return [r.x, r.width, r.bottom, innerHeight]")
    assert r[0] == 0 and r[1] == 390 and r[2] <= r[3], r
    width, inner = no_overflow(browser)
    assert width <= inner, (width, inner)
    assert browser.execute_script(TAP_TARGETS, DRAWER_TARGETS) == []
    screenshot(browser, "phone-drawer.png")
    # ‹ back: the list again, as it was; the pane stays open behind the "1 pane ›" button.
    browser.find_element(By.CSS_SELECTOR, ".cell[data-active] .back").click()
    wait_for(lambda: browser.execute_script("return getComputedStyle(document.getElementById('panes')).visibility") == "hidden", message="drawer closed")
    assert browser.find_element(By.ID, "show-panes").text == "1 pane ›"
    # A second pane ("side by side" on a phone: panes as tabs); the browser's Back closes the drawer too.
    browser.execute_script(f"document.querySelector('{section} .tail-members').click()")
    wait_for(lambda: browser.execute_script("return document.getElementById('panes').getBoundingClientRect().x") == 0, message="drawer open again")
    wait_for(lambda: browser.execute_script("return document.querySelectorAll('#tabs .tab').length") == 3, message="a tab per pane")
    # It shows the first member; the pane opened before is a tab away.
    assert browser.execute_script("return document.querySelector('.cell[data-active] docktail-log').getAttribute('container')") == "dshp-api-with-a-rather-long-name"
    assert browser.execute_script(TAP_TARGETS, DRAWER_TARGETS) == []
    width, inner = no_overflow(browser)
    assert width <= inner, (width, inner)
    browser.find_element(By.CSS_SELECTOR, "#tabs .tab:first-child").click()
    assert browser.execute_script("return document.querySelector('.cell[data-active] docktail-log').getAttribute('container')") == "dshp-web"
    screenshot(browser, "phone-drawer-tabs.png")
    browser.back()
    wait_for(lambda: not browser.execute_script("return document.body.classList.contains('drawer-open')"), message="Back closed the drawer")
    assert browser.current_url.startswith(server.url("/")) and "c=local/dshp-web" in url_query(browser)
    assert browser.find_element(By.ID, "show-panes").text == "3 panes ›"


CELLS = """return [...document.querySelectorAll('#grid .cell')].map(c => {
    const r = c.getBoundingClientRect(), p = c.querySelector('docktail-log').getBoundingClientRect();
    return {x: r.x, y: r.y, right: r.right, bottom: r.bottom, w: r.width, h: r.height, paneH: p.height,
            lines: c.querySelector('docktail-log').shadowRoot.querySelectorAll('.line').length};
});"""


def all_visible(d, min_w=260, min_h=180):
    cells = d.execute_script(CELLS)
    vw, vh = d.execute_script("return [innerWidth, innerHeight]")
    grid = d.execute_script("const g = document.getElementById('grid'); return [g.scrollHeight, g.clientHeight, g.scrollWidth, g.clientWidth]")
    problems = []
    if len(cells) != 6:
        problems.append(f"{len(cells)} cells")
    for i, c in enumerate(cells):
        if c["x"] < 0 or c["y"] < 0 or c["right"] > vw or c["bottom"] > vh:
            problems.append(f"cell {i} outside the viewport: {c}")
        if c["w"] < min_w or c["paneH"] < min_h:
            problems.append(f"cell {i} too small: {c}")
        for j, o in enumerate(cells[:i]):
            if c["x"] < o["right"] and o["x"] < c["right"] and c["y"] < o["bottom"] and o["y"] < c["bottom"]:
                problems.append(f"cells {j} and {i} overlap")
    if grid[0] > grid[1] + 1 or grid[2] > grid[3] + 1:
        problems.append(f"the grid scrolls: {grid}")
    return problems, cells


def test_six_panes_visible_at_once(browser, server, made):
    names = [f"dshs-{i}" for i in range(1, 7)]
    made([(n, talker(n)) for n in names])
    open_dashboard(browser, server, "?c=" + ",".join(f"local/{n}" for n in names))
    wait_for(lambda: pane_count(browser) == 6, message="six panes")
    for w, h, shot in ((1366, 768, "desktop-1366-six-panes.png"), (1920, 1080, "desktop-1920-six-panes.png")):
        viewport(browser, w, h)
        problems = wait_for(lambda: (p := all_visible(browser)) and not p[0] and all(c["lines"] > 0 for c in p[1]) and p,
                            message=f"six panes visible at {w}×{h}: {all_visible(browser)[0]}")
        assert problems[0] == []
        screenshot(browser, shot)
    # The sidebar folds away (remembered), and the panes take the room.
    viewport(browser, 1366, 768)
    wait_for(lambda: not all_visible(browser)[0], message="six panes at 1366×768")
    area = lambda c: c["w"] * c["h"]  # noqa: E731
    before = area(all_visible(browser)[1][0])
    browser.find_element(By.ID, "sidebar-toggle").click()
    assert browser.execute_script("return getComputedStyle(document.querySelector('aside')).display") == "none"
    wait_for(lambda: (p := all_visible(browser)) and not p[0] and area(p[1][0]) > before * 1.3, message="larger panes")
    screenshot(browser, "desktop-1366-sidebar-folded.png")
    browser.refresh()
    wait_for(lambda: pane_count(browser) == 6, message="six panes again")
    assert browser.execute_script("return getComputedStyle(document.querySelector('aside')).display") == "none"
    assert browser.find_element(By.ID, "sidebar-toggle").get_attribute("aria-expanded") == "false"
    browser.find_element(By.ID, "sidebar-toggle").click()
    assert browser.execute_script("return getComputedStyle(document.querySelector('aside')).display") != "none"


def own_or_wrapper_button(d, key, what):
    """The pane's own ⤢/× if its toolbar has them, else the dashboard wrapper's: clicked for real."""
    return d.execute_script(f"""
        const cell = document.querySelector('#grid .cell[data-pane="{key}"]');
        const mine = cell.querySelector('header .{'max' if what == 'max' else 'close'}');
        if (mine.offsetParent !== null) {{ mine.click(); return 'wrapper'; }}
        const pane = cell.querySelector('docktail-log');
        const re = {'/maxim/i' if what == 'max' else '/close/i'};
        const own = [...pane.shadowRoot.querySelectorAll('button')].find(b => re.test(b.className + ' ' + b.title + ' ' + (b.getAttribute('aria-label') || '')));
        own.click();
        return 'pane';""")


def test_maximise_and_close(browser, server, made):
    names = ["dshm-a", "dshm-b", "dshm-c"]
    made([(n, talker(n)) for n in names])
    open_dashboard(browser, server, "?c=" + ",".join(f"local/{n}" for n in names))
    wait_for(lambda: pane_count(browser) == 3, message="three panes")
    grid_rect = "const g = document.getElementById('grid').getBoundingClientRect(); return [g.width, g.height]"
    shown = "return [...document.querySelectorAll('#grid .cell')].filter(c => c.offsetParent !== null).map(c => c.dataset.pane)"
    # The pane's toolbar asks (docktail-maximize from inside its shadow root): that pane fills the area.
    dispatch = lambda key, ev: browser.execute_script(  # noqa: E731
        f"document.querySelector('#grid .cell[data-pane=\"{key}\"] docktail-log').shadowRoot.firstElementChild"
        f".dispatchEvent(new CustomEvent('{ev}', {{bubbles: true, composed: true}}))")
    dispatch("c:local/dshm-b", "docktail-maximize")
    assert browser.execute_script(shown) == ["c:local/dshm-b"]
    gw, gh = browser.execute_script(grid_rect)
    cw, ch = browser.execute_script("const r = document.querySelector('.cell.maximised').getBoundingClientRect(); return [r.width, r.height]")
    assert cw >= gw - 20 and ch >= gh - 20, (cw, ch, gw, gh)
    assert browser.execute_script("return document.querySelector('.cell.maximised docktail-log').hasAttribute('maximized')")
    screenshot(browser, "desktop-maximised.png")
    dispatch("c:local/dshm-b", "docktail-maximize")
    assert browser.execute_script(shown) == ["c:local/dshm-a", "c:local/dshm-b", "c:local/dshm-c"]
    # The buttons (the pane's own when it has them, else the wrapper's); Esc restores.
    how = own_or_wrapper_button(browser, "c:local/dshm-c", "max")
    assert browser.execute_script(shown) == ["c:local/dshm-c"], how
    browser.find_element(By.TAG_NAME, "body").send_keys("\ue00c")  # Escape
    wait_for(lambda: len(browser.execute_script(shown)) == 3, message="restored by Esc")
    # Close: out of the layout, the URL and the list's ticks; its stream ends with it.
    browser.execute_script("window.__closed = document.querySelector('#grid .cell[data-pane=\"c:local/dshm-a\"] docktail-log')")
    dispatch("c:local/dshm-a", "docktail-close")
    wait_for(lambda: pane_count(browser) == 2, message="closed by the pane's event")
    assert url_query(browser) == "?c=local/dshm-b,local/dshm-c"
    assert not browser.execute_script("return window.__closed.isConnected")
    assert not browser.execute_script(f"return {row_js('dshm-a')}.querySelector('input[type=checkbox]').checked")
    own_or_wrapper_button(browser, "c:local/dshm-b", "close")
    wait_for(lambda: pane_count(browser) == 1, message="closed by its button")
    assert url_query(browser) == "?c=local/dshm-c"


def pane_bg(d, selector="#grid docktail-log"):
    return d.execute_script(f"return [...document.querySelectorAll('{selector}')].map(p => getComputedStyle(p).backgroundColor)")


DARK_BG = "rgb(13, 17, 23)"
LIGHT_BG = "rgb(255, 255, 255)"


def test_theme_switch_shared_and_persisted(browser, server, made):
    made([("dsht-a", talker("a")), ("dsht-b", talker("b"))])
    browser.get(server.url("/favicon.svg"))
    browser.execute_script("localStorage.clear()")
    open_dashboard(browser, server, "?c=local/dsht-a,local/dsht-b")
    wait_for(lambda: pane_count(browser) == 2, message="two panes")
    page_bg = lambda: browser.execute_script("return getComputedStyle(document.body).backgroundColor")  # noqa: E731
    assert pane_bg(browser) == [LIGHT_BG, LIGHT_BG] and page_bg() == LIGHT_BG
    # The page's switch restyles the open panes at once, and is remembered.
    browser.find_element(By.ID, "theme").click()
    assert browser.execute_script("return document.documentElement.dataset.theme") == "dark"
    assert pane_bg(browser) == [DARK_BG, DARK_BG] and page_bg() == DARK_BG
    assert browser.execute_script("return localStorage.getItem('docktail-theme')") == "dark"
    wait_for(lambda: all(browser.execute_script("return [...document.querySelectorAll('#grid docktail-log')].map(p => p.shadowRoot.querySelectorAll('.line').length > 0)")), message="lines")
    screenshot(browser, "dashboard-dark.png")
    browser.refresh()
    wait_for(lambda: pane_count(browser) == 2, message="panes after reload")
    assert pane_bg(browser) == [DARK_BG, DARK_BG] and page_bg() == DARK_BG
    # A pane's own switch is the same switch: the page and the other pane follow, remembered.
    browser.execute_script("""
        const pane = document.querySelector('#grid docktail-log');
        const own = pane.shadowRoot.querySelector('button.theme') || [...pane.shadowRoot.querySelectorAll('button')].find(b => /theme|light|dark/i.test(b.title));
        own.click();""")
    wait_for(lambda: pane_bg(browser) == [LIGHT_BG, LIGHT_BG] and page_bg() == LIGHT_BG, message="light everywhere")
    assert browser.execute_script("return localStorage.getItem('docktail-theme')") == "light"
    # Another tab's pick reaches this one (the storage event).
    main = browser.current_window_handle
    browser.switch_to.new_window("tab")
    browser.get(server.url("/"))
    browser.find_element(By.ID, "theme").click()
    browser.close()
    browser.switch_to.window(main)
    wait_for(lambda: pane_bg(browser) == [DARK_BG, DARK_BG] and page_bg() == DARK_BG, message="dark from the other tab")
    # The phone layout, dark, with a pane open.
    viewport(browser, 390, 844, mobile=True)
    browser.find_element(By.CSS_SELECTOR, 'tr[data-name="dsht-a"] a.cname').click()
    wait_for(lambda: browser.execute_script("return document.getElementById('panes').getBoundingClientRect().x") == 0, message="drawer")
    screenshot(browser, "phone-drawer-dark.png")
    browser.execute_script("localStorage.clear()")


def test_embed_attributes_win_over_stored_preferences(browser, binary, engine, made):
    made([("dshe", 'i=1; while [ $i -le 20 ]; do echo "embedded $i"; i=$((i+1)); done; sleep 600')])
    httpd, folder, origin = serve_page()
    d = Docktail(binary, engine_url=engine.url, config={"allowedOrigins": [origin]})
    try:
        browser.get(d.url("/favicon.svg"))
        browser.execute_script("localStorage.setItem('docktail-theme', 'light')")
        pane = "document.querySelector('docktail-log')"
        lines = lambda: browser.execute_script(f"return [...{pane}.shadowRoot.querySelectorAll('.line:not(.event) .text')].map(e => e.textContent)")  # noqa: E731
        # The iframe mode: ?embed=1&theme=dark and the other attributes, over the stored "light".
        browser.get(d.url("/logs/dshe?embed=1&theme=dark&tail=3&timestamps=local&wrap=0"))
        wait_for(lambda: lines() == ["embedded 18", "embedded 19", "embedded 20"], message="the last 3 lines")
        assert browser.execute_script("return document.body.classList.contains('embed')")
        assert browser.execute_script("return getComputedStyle(document.querySelector('.top')).display") == "none"
        assert browser.execute_script("return document.documentElement.dataset.theme") == "dark"
        assert browser.execute_script(f"return {pane}.getAttribute('theme')") == "dark"
        assert pane_bg(browser, "docktail-log") == [DARK_BG]
        assert browser.execute_script(f"return [{pane}.getAttribute('timestamps'), {pane}.getAttribute('wrap')]") == ["local", "0"]
        screenshot(browser, "embed-dark.png")
        # Switching there applies there, and is not stored over the user's own choice.
        toggle = f"const p = {pane}; (p.shadowRoot.querySelector('button.theme') || [...p.shadowRoot.querySelectorAll('button')].find(b => /theme|light|dark/i.test(b.title))).click()"
        browser.execute_script(toggle)
        wait_for(lambda: pane_bg(browser, "docktail-log") == [LIGHT_BG], message="toggled")
        browser.execute_script(toggle)
        wait_for(lambda: pane_bg(browser, "docktail-log") == [DARK_BG], message="toggled back")
        assert browser.execute_script("return localStorage.getItem('docktail-theme')") == "light"
        # Without an explicit theme the stored one applies.
        browser.get(d.url("/logs/dshe?embed=1&tail=3"))
        wait_for(lambda: len(lines()) == 3, message="lines")
        assert pane_bg(browser, "docktail-log") == [LIGHT_BG]
        # The component on another site: its attributes win over that site's stored preferences.
        with open(os.path.join(folder, "index.html"), "w") as f:
            f.write(f"""<!doctype html><html><head><meta charset="utf-8"><title>lab</title>
<script>localStorage.setItem('docktail-theme', 'light'); localStorage.setItem('docktail-timestamps', 'off'); localStorage.setItem('docktail-wrap', '1');</script>
<script type="module" src="{d.url('/docktail-log.js')}"></script></head><body>
<docktail-log server="{d.url('')}" container="dshe" tail="2" theme="dark" timestamps="local" wrap="0" height="300"></docktail-log></body></html>""")
        browser.get(origin + "/index.html")
        wait_for(lambda: lines() == ["embedded 19", "embedded 20"], message="the component's lines")
        assert pane_bg(browser, "docktail-log") == [DARK_BG]
        assert browser.execute_script(f"return [{pane}.getAttribute('theme'), {pane}.getAttribute('timestamps'), {pane}.getAttribute('wrap')]") == ["dark", "local", "0"]
        # Its effect, not just the attribute: local time stamps shown, lines not wrapped.
        shown = browser.execute_script(f"""
            const root = {pane}.shadowRoot, line = root.querySelector('.line:not(.event)');
            const ts = line.querySelector('.ts, time, [class*="time"]');
            return [ts ? getComputedStyle(ts).display !== 'none' && ts.textContent.trim().length > 0 : null,
                    getComputedStyle(line.querySelector('.text')).whiteSpace];""")
        assert shown[0] in (True, None), shown
        assert shown[1] in ("pre", "nowrap"), shown
    finally:
        d.stop()
        httpd.shutdown()


def test_readable_layout_url_round_trip(browser, server, made):
    made([
        ("dshl-web", talker("web"), compose("dshl", "web")),
        ("dshl-api", talker("api"), compose("dshl", "api")),
        ("dshl-x", talker("x")),
    ])
    panes = lambda: browser.execute_script("return [...document.querySelectorAll('#grid docktail-log')].map(p => p.getAttribute('container') || 'g:' + p.getAttribute('group'))")  # noqa: E731
    open_dashboard(browser, server, "?c=local/dshl-web,local/dshl-api&g=project/dshl")
    wait_for(lambda: panes() == ["dshl-web", "dshl-api", "g:project/dshl"], message="the layout from the URL")
    assert url_query(browser) == "?c=local/dshl-web,local/dshl-api&g=project/dshl"
    wait_for(lambda: browser.execute_script(f"return {row_js('dshl-x')} !== null"), message="row")
    browser.execute_script(f"{row_js('dshl-x')}.querySelector('input[type=checkbox]').click()")
    assert url_query(browser) == "?c=local/dshl-web,local/dshl-api,local/dshl-x&g=project/dshl"
    # The URL is the layout: opened again, the same panes in the same order.
    browser.get(browser.current_url)
    wait_for(lambda: panes() == ["dshl-web", "dshl-api", "dshl-x", "g:project/dshl"], message="round trip")
    # The earlier, encoded format still opens, and is written back readable; other parameters stay.
    open_dashboard(browser, server, "?view=1&c=local%2Fdshl-web%2Clocal%2Fdshl-api&g=project%2Fdshl")
    wait_for(lambda: panes() == ["dshl-web", "dshl-api", "g:project/dshl"], message="the old format")
    assert url_query(browser) == "?view=1&c=local/dshl-web,local/dshl-api&g=project/dshl"


def test_time_column_and_layout_url_rules(browser, server):
    """The pure rules behind the time column and the layout URL, run as the page runs them."""
    browser.get(server.url("/favicon.svg"))
    out = browser.execute_async_script("""
        const done = arguments[arguments.length - 1];
        Promise.all([import('/js/container-time.js'), import('/js/layout-url.js')]).then(([t, u]) => {
            const at = Date.parse('2026-11-30T12:00:00Z');
            const cell = (c, later) => t.timeCell(c, at + later).text;
            const fromStatus = (state, status) => {
                const s = t.parseStatus(status);
                return {state, status, health: s.health, exitCode: s.exitCode,
                        started: s.up && t.intervalBefore(at, s.up), stopped: s.ago && t.intervalBefore(at, s.ago)};
            };
            done({
                running: cell(fromStatus('running', 'Up 3 seconds'), 0),
                minutes: cell(fromStatus('running', 'Up 5 minutes'), 0),
                hoursCoarse: cell(fromStatus('running', 'Up 2 hours'), 0),
                hoursFine: cell(fromStatus('running', 'Up 3 seconds'), (2 * 3600 + 5 * 60) * 1000),
                days: cell(fromStatus('running', 'Up 3 seconds'), (3 * 86400 + 4 * 3600) * 1000),
                healthy: cell(fromStatus('running', 'Up 5 minutes (unhealthy)'), 0),
                paused: cell(fromStatus('paused', 'Up 7 minutes (Paused)'), 0),
                exited: cell(fromStatus('exited', 'Exited (137) 3 minutes ago'), 0),
                restarting: cell(fromStatus('restarting', 'Restarting (1) Less than a second ago'), 0),
                created: cell({state: 'created', status: 'Created', created: at / 1000 - 601}, 0),
                exact: cell({state: 'running', started: t.exactly(at - 61000)}, 0),
                refined: t.refine(t.intervalBefore(at, t.parseDuration('5 minutes')), t.intervalBefore(at + 90000, t.parseDuration('6 minutes'))),
                read: [u.readList('?c=local/web,local/api&g=project/shop', 'c'), u.readList('?c=local%2Fweb%2Clocal%2Fapi', 'c'),
                       u.readList('?g=label/team=a%2Cb,project/x', 'g')],
                written: u.writeLists('?token=t0&c=old', {c: ['local/web', 'local/api'], g: ['label/team=a,b', 'project/my app']}),
            });
        });""")
    assert out["running"] == "<1m" and out["minutes"] == "5m"
    assert out["hoursCoarse"] == "2h"  # "Up 2 hours" is all the engine said: no finer than that
    assert out["hoursFine"] == "2h 05m" and out["days"] == "3d 4h"
    assert out["healthy"] == "5m · unhealthy" and out["paused"] == "7m"
    assert out["exited"] == "exit 137 · 3m ago" and out["restarting"] == "exit 1 · <1m ago"
    assert out["created"] == "10m ago" and out["exact"] == "1m"
    # "5 minutes" at t, then "6 minutes" 90 s later: the start is known to 30 s.
    assert out["refined"]["hi"] - out["refined"]["lo"] == 30000, out["refined"]
    assert out["read"] == [["local/web", "local/api"], ["local/web", "local/api"], ["label/team=a,b", "project/x"]]
    assert out["written"] == "?token=t0&c=local/web,local/api&g=label/team=a%2Cb,project/my%20app"
