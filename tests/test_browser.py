"""The web UI in a real headless Chromium (Debian's chromium + chromium-driver, via selenium),
against docktail and a real engine."""
import http.server
import json
import os
import shutil
import socket
import socketserver
import threading
import time

import pytest
from selenium import webdriver
from selenium.common.exceptions import NoAlertPresentException
from selenium.webdriver.chrome.options import Options
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys

from helpers import ROOT, Docktail

ARTIFACTS = os.path.join(ROOT, "artifacts", "screenshots")
XSS = '<img src=x onerror="window.__xss=1"></script><script>window.__xss=2</script>'


@pytest.fixture(scope="module")
def browser():
    o = Options()
    for a in ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=1400,860"]:
        o.add_argument(a)
    o.binary_location = shutil.which("chromium") or "/usr/bin/chromium"
    o.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    d = webdriver.Chrome(service=Service(shutil.which("chromedriver") or "/usr/bin/chromedriver"), options=o)
    d.set_script_timeout(20)
    _current_browser.append(d)
    yield d
    d.quit()


_current_browser = []


def _browser_log():
    try:
        return _current_browser[0].get_log("browser")[-6:] if _current_browser else []
    except Exception:  # noqa: BLE001 - diagnostics only
        return []


def wait_for(fn, timeout=20, interval=0.1, message="condition"):
    deadline = time.time() + timeout
    last = None
    while time.time() < deadline:
        last = fn()
        if last:
            return last
        time.sleep(interval)
    raise AssertionError(f"timed out waiting for {message}: {last!r}; browser log: {[l['message'][:160] for l in _browser_log()]}")


PANE = "document.querySelector('docktail-log').shadowRoot"


def pane_lines(d, selector=".line:not(.event) .text"):
    return d.execute_script(f"return [...{PANE}.querySelectorAll('{selector}')].map(e => e.textContent)")


def screenshot(d, name):
    os.makedirs(ARTIFACTS, exist_ok=True)
    d.save_screenshot(os.path.join(ARTIFACTS, name))


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def test_viewer_renders_lines_styles_and_is_safe(browser, server, engine):
    script = ('i=1; while [ $i -le 30 ]; do echo "line $i"; i=$((i+1)); done; echo "oops on stderr" >&2; '
              'printf "\\033[31mred\\033[0m \\033[1;38;2;0;128;255mtruecolor\\033[0m \\033[4;38;5;208munder\\033[0m\\n"; '
              f"echo '{XSS}'; echo '{{\"level\":\"error\",\"msg\":\"json line\"}}'; echo 'level=warn careful'; sleep 600")
    engine.run("ui-view", script)
    browser.get(server.url("/logs/ui-view?tail=all"))
    lines = wait_for(lambda: (l := pane_lines(browser)) and len(l) >= 35 and l, message="35 lines")
    # In order within each stream (the engine reads stdout and stderr separately).
    assert pane_lines(browser, ".line.stdout .text")[:30] == [f"line {i}" for i in range(1, 31)]
    # stderr is styled apart.
    colors = browser.execute_script(f"""
        const lines = [...{PANE}.querySelectorAll('.line')];
        const out = lines.find(l => l.textContent.includes('line 1'));
        const err = lines.find(l => l.classList.contains('stderr'));
        return [getComputedStyle(out).color, getComputedStyle(err).color, err.textContent];""")
    assert colors[0] != colors[1] and "oops on stderr" in colors[2]
    # ANSI colours become coloured spans (16, 24-bit and 256 colours, bold, underline).
    spans = browser.execute_script(f"""
        return [...{PANE}.querySelectorAll('span.ansi')].map(s => [s.textContent, getComputedStyle(s).color, s.style.fontWeight, s.style.textDecoration]);""")
    assert ["red", "rgb(205, 49, 49)", "", ""] in spans
    assert ["truecolor", "rgb(0, 128, 255)", "bold", ""] in spans
    assert ["under", "rgb(255, 135, 0)", "", "underline"] in spans
    # Log text is data: the payload shows as text and runs nothing.
    assert XSS in lines
    assert browser.execute_script(f"return {PANE}.querySelectorAll('img, script').length") == 0
    assert browser.execute_script("return window.__xss") is None
    with pytest.raises(NoAlertPresentException):
        browser.switch_to.alert.text
    # Levels are detected, JSON lines can be expanded.
    levels = browser.execute_script(f"return [...{PANE}.querySelectorAll('.line')].map(l => [l.textContent, l.className])")
    assert any("json line" in t and "lvl-error" in c for t, c in levels)
    assert any("careful" in t and "lvl-warn" in c for t, c in levels)
    browser.execute_script(f"{PANE}.querySelector('.json-toggle').click()")
    assert "\n" in browser.execute_script(f"return {PANE}.querySelector('pre.json').textContent")
    status = browser.execute_script(f"return {PANE}.querySelector('.state').textContent")
    assert status == "live"
    # Light and dark themes: the page switch reaches the pane, and is remembered.
    bg = lambda: browser.execute_script("return getComputedStyle(document.querySelector('docktail-log')).backgroundColor")  # noqa: E731
    before = bg()
    browser.find_element(By.ID, "theme").click()
    after = bg()
    assert before != after and browser.execute_script("return localStorage.getItem('docktail-theme')") in ("dark", "light")
    browser.find_element(By.ID, "theme").click()
    assert bg() == before
    # The download/copy text has the ANSI codes stripped.
    text = browser.execute_script("return document.querySelector('docktail-log').logText()")
    assert "red truecolor under" in text and "\x1b" not in text and text.count("\n") >= 35
    screenshot(browser, "viewer.png")


def test_follow_pause_and_search(browser, server, engine):
    engine.run("ui-follow", 'i=1; while true; do echo "tick $i"; if [ $((i % 5)) -eq 0 ]; then echo "warn $i" >&2; fi; i=$((i+1)); sleep 0.05; done')
    browser.get(server.url("/logs/ui-follow?tail=all"))
    wait_for(lambda: len(pane_lines(browser)) > 60, message="lines")
    at_bottom = f"const l = {PANE}.querySelector('.log'); return l.scrollHeight - l.scrollTop - l.clientHeight < 5"
    assert browser.execute_script(at_bottom)
    # Scrolling up pauses follow and counts new lines.
    browser.execute_script(f"const l = {PANE}.querySelector('.log'); l.scrollTop = l.scrollHeight - l.clientHeight - 400; l.dispatchEvent(new Event('scroll'));")
    time.sleep(0.2)
    browser.execute_script(f"const l = {PANE}.querySelector('.log'); l.scrollTop = 0; l.dispatchEvent(new Event('scroll'));")
    button = f"{PANE}.querySelector('.newlines')"
    text = wait_for(lambda: browser.execute_script(f"const b = {button}; return !b.hidden && b.textContent"), message="new lines button")
    assert text.endswith("new lines ↓") and int(text.split()[0].replace(",", "")) > 0
    assert browser.execute_script(f"return {PANE}.querySelector('.log').scrollTop") == 0
    # One click resumes and sticks to the bottom again.
    browser.execute_script(f"{button}.click()")
    time.sleep(0.5)
    assert browser.execute_script(at_bottom)
    assert browser.execute_script(f"return {button}.hidden")
    # So does the `f` key (and End).
    browser.execute_script(f"const l = {PANE}.querySelector('.log'); l.scrollTop = 0; l.dispatchEvent(new Event('scroll'));")
    wait_for(lambda: browser.execute_script(f"return !{button}.hidden"), message="paused again")
    browser.find_element(By.TAG_NAME, "body").send_keys("f")
    time.sleep(0.5)
    assert browser.execute_script(at_bottom) and browser.execute_script(f"return {button}.hidden")
    # Search: `/` focuses the box; the count matches the lines that contain the text.
    body = browser.find_element(By.TAG_NAME, "body")
    body.send_keys("/")
    assert browser.execute_script(f"return {PANE}.activeElement && {PANE}.activeElement.className") == "search"
    browser.execute_script(f"const s = {PANE}.querySelector('.search'); s.value = '/warn \\\\d+/'; s.dispatchEvent(new Event('input'));")
    time.sleep(0.5)
    result = browser.execute_script(f"""
        const root = {PANE};
        const lines = [...root.querySelectorAll('.line:not(.event)')].map(l => l.textContent);
        return [root.querySelector('.matches').textContent, lines.filter(t => /warn \\d+/.test(t)).length, root.querySelectorAll('mark').length];""")
    count = int(result[0].split()[0].replace(",", ""))
    assert count >= result[1] > 0 and result[2] >= result[1]
    # "only" hides the rest.
    browser.execute_script(f"{PANE}.querySelector('.only').click()")
    visible = browser.execute_script(f"return [...{PANE}.querySelectorAll('.line:not(.event)')].filter(l => l.offsetParent !== null).map(l => l.textContent)")
    assert visible and all("warn" in t for t in visible)
    screenshot(browser, "viewer-search.png")
    # Esc clears the search.
    browser.execute_script(f"{PANE}.querySelector('.search').dispatchEvent(new KeyboardEvent('keydown', {{key: 'Escape', bubbles: true, composed: true}}))")
    assert browser.execute_script(f"return {PANE}.querySelector('.search').value") == ""
    engine.docker("rm", "-f", "ui-follow")


def test_reconnect_after_docktail_restart_has_no_duplicate(browser, binary, engine):
    port = free_port()
    d = Docktail(binary, engine_url=engine.url, listen=f"127.0.0.1:{port}")
    try:
        engine.run("ui-restart", 'i=1; while [ $i -le 120 ]; do echo "n $i"; i=$((i+1)); sleep 0.1; done; sleep 600')
        browser.get(d.url("/logs/ui-restart?tail=all"))
        wait_for(lambda: len(pane_lines(browser)) >= 20, message="20 lines")
        d.stop()
        wait_for(lambda: browser.execute_script(f"return {PANE}.querySelector('.state').textContent") == "reconnecting", message="reconnecting")
        time.sleep(1.5)
        d = Docktail(binary, engine_url=engine.url, listen=f"127.0.0.1:{port}")
        wait_for(lambda: len(pane_lines(browser)) >= 120, timeout=40, message="all 120 lines")
        time.sleep(0.5)
        assert pane_lines(browser) == [f"n {i}" for i in range(1, 121)]
    finally:
        d.stop()


def test_dashboard_updates_live(browser, server, engine):
    engine.run("ui-dash-a", 'i=0; while true; do i=$((i+1)); echo "{\\"level\\":\\"info\\",\\"msg\\":\\"request served\\",\\"n\\":$i}"; '
               'printf "\\033[33mWARN\\033[0m slow query \\033[1m%s ms\\033[0m\\n" $((i * 7)); '
               'if [ $((i % 3)) -eq 0 ]; then echo "ERROR upstream timeout after $i retries" >&2; fi; sleep 0.2; done')
    browser.get(server.url("/?c=local/ui-dash-a"))
    wait_for(lambda: browser.find_elements(By.CSS_SELECTOR, 'tr[data-name="ui-dash-a"]'), message="listed")
    wait_for(lambda: browser.execute_script(f"return {PANE}.querySelectorAll('.line').length") > 0, message="pane lines")
    # A container started now appears without a reload.
    engine.run("ui-dash-fresh", 'echo fresh; i=0; while true; do i=$((i+1)); echo "level=info worker=$i status=done"; sleep 0.5; done')
    wait_for(lambda: browser.find_elements(By.CSS_SELECTOR, 'tr[data-name="ui-dash-fresh"]'), message="new container row")
    # …and its state follows the lifecycle events (created, then running).
    badge = "const b = document.querySelector('tr[data-name=\"ui-dash-fresh\"] .badge'); return b && b.textContent"
    wait_for(lambda: browser.execute_script(badge) == "running", message="running")
    # Selecting it adds a pane and records the layout in the URL.
    browser.find_element(By.CSS_SELECTOR, 'tr[data-name="ui-dash-fresh"] input[type=checkbox]').click()
    wait_for(lambda: "ui-dash-fresh" in browser.current_url, message="layout in URL")
    assert len(browser.find_elements(By.CSS_SELECTOR, "docktail-log")) == 2
    # Filter box.
    browser.find_element(By.ID, "filter").send_keys("fresh")
    assert [r.get_attribute("data-name") for r in browser.find_elements(By.CSS_SELECTOR, "tbody tr")] == ["ui-dash-fresh"]
    browser.execute_script("const f = document.getElementById('filter'); f.value = ''; f.dispatchEvent(new Event('input'));")
    wait_for(lambda: len(browser.find_elements(By.CSS_SELECTOR, "tbody tr")) >= 2, message="unfiltered list")
    time.sleep(1)
    screenshot(browser, "dashboard.png")


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


def serve_page():
    """Serves a folder on another origin (another loopback port), like a lab's own web UI."""
    folder = os.path.join("/tmp", f"docktail-embed-{os.getpid()}-{time.time_ns()}")
    os.makedirs(folder)
    handler = lambda *a, **kw: QuietHandler(*a, directory=folder, **kw)  # noqa: E731
    httpd = socketserver.ThreadingTCPServer(("127.0.0.1", 0), handler)
    httpd.daemon_threads = True
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    return httpd, folder, f"http://127.0.0.1:{httpd.server_address[1]}"


def embed_html(port, container):
    return f"""<!doctype html><html><head><meta charset="utf-8"><title>lab</title>
<style>body{{font-family:sans-serif}} .line{{display:none!important}} docktail-log{{height:300px}}</style>
<script type="module" src="http://127.0.0.1:{port}/docktail-log.js"></script></head>
<body><h1>My lab</h1><docktail-log id="p" server="http://127.0.0.1:{port}" container="{container}" tail="50"></docktail-log>
<iframe id="f" src="http://127.0.0.1:{port}/logs/{container}?embed=1" width="600" height="200"></iframe>
<script>window.seen = []; document.getElementById('p').addEventListener('line', e => window.seen.push(e.detail.line));</script>
</body></html>"""


def test_web_component_across_origins(browser, binary, engine):
    engine.run("ui-embed", 'i=1; while [ $i -le 5 ]; do echo "embedded $i"; i=$((i+1)); done; sleep 600')
    allowed_httpd, allowed_dir, allowed = serve_page()
    denied_httpd, denied_dir, denied = serve_page()
    d = Docktail(binary, engine_url=engine.url, config={"allowedOrigins": [allowed]})
    try:
        for folder in (allowed_dir, denied_dir):
            with open(os.path.join(folder, "index.html"), "w") as f:
                f.write(embed_html(d.port, "ui-embed"))
        browser.get(allowed + "/index.html")
        wait_for(lambda: browser.execute_script("return window.seen.length") >= 5, message="lines through the component")
        assert browser.execute_script("return window.seen") == [f"embedded {i}" for i in range(1, 6)]
        # Shadow DOM: the host page's `.line{display:none}` does not reach inside.
        assert browser.execute_script(f"return getComputedStyle({PANE}.querySelector('.line')).display") != "none"
        # The host page's own heading keeps its style: the pane's CSS does not leak out.
        assert browser.execute_script("return getComputedStyle(document.querySelector('h1')).fontFamily").startswith("sans-serif")
        # The iframe mode loads for an allowed origin.
        browser.switch_to.frame(browser.find_element(By.ID, "f"))
        wait_for(lambda: len(pane_lines(browser)) >= 5, message="iframe lines")
        assert browser.execute_script("return document.body.classList.contains('embed')")
        browser.switch_to.default_content()
        screenshot(browser, "embed.png")
        # A non-allowed origin gets nothing: the module, the WebSocket and the frame are refused.
        browser.get(denied + "/index.html")
        time.sleep(3)
        assert browser.execute_script("return window.seen.length") == 0
        assert browser.execute_script("return customElements.get('docktail-log') === undefined")
        code = browser.execute_async_script(f"""
            const done = arguments[0];
            const ws = new WebSocket('ws://127.0.0.1:{d.port}/logs/ui-embed');
            ws.onopen = () => done('open');
            ws.onclose = (e) => done('closed ' + e.code);""")
        assert code == "closed 1006"
        status = d.ws("/logs/ui-embed", headers={"Origin": denied}).status
        assert status == 403
        # The iframe mode is refused too (frame-ancestors): nothing of docktail renders in it.
        browser.switch_to.frame(browser.find_element(By.ID, "f"))
        assert browser.execute_script("return document.querySelector('docktail-log')") is None
        browser.switch_to.default_content()
    finally:
        d.stop()
        allowed_httpd.shutdown()
        denied_httpd.shutdown()


def test_embedding_with_a_token(browser, binary, engine):
    """With tokens on, a page on an allowed origin embeds the component (token attribute) and the
    iframe mode (token in its URL); without the token it gets nothing."""
    token = "embed-token-0123456789"
    engine.run("ui-embed-auth", 'i=1; while [ $i -le 3 ]; do echo "secured $i"; i=$((i+1)); done; sleep 600')
    httpd, folder, origin = serve_page()
    d = Docktail(binary, engine_url=engine.url, config={"allowedOrigins": [origin], "auth": {"tokens": [token]}})
    try:
        page = embed_html(d.port, "ui-embed-auth").replace('tail="50"', f'tail="50" token="{token}"').replace(
            "?embed=1", f"?embed=1&token={token}")
        with open(os.path.join(folder, "index.html"), "w") as f:
            f.write(page)
        browser.get(origin + "/index.html")
        wait_for(lambda: browser.execute_script("return window.seen.length") >= 3, message="lines with a token")
        assert browser.execute_script("return window.seen") == ["secured 1", "secured 2", "secured 3"]
        browser.switch_to.frame(browser.find_element(By.ID, "f"))
        wait_for(lambda: len(pane_lines(browser)) >= 3, message="iframe lines with a token")
        browser.switch_to.default_content()
        # Without the token: the pane says so and shows nothing.
        with open(os.path.join(folder, "plain.html"), "w") as f:
            f.write(embed_html(d.port, "ui-embed-auth"))
        # The iframe set docktail's cookie for 127.0.0.1 (cookies ignore ports): forget it first.
        browser.delete_all_cookies()
        browser.get(origin + "/plain.html")
        state = lambda: browser.execute_script(f"return {PANE}.querySelector('.state').textContent")  # noqa: E731
        wait_for(lambda: state() == "unauthorized", message="unauthorized")
        assert browser.execute_script("return window.seen.length") == 0
    finally:
        d.stop()
        httpd.shutdown()


def test_burst_does_not_freeze_the_tab(browser, server, engine):
    engine.run("ui-burst", 'sleep 2; i=0; while [ $i -lt 50000 ]; do i=$((i+1)); echo "burst line $i"; done; sleep 600')
    browser.get(server.url("/logs/ui-burst?tail=0"))
    browser.execute_script("""
        window.gaps = []; let last = performance.now();
        const tick = (t) => { window.gaps.push(t - last); last = t; if (window.gaps.length < 100000) requestAnimationFrame(tick); };
        requestAnimationFrame(tick);""")
    wait_for(lambda: browser.execute_script(f"return {PANE}.querySelector('.count').textContent") == "50,000 lines", timeout=60, message="50,000 lines")
    worst = browser.execute_script("return Math.max(...window.gaps)")
    rendered = browser.execute_script(f"return {PANE}.querySelectorAll('.line').length")
    assert rendered <= 10000
    assert worst < 1000, f"the tab froze for {worst} ms"
    last = pane_lines(browser)[-1]
    assert last == "burst line 50000"


def test_hidden_chatty_pane_keeps_memory_bounded(browser, server, engine):
    # A background tab gets no animation frames: without bounds every line would wait in
    # `pending` for a frame that never comes.
    engine.run("ui-chatty", 'sleep 1; i=0; while true; do i=$((i+1)); echo "chatty line $i with a little padding to be realistic"; done')
    browser.get(server.url("/logs/ui-chatty?tail=0&max-lines=1000"))
    wait_for(lambda: browser.execute_script(f"return {PANE}.querySelectorAll('.line').length") > 10, message="first lines")
    main = browser.current_window_handle
    heap0 = browser.execute_script("return performance.memory.usedJSHeapSize")
    browser.switch_to.new_window("tab")  # the viewer's tab is now hidden
    browser.get("about:blank")
    time.sleep(30)
    browser.switch_to.window(main)
    state = browser.execute_script(f"""
        const p = document.querySelector('docktail-log');
        return {{hidden: document.hidden, pending: p.pending.length, records: p.records.length, total: p.total,
                 skipped: p.skipped, heap: performance.memory.usedJSHeapSize, maxBuffer: p.maxBuffer}};""")
    for handle in browser.window_handles:
        if handle != main:
            browser.switch_to.window(handle)
            browser.close()
    browser.switch_to.window(main)
    engine.docker("rm", "-f", "ui-chatty")
    assert state["total"] > 20000, state  # it kept receiving while hidden
    assert state["skipped"] > 0, state  # no frames came while hidden: the cap did its work
    assert state["pending"] <= 1250, state
    assert state["records"] <= state["maxBuffer"] * 1.1, state
    assert state["heap"] - heap0 < 96 * 1024 * 1024, state
