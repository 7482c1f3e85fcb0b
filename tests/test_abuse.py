"""Abuse suite: hostile requests against a live docktail and a real engine.

Every case checks one thing an attacker would try, then that the process is still alive and
`/healthz` still answers 200: a crash, a hang or a bypass is the failure these tests exist for.
One docktail process is shared per class; `Live.get()` replaces it when a case killed it, so a
crash fails the case that caused it and not every case after it.
"""
import json
import os
import random
import re
import socket
import struct
import subprocess
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from conftest import ENGINE_DIR
from helpers import ROOT, WS, Docktail, Engine, log_lines, read_answer

TOKEN = "abuse-token-123456"
TARGET = "abuse-target"
SECRET = "abuse-secret.js"        # a container name that looks like a public asset
SECRET_TEXT = "classified-abuse"  # what SECRET prints: must never reach a client without a token


# --- shared helpers ----------------------------------------------------------------------------

def host_hdr(d):
    return f"127.0.0.1:{d.port}"


def exchange(port, data, timeout=3.0):
    """Sends raw bytes; returns what the server answers until it closes or goes quiet.
    Never raises on a reset: a reset is an answer too (the caller then checks liveness)."""
    s = socket.socket()
    s.settimeout(timeout)
    out = b""
    try:
        s.connect(("127.0.0.1", port))
        s.sendall(data)
        deadline = time.time() + timeout
        while time.time() < deadline:
            d = s.recv(65536)
            if not d:
                break
            out += d
    except (socket.timeout, ConnectionError, OSError):
        pass
    finally:
        s.close()
    return out


def status_of(answer):
    try:
        return int(answer.split(b" ", 2)[1])
    except (IndexError, ValueError):
        return None


def get(d, path, headers=None, host=None):
    """A raw GET (the path is sent byte for byte, unlike urllib, which normalises it)."""
    hdrs = {"Host": host or host_hdr(d), "Connection": "close"}
    hdrs.update(headers or {})
    head = f"GET {path} HTTP/1.1\r\n" + "".join(f"{k}: {v}\r\n" for k, v in hdrs.items()) + "\r\n"
    answer = exchange(d.port, head.encode("utf-8", "surrogateescape"))
    head, _, body = answer.partition(b"\r\n\r\n")
    return status_of(answer), head, body


def ws_try(d, path, headers=None):
    """A WebSocket handshake; (status, body) or (None, b'') when the server cut the connection."""
    hdrs = {"Host": host_hdr(d)}
    hdrs.update(headers or {})
    try:
        w = WS(d.port, path, headers=hdrs, timeout=5)
    except (ConnectionError, socket.timeout, OSError, ValueError, IndexError):
        return None, b""
    status, body = w.status, w.body
    if status == 101:
        # Work that follows the handshake (engine inspect, history fetch) can still crash the
        # server; wait for its first result so the crash is blamed on this case, not the next.
        w.sock.settimeout(0.3)
        try:
            for _ in range(3):
                m = w.recv()
                if isinstance(m, tuple) or (isinstance(m, str) and not m.startswith('{"event":"subscribed"')):
                    break
        except (OSError, socket.timeout, ValueError, struct.error):
            pass
    w.close()
    return status, body


def healthz_status(d, timeout=2.0):
    answer = exchange(d.port, f"GET /healthz HTTP/1.1\r\nHost: {host_hdr(d)}\r\nConnection: close\r\n\r\n".encode(),
                      timeout=timeout)
    return status_of(answer)


def crash_summary(log):
    """The runtime's reason and the first frames of the crashed thread, not pages of registers."""
    lines = log.splitlines()
    reason = [l.strip("* ") for l in lines if "runtime failure" in l or "Fatal error" in l][:1]
    frames = []
    for i, l in enumerate(lines):
        if l.endswith("crashed:"):
            for f in lines[i + 1:i + 14]:
                m = re.search(r"0x[0-9a-f]+ (?:specialized )?(.+?)(?: \+ \d+)? in \S+ at .*/([^/]+)$", f)
                if m and "DocktailCore" in f and len(frames) < 4:
                    frames.append(f"{m.group(1)} ({m.group(2)})")
            break
    return "; ".join(reason + frames) or log[-800:]


def assert_alive(d, what=""):
    t0 = time.time()
    st = healthz_status(d)
    if st != 200:
        # A crash can still be in progress when the probe fails: give the exit a moment to show.
        try:
            d.proc.wait(0.5)
        except subprocess.TimeoutExpired:
            pass
    if d.proc.poll() is not None:
        pytest.fail(f"docktail died ({what}), exit {d.proc.returncode}: {crash_summary(d.logs())}")
    assert st == 200, f"/healthz answered {st} after {what} ({time.time() - t0:.1f}s)"


def names_param(body, name):
    """A 400 must name the parameter: in the JSON error when there is one, else anywhere."""
    try:
        return name in json.loads(body)["error"]
    except (ValueError, KeyError, TypeError):
        return name.encode() in body


class Live:
    """One docktail per class, replaced when a case killed it."""

    def __init__(self, binary, engine, config=None):
        self.binary, self.engine, self.config = binary, engine, config
        self.d = None

    def get(self):
        if self.d is None or self.d.proc.poll() is not None:
            if self.d is not None:
                self.d.stop()
            self.d = Docktail(self.binary, engine_url=self.engine.url, config=self.config)
        return self.d

    def stop(self):
        if self.d is not None:
            self.d.stop()


@pytest.fixture(scope="module")
def engine():
    """The shared private engine, without conftest's teardown (which removes every container,
    including those of other sessions using the same engine): this module removes only its own."""
    url = subprocess.run([os.path.join(ROOT, "scripts/engine"), "start", ENGINE_DIR], capture_output=True, text=True,
                         check=True).stdout.strip()
    return Engine(url)


@pytest.fixture(scope="module")
def targets(engine):
    engine.run(TARGET, "i=0; while true; do echo line $i; i=$((i+1)); sleep 1; done")
    engine.run(SECRET, f"echo {SECRET_TEXT}; sleep 600")
    yield
    engine.docker("rm", "-f", TARGET, SECRET, check=False)


def live_fixture(config=None):
    @pytest.fixture(scope="class")
    def holder(binary, engine, targets):
        h = Live(binary, engine, config)
        yield h
        h.stop()
    return holder


plain_live = live_fixture()
# Tokens live under `auth.tokens` (README, Configuration); a top-level `tokens` key is refused.
token_live = live_fixture({"auth": {"tokens": [TOKEN]}})


@pytest.fixture
def srv(plain_live):
    return plain_live.get()


@pytest.fixture
def tsrv(token_live):
    return token_live.get()


# --- 1. time parameters ------------------------------------------------------------------------

OK, BAD, ANY = "ok", "bad", "any"

TIME_VALUES = [
    # valid: the stream opens
    ("2026-01-01T00:00:00Z", OK), ("1700000000", OK), ("1700000000.123456789", OK), ("0", OK),
    ("10m", OK), ("1h30m", OK), ("250ms", OK),
    # out of Int64 nanoseconds (1677-09-21 … 2262-04-11) or not a time: 400 naming the parameter
    ("2300-01-01T00:00:00Z", BAD), ("2262-04-12T00:00:00Z", BAD), ("1600-01-01T00:00:00Z", BAD),
    ("1677-09-20T00:00:00Z", BAD), ("0000-01-01T00:00:00Z", BAD), ("9999-12-31T23:59:59.999999999Z", BAD),
    ("10000-01-01T00:00:00Z", BAD), ("99999999999999999999", BAD), ("99999999999999999999.5", BAD),
    ("9223372037", BAD), ("9223372036.854775808", BAD), ("18446744073709551616", BAD),
    ("-9223372036854775808", BAD), ("-9223372037", BAD), ("-99999999999999999999.9", BAD),
    ("999999999h", BAD), ("2562048h", BAD), ("106752d", BAD), ("1e308s", BAD), ("1e308", BAD),
    ("NaNs", BAD), ("nan", BAD), ("infh", BAD), ("inf", BAD), ("-inf", BAD), ("١٢٣", BAD), ("١٢٣s", BAD),
    ("½h", BAD), ("0x10", BAD), ("1" * 4000, BAD), ("9" * 40 + "h", BAD), ("1h" * 2000 + "x", BAD),
    ("99999999999999999999h99999999999999999999m", BAD), ("2562047h2562047h", BAD),
    # edge values whose answer is a policy choice: either works, neither may crash
    ("-1.5", ANY), ("-5m", ANY), ("", ANY), ("2262-04-11T23:47:16.854775807Z", ANY),
    ("1677-09-21T00:12:43.145224192Z", ANY), ("9223372036.854775807", ANY), ("9223372036", ANY),
    ("2000000h", ANY), ("2026-02-30T00:00:00Z", ANY), ("2026-01-01T25:61:61Z", ANY),
    ("2026-01-01T00:00:00+99:99", ANY), ("2026-01-01T00:00:00.99999999999999999999Z", ANY),
    ("2026-01-01T00:00:00-23:59", ANY), ("0.0000000001", ANY), ("1.", ANY), (".5", ANY),
    ("-0", ANY), ("0h0m0s", ANY), ("1h" * 1000, ANY),
]


def quote(v):
    from urllib.parse import quote as q
    return q(v, safe="")


def assert_outcome(status, body, expect, param):
    """OK: 101. BAD: 400 naming `param`. ANY: either, and a 400 still names `param`."""
    if expect == OK:
        assert status == 101, (status, body[:200])
    elif expect == BAD:
        assert status == 400, (status, body[:200])
        assert names_param(body, param), body[:200]
    else:
        assert status in (101, 400), (status, body[:200])
        if status == 400:
            assert names_param(body, param), body[:200]


class TestTimeParameters:
    @pytest.mark.parametrize("param", ["since", "until"])
    @pytest.mark.parametrize("value,expect", TIME_VALUES, ids=[repr(v[:40]) for v, _ in TIME_VALUES])
    def test_time_value(self, srv, param, value, expect):
        status, body = ws_try(srv, f"/logs/{TARGET}?{param}={quote(value)}")
        assert_alive(srv, f"{param}={value[:40]!r}")
        assert_outcome(status, body, expect, param)

    @pytest.mark.parametrize("query", [
        "since=1677-09-21T00:12:43.145224192Z&until=2262-04-11T23:47:16.854775807Z",
        "since=2262-04-11T23:47:16.854775807Z&until=1677-09-21T00:12:43.145224192Z",
        "since=9223372036.854775807&follow=0&tail=all",
        "until=9223372036.854775807&tail=all",
        "since=-1.5&until=-0.5&follow=0",
        "since=1h&until=2h&follow=0", "since=0&until=0&follow=0",
        "since=1700000000&until=1700000000&follow=1",
    ])
    def test_time_combinations(self, srv, query):
        status, body = ws_try(srv, f"/logs/{TARGET}?{query}")
        assert_alive(srv, query)
        assert status in (101, 400), (status, body[:200])


# --- 2. tail and the other parameters ----------------------------------------------------------

TAIL_VALUES = [
    ("0", OK), ("5", OK), ("all", OK), ("10000", OK), ("100000", OK),   # README: tail = 0 to 100000
    ("100001", BAD), (str(2**62 + 1), BAD), (str(2**63 - 1), BAD), (str(2**63), BAD), (str(2**64), BAD), (str(2**64 + 5), BAD),
    ("9" * 100, BAD), ("9" * 5000, BAD), ("-2", BAD), ("-9223372036854775808", BAD), ("1e5", BAD),
    ("0x10", BAD), ("1.5", BAD), ("١٢٣", BAD), ("all2", BAD), ("five", BAD), ("5%00", BAD), ("%00", BAD),
    # sign, padding and case spellings of a small number: accepted or refused, never a crash
    ("+5", ANY), ("%2B5", ANY), ("%205", ANY), ("5%20", ANY), ("05", ANY), ("0" * 30 + "5", ANY), ("-1", ANY),
    ("-0", ANY), ("ALL", ANY), ("", ANY), ("%09" + "5", ANY),
]


class TestTailAndParameters:
    @pytest.mark.parametrize("streams", ["", "&stdout=0", "&stderr=0", "&stdout=0&follow=0", "&stderr=0&follow=0"])
    @pytest.mark.parametrize("value,expect", TAIL_VALUES, ids=[repr(v[:30]) for v, _ in TAIL_VALUES])
    def test_tail(self, srv, value, expect, streams):
        status, body = ws_try(srv, f"/logs/{TARGET}?tail={value}{streams}")
        assert_alive(srv, f"tail={value[:40]}{streams}")
        assert_outcome(status, body, expect, "tail")

    @pytest.mark.parametrize("query,name", [
        ("follow=2", "follow"), ("format=xml", "format"), ("stdout=0&stderr=0", "stdout"), ("timestamps=2", "timestamps"),
        ("stdout=%00", "stdout"), ("format=json%00", "format"), ("follow=1%00", "follow"), ("stdout=yes", "stdout"),
    ])
    def test_bad_flags_are_400_naming_them(self, srv, query, name):
        status, body = ws_try(srv, f"/logs/{TARGET}?{query}")
        assert_alive(srv, query)
        assert status == 400 and names_param(body, name), (status, body[:200])

    @pytest.mark.parametrize("query", [
        "tail=1&tail=x", "tail=x&tail=1", "tail=1&tail=2", "stdout=0&stdout=1&stderr=0", "since=1h&since=nope",
        "host=local%00", "host=" + "h" * 3000, "token=%00", "tail=%zz", "tail=%", "tail=%%", "tail=%C0%80",
        "tail", "=5", "&&&&", ";tail=5", "tail=5;follow=0", "a=%FF%FE", "tail=5#frag", "%00=1", "tail[]=5",
        "since=" + "1" * 8000, "tail=" + "9" * 8100, "x=" + "v" * 8200,
        "&".join(f"p{i}=1" for i in range(10000)),
        "&".join("tail=1" for _ in range(1000)),
        "&".join(f"{i}" for i in range(2000)),
    ], ids=lambda q: repr(q[:30]) + f"({len(q)})")
    def test_odd_queries_are_handled(self, srv, query):
        status, body = ws_try(srv, f"/logs/{TARGET}?{query}")
        assert_alive(srv, query[:60])
        # None: an oversized request line may be cut (reset) before its 414 is read.
        assert status in (None, 101, 400, 404, 414, 431), (status, body[:200])


# --- 3. token bypass ---------------------------------------------------------------------------

LOG_SPELLINGS = ["//logs/{n}", "/%6Cogs/{n}", "/logs//{n}", "/logs/{n}/", "/./logs/{n}", "/logs/./{n}", "/LOGS/{n}",
                 "/%2F/logs/{n}", "/%2Flogs/{n}", "/logs%2F{n}", "/logs/{n}%2F", "/logs/abuse-secret%2Ejs",
                 "/logs/abuse-secret.j%73", "/logs/{n}?x=.js", "/logs/{n}?token=", "/logs/{n}#.css",
                 "/css/../logs/{n}", "/docktail-log.js/../logs/{n}", "/js/%2E%2E/logs/{n}", "/logs/{n}%00.js",
                 "/logs/{n};.js", "/logs/{n}?format=text&x=.css"]
API_SPELLINGS = ["//api/containers/{n}", "/%61pi/containers/{n}", "/api//containers/{n}", "/api/containers/{n}/",
                 "/api/../api/containers/{n}", "/API/containers/{n}", "/api/containers//{n}", "/./api/containers/{n}",
                 "/api/containers/{n}?x=.js", "/js/../api/containers/{n}", "/api%2Fcontainers%2F{n}",
                 "/api/containers/abuse-secret%2Ejs", "//api/containers", "/api/containers/?.js", "/api/containers;.js",
                 "/api/hosts?.css", "/metrics?x=.svg", "//metrics", "/%6Detrics", "/metrics/", "//", "/.//",
                 "/index.html?.js", "/index.html/x.js", "/viewer.html%00.js"]


class TestTokenBypass:
    @pytest.mark.parametrize("spelling", LOG_SPELLINGS + API_SPELLINGS)
    def test_get_without_token(self, tsrv, spelling):
        path = spelling.format(n=SECRET)
        status, head, body = get(tsrv, path)
        assert_alive(tsrv, path)
        assert status in (400, 401, 404), (path, status, head[:200])
        assert SECRET_TEXT.encode() not in body and b'"id"' not in body, body[:200]

    @pytest.mark.parametrize("spelling", LOG_SPELLINGS + ["/events/", "//events", "/%65vents", "/events?x=.js"])
    def test_websocket_without_token(self, tsrv, spelling):
        path = spelling.format(n=SECRET)
        status, body = ws_try(tsrv, path)
        assert_alive(tsrv, path)
        assert status in (400, 401, 404), (path, status, body[:200])

    @pytest.mark.parametrize("auth", ["query", "bearer", "cookie"])
    def test_canonical_spelling_with_token_works(self, tsrv, auth):
        path, headers = f"/logs/{SECRET}?tail=all", {}
        if auth == "query":
            path += f"&token={TOKEN}"
        elif auth == "bearer":
            headers["Authorization"] = f"Bearer {TOKEN}"
        else:
            # The cookie the viewer page sets, sent back as a browser would (its name is the
            # server's business, so it is taken from Set-Cookie rather than assumed).
            status, head, _ = get(tsrv, f"/logs/{SECRET}?token={TOKEN}")
            m = re.search(rb"\r\nSet-Cookie: ([^=;\r]+=[^;\r]*)", head, re.I)
            assert status == 200 and m, (status, head[:300])
            headers["Cookie"] = m.group(1).decode()
        w = WS(tsrv.port, path, headers=headers, timeout=10)
        assert w.status == 101
        lines = []
        deadline = time.time() + 10
        while not lines and time.time() < deadline:
            lines = log_lines([w.recv()])
        w.close()
        assert lines and lines[0]["line"] == SECRET_TEXT
        status, _, body = get(tsrv, f"/api/containers/{SECRET}", {"Authorization": f"Bearer {TOKEN}"})
        assert status == 200 and json.loads(body)["name"] == SECRET
        assert_alive(tsrv, "canonical with token")

    @pytest.mark.parametrize("path,expected", [
        ("/docktail-log.js", 200), ("/js/ansi.js", 200), ("/css/app.css", 200), ("/favicon.svg", 200),
        ("/healthz", 200), ("/", 401), ("/index.html", 401), (f"/logs/{SECRET}", 401), ("/api/containers", 401),
        ("/metrics", 401), ("/api/hosts", 401), (f"/api/containers/{SECRET}", 401), ("/viewer.html", 401),
    ])
    def test_public_and_protected_routes(self, tsrv, path, expected):
        status, _, body = get(tsrv, path)
        assert_alive(tsrv, path)
        assert status == expected, (path, status)
        assert SECRET_TEXT.encode() not in body
        if expected == 401:
            assert get(tsrv, path, {"Authorization": f"Bearer {TOKEN}"})[0] == 200, path

    @pytest.mark.parametrize("token", [TOKEN + "x", TOKEN[:-1], TOKEN.upper(), " " + TOKEN, TOKEN + "%00", "%00",
                                       "x" * 10000, TOKEN[:8], TOKEN * 2],
                             ids=lambda t: repr(t[:24]) + f"({len(t)})")
    def test_near_miss_tokens_refused(self, tsrv, token):
        status, body = ws_try(tsrv, f"/logs/{SECRET}?token={token}")
        assert_alive(tsrv, "near-miss token")
        # None: the server cut an oversized request line before answering, which is a refusal too.
        assert status in (None, 400, 401, 414), status


# --- 4. Host header / DNS rebinding ------------------------------------------------------------

PROTECTED_GETS = ["/", "/index.html", f"/logs/{TARGET}", "/api/containers", f"/api/containers/{TARGET}", "/api/hosts",
                  "/metrics", "/docktail-log.js", "/js/ansi.js", "/no-such-file"]
EVIL_HOSTS = ["evil.example", "attacker.com:{port}", "evil.example:{port}", "127.0.0.1.evil.example:{port}",
              "localhost.evil.example:{port}", "127.0.0.1:{port}.evil.example", "127.0.0.1:{port}@evil.example",
              "0x7f000001.evil.example"]
# Not even well-formed host[:port] values: a 400 is as good a refusal as 421/403.
MALFORMED_HOSTS = {"127.0.0.1:{port}.evil.example", "127.0.0.1:{port}@evil.example"}


class TestHostHeader:
    @pytest.mark.parametrize("host", EVIL_HOSTS)
    def test_foreign_host_refused(self, srv, host):
        h = host.format(port=srv.port)
        answers = {}
        for path in PROTECTED_GETS:
            answers[path] = get(srv, path, host=h)[0]
            assert_alive(srv, f"GET {path} with Host: {h}")
        refusals = (421, 403, 400) if host in MALFORMED_HOSTS else (421, 403)
        wrong = {p: st for p, st in answers.items() if st not in refusals}
        assert not wrong, f"Host: {h} answered (path: status) {wrong}"

    @pytest.mark.parametrize("host", EVIL_HOSTS[:3])
    @pytest.mark.parametrize("path", ["/events", f"/logs/{TARGET}"])
    def test_foreign_host_websocket_refused(self, srv, host, path):
        status, _ = ws_try(srv, path, headers={"Host": host.format(port=srv.port)})
        assert_alive(srv, f"ws Host: {host}")
        assert status in (421, 403), (path, host, status)

    @pytest.mark.parametrize("host", EVIL_HOSTS[:3])
    def test_healthz_ignores_host(self, srv, host):
        assert get(srv, "/healthz", host=host.format(port=srv.port))[0] == 200

    @pytest.mark.parametrize("host", ["127.0.0.1:{port}", "localhost:{port}", "[::1]:{port}", "LocalHost:{port}"])
    def test_loopback_hosts_allowed(self, srv, host):
        h = host.format(port=srv.port)
        assert get(srv, "/", host=h)[0] == 200
        assert get(srv, "/api/containers", host=h)[0] == 200
        assert ws_try(srv, f"/logs/{TARGET}", headers={"Host": h})[0] == 101
        assert ws_try(srv, "/events", headers={"Host": h})[0] == 101
        assert_alive(srv, h)

    @pytest.mark.parametrize("origin,expected", [
        ("http://evil.example", 403), ("null", 403), ("http://127.0.0.1:{port}.evil.example", 403),
        ("http://127.0.0.1:{port}@evil.example", 403), ("http://evil.example/http://127.0.0.1:{port}", 403),
        ("http://127.0.0.1:{port}", 101),
    ])
    def test_origin_on_websocket(self, srv, origin, expected):
        o = origin.format(port=srv.port)
        status, _ = ws_try(srv, f"/logs/{TARGET}", headers={"Origin": o})
        assert_alive(srv, o)
        assert status == expected, (o, status)

    def test_duplicate_host_is_400(self, srv):
        for second in ["evil.example", f"127.0.0.1:{srv.port}"]:
            answer = exchange(srv.port, f"GET / HTTP/1.1\r\nHost: 127.0.0.1:{srv.port}\r\nHost: {second}\r\n"
                                        f"Connection: close\r\n\r\n".encode())
            assert status_of(answer) == 400, (second, answer[:100])
        assert_alive(srv, "duplicate Host")

    def test_allowed_hosts_config(self, binary, engine, targets):
        d = Docktail(binary, engine_url=engine.url, config={"allowedHosts": ["logs.example.com"]})
        try:
            h = f"logs.example.com:{d.port}"
            assert get(d, "/", host=h)[0] == 200
            assert ws_try(d, f"/logs/{TARGET}", headers={"Host": h})[0] == 101
            assert ws_try(d, f"/logs/{TARGET}", headers={"Host": h, "Origin": f"http://{h}"})[0] == 101
            assert get(d, "/", host=f"localhost:{d.port}")[0] == 200
            assert get(d, "/", host="evil.example")[0] in (421, 403)
            assert_alive(d, "allowedHosts")
        finally:
            d.stop()


# --- 5. HTTP details ---------------------------------------------------------------------------


class TestHTTPDetails:
    def test_huge_chunk_extension_is_refused(self, srv):
        s = socket.create_connection(("127.0.0.1", srv.port))
        s.sendall(f"GET /healthz HTTP/1.1\r\nHost: {host_hdr(srv)}\r\nTransfer-Encoding: chunked\r\n\r\n1;ext=".encode())
        sent = 0
        try:
            # 300 KB of extension in 6 KB pieces: a server that buffers it all has no limit on it.
            for _ in range(50):
                s.sendall(b"x" * 6000)
                sent += 6000
                time.sleep(0.01)
            s.sendall(b"\r\na\r\n0\r\n\r\n")
        except (BrokenPipeError, ConnectionResetError):
            pass
        answer, closed = read_answer(s)
        s.close()
        assert_alive(srv, "chunk extension")
        assert status_of(answer) is not None and 400 <= status_of(answer) < 500, (sent, answer[:120])
        assert closed

    def test_http_1_9_is_505(self, srv):
        answer = exchange(srv.port, f"GET /healthz HTTP/1.9\r\nHost: {host_hdr(srv)}\r\n\r\n".encode())
        assert_alive(srv, "HTTP/1.9")
        assert status_of(answer) == 505, answer[:80]

    def test_http_1_0_chunked_is_answered_then_closed(self, srv):
        # RFC 9112 §6.1: Transfer-Encoding in an HTTP/1.0 message means the framing is faulty; the
        # server must close after answering, so nothing after it (a smuggled request) is read.
        s = socket.create_connection(("127.0.0.1", srv.port))
        s.sendall(f"GET /healthz HTTP/1.0\r\nHost: {host_hdr(srv)}\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"
                  f"GET /metrics HTTP/1.1\r\nHost: {host_hdr(srv)}\r\n\r\n".encode())
        answer, closed = read_answer(s)
        s.close()
        assert_alive(srv, "HTTP/1.0 + chunked")
        assert status_of(answer) is not None, answer[:80]
        assert closed, answer[:200]
        statuses = re.findall(rb"HTTP/1\.\d \d{3} ", answer)
        assert len(statuses) == 1 and b"docktail_connections" not in answer, answer[:300]

    @pytest.mark.parametrize("headers,allowed", [
        ({"Origin": "http://127.0.0.1:{port}\r\nOrigin: http://evil.example"}, (400, 403)),
        ({"Origin": "http://evil.example\r\nOrigin: http://127.0.0.1:{port}"}, (400, 403)),
        ({"Sec-WebSocket-Version": "13\r\nSec-WebSocket-Version: 13"}, (400,)),
        ({"Sec-WebSocket-Version": "13\r\nSec-WebSocket-Version: 8"}, (400,)),
        ({"Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ=="}, (400,)),
    ], ids=["origin-good-evil", "origin-evil-good", "version-twice", "version-13-8", "key-twice"])
    def test_duplicate_handshake_headers(self, srv, headers, allowed):
        h = {k: v.format(port=srv.port) for k, v in headers.items()}
        status, _ = ws_try(srv, f"/logs/{TARGET}", headers=h)
        assert_alive(srv, str(h))
        assert status in allowed, status

    def test_expect_100_continue(self, srv):
        s = socket.create_connection(("127.0.0.1", srv.port))
        s.settimeout(3)
        s.sendall(f"GET /healthz HTTP/1.1\r\nHost: {host_hdr(srv)}\r\nExpect: 100-continue\r\nContent-Length: 5\r\n"
                  f"Connection: close\r\n\r\n".encode())
        first = b""
        try:
            while b"\r\n\r\n" not in first:
                d = s.recv(4096)
                if not d:
                    break
                first += d
        except socket.timeout:
            pass
        if status_of(first) == 417:
            s.close()
        else:
            assert first.startswith(b"HTTP/1.1 100 Continue\r\n"), first[:100]
            s.sendall(b"hello")
            rest, _ = read_answer(s)
            s.close()
            final = first.split(b"\r\n\r\n", 1)[1] + rest
            assert status_of(final) == 200, final[:100]
        assert_alive(srv, "Expect: 100-continue")

    @pytest.mark.parametrize("path", ["/", "/api/containers", "/healthz", "/js/ansi.js", "/index.html", "/metrics",
                                      "/api/hosts", "/favicon.svg"])
    def test_upgrade_on_plain_routes_is_400(self, srv, path):
        status, _ = ws_try(srv, path)
        assert_alive(srv, f"upgrade {path}")
        assert status == 400, (path, status)

    def test_binary_message_on_log_stream_is_1003(self, srv):
        w = WS(srv.port, f"/logs/{TARGET}?tail=0", timeout=5)
        assert w.status == 101
        w.send(0x2, b"\x00\x01binary")
        code = None
        deadline = time.time() + 5
        while code is None and time.time() < deadline:
            m = w.recv()
            if isinstance(m, tuple):
                code = m[1]
        w.close()
        assert_alive(srv, "binary message")
        assert code == 1003, f"close code {code} (None: no close within 5 s)"

    @pytest.mark.parametrize("ref", ["abuse%0D%0Atarget", "abuse-target%0D%0ASet-Cookie:%20x=1", "abuse%20target",
                                     "%20", "abuse-target%00", "%00", "..", ".", "%2E%2E", "%2E", "a" * 300,
                                     "%C3%A9t%C3%A9", "%F0%9F%92%A9", "%FF%FE", "..%2F..%2Fetc%2Fpasswd", "%25",
                                     "abuse-target%3Fall%3D1", "abuse-target%23x", "-", "_", "g" * 64,
                                     "0000000000ff", "%2F", "*"])
    def test_odd_container_refs(self, srv, ref):
        status, body = ws_try(srv, f"/logs/{ref}")
        assert status in (400, 404), (ref, status, body[:200])
        status, head, body = get(srv, f"/api/containers/{ref}")
        # `/api/containers/.` may be normalised to the list route; that is not a ref lookup.
        normalised_to_list = status == 200 and ref in (".", "%2E") and body.startswith(b"[")
        assert status in (400, 404) or normalised_to_list, (ref, status)
        status, head, _ = get(srv, f"/logs/{ref}")   # the viewer page: any ref, but no header injection
        assert status in (200, 400, 404), (ref, status)
        assert b"\r\nSet-Cookie: x=1" not in head
        assert_alive(srv, ref)

    def test_ambiguous_id_prefix_is_404(self, srv, engine):
        made = []
        try:
            # Find (or make) two containers whose ids start with the same hex digit: 17 ids
            # always contain such a pair.
            prefix = None
            for i in range(17):
                ids = engine.docker("ps", "-aq", "--no-trunc").split()
                firsts = [x[0] for x in ids]
                shared = [c for c in set(firsts) if firsts.count(c) > 1]
                if shared:
                    prefix = shared[0]
                    break
                made.append(engine.docker("create", "--network", "none", "--name", f"abuse-prefix-{i}",
                                          "local/busybox:latest", "true"))
            assert prefix
            status, body = ws_try(srv, f"/logs/{prefix}")
            assert status == 404, (prefix, status, body[:200])
            assert get(srv, f"/api/containers/{prefix}")[0] == 404
            assert ws_try(srv, "/logs/ffffffffffff0000")[0] == 404
            assert_alive(srv, "ambiguous prefix")
        finally:
            if made:
                engine.docker("rm", "-f", *made, check=False)


# --- 6. seeded random requests -----------------------------------------------------------------

FUZZ_REQUESTS = 3000
FUZZ_SECONDS = 90
TIME_FUZZ = ["10m", "1700000000.5", "2026-01-01T00:00:00Z", "2300-01-01T00:00:00Z", "0000-01-01T00:00:00Z", "-1.5",
             "99999999999999999999", "999999999h", "1e308s", "NaNs", "infh", "-5m", "2000000h", "%D9%A1%D9%A2", ""]
FLAG_FUZZ = ["0", "1", "2", "", "true", "%00"]
# Values that fit each parameter most of the time, so that requests get past the first check
# and reach the deeper code (engine queries, history fetch) where overflows hide.
PARAM_VALUES = {
    "tail": ["0", "5", "all", "-1", "-2", str(2**62 + 1), str(2**63), "9" * 30, "1e5", "0x10", "+5", "%205"],
    "since": TIME_FUZZ, "until": TIME_FUZZ,
    "stdout": FLAG_FUZZ, "stderr": FLAG_FUZZ, "follow": FLAG_FUZZ, "timestamps": FLAG_FUZZ,
    "format": ["json", "text", "xml", ""], "host": ["local", "nope", "%00"], "token": ["x", ""], "embed": ["1"],
}
ANY_VALUES = sorted({v for vs in PARAM_VALUES.values() for v in vs})
METHODS = ["GET", "GET", "GET", "HEAD", "POST", "PUT", "DELETE", "OPTIONS", "TRACE", "CONNECT", "PATCH", "get",
           "G\x00T", "", "GET GET", "X" * 300]
VERSIONS = ["HTTP/1.1", "HTTP/1.1", "HTTP/1.1", "HTTP/1.0", "HTTP/1.9", "HTTP/2.0", "HTTP/0.9", "http/1.1",
            "HTTP/1.1.1", "HTTP/11", "HTTP/-1.1", "HTTP/1.", "", "HTTP/1.1 extra"]
PATHS = ["/healthz", "/", "/index.html", f"/logs/{TARGET}", "/api/containers", f"/api/containers/{TARGET}",
         "/api/hosts", "/metrics", "/events", "/docktail-log.js", "/js/ansi.js", "/css/app.css", "/favicon.svg",
         "/../etc/passwd", "*", "http://127.0.0.1/healthz", "", "//", "/%", "/%zz"]


def random_query(r):
    parts = []
    for _ in range(r.randint(0, 4)):
        k = r.choice(list(PARAM_VALUES)) if r.random() < 0.9 else random_token(r)
        c = r.random()
        v = r.choice(PARAM_VALUES.get(k, ANY_VALUES)) if c < 0.75 else r.choice(ANY_VALUES) if c < 0.9 else random_token(r)
        parts.append(f"{k}={v}")
    return "&".join(parts)


def random_token(r, n=None):
    alphabet = "abcXYZ019-_.~%/?#&=:;+ \t\"'<>\\\x7f\x00\x01\xff"
    return "".join(r.choice(alphabet) for _ in range(n if n is not None else r.randint(0, 20)))


def random_path(r):
    p = r.choice(PATHS)
    if r.random() < 0.3:
        # Random percent-escapes, valid or not, anywhere in the path.
        chars = list(p)
        for _ in range(r.randint(1, 4)):
            esc = r.choice(["%", "%2", "%zz", "%00", "%2F", "%2E", "%2e%2e", "%C0%AF", "%FF", "%25", "%0D%0A"])
            chars.insert(r.randint(0, len(chars)), esc)
        p = "".join(chars)
    if r.random() < 0.6:
        p += "?" + random_query(r)
    return p


def build_request(r, port):
    """A request built from a valid one, then mutated; bytes to send."""
    host = f"127.0.0.1:{port}"
    method, path, version = "GET", random_path(r), "HTTP/1.1"
    if r.random() < 0.2:
        method = r.choice(METHODS)
    if r.random() < 0.15:
        version = r.choice(VERSIONS)
    headers = [("Host", host)]
    body = b""
    kind = r.random()
    if kind < 0.15:
        headers.append(("Content-Length", r.choice(["5", "-1", "99999999999999999999", "18446744073709551617",
                                                     "1e3", " 5", "5, 6", "0x5", "", "65537", "70000"])))
        body = b"hello" * r.randint(0, 3)
    elif kind < 0.3:
        headers.append(("Transfer-Encoding", r.choice(["chunked", "chunked, chunked", "gzip, chunked", "identity",
                                                        "Chunked", " chunked", "chunked\x00"])))
        chunks = [r.choice(["5\r\nhello\r\n", "fffffffffffffffffff\r\n", "-1\r\n", "0x10\r\n", "1;" + "e" * 500 + "\r\nx\r\n",
                            "5\r\nhel", "3\r\nabcdef\r\n", "G\r\n", "\r\n", "10000\r\n" + "a" * 100])
                  for _ in range(r.randint(0, 4))]
        body = ("".join(chunks) + r.choice(["0\r\n\r\n", "0\r\nTrailer: x\r\n\r\n", "", "0\r\n"])).encode("latin-1")
    for _ in range(r.randint(0, 4)):
        if r.random() < 0.5:
            headers.append((r.choice(["X-A", "Cookie", "Authorization", "Origin", "Upgrade", "Connection", "Expect",
                                      "Host", "Content-Length", "Sec-WebSocket-Key", "Range"]), random_token(r)))
        else:
            headers.append((random_token(r, r.randint(0, 40)), random_token(r, r.randint(0, 200))))
    if r.random() < 0.03:
        headers.append(("X-Big", "v" * r.randint(8000, 20000)))
    line_end = "\r\n" if r.random() < 0.9 else r.choice(["\n", "\r", "\r\r\n", "\n\r"])
    head = f"{method} {path} {version}".rstrip() + line_end
    head += "".join(f"{k}: {v}{line_end}" for k, v in headers) + line_end
    data = head.encode("latin-1", "replace") + body
    mutate = r.random()
    if mutate < 0.15:
        data = data[:r.randint(0, len(data))]                               # truncated anywhere
    elif mutate < 0.3:
        b = bytearray(data)
        for _ in range(r.randint(1, 8)):
            if b:
                b[r.randrange(len(b))] = r.randrange(256)                   # random byte flips
        data = bytes(b)
    elif mutate < 0.35:
        data = bytes(r.randrange(256) for _ in range(r.randint(1, 2000)))   # pure noise
    elif mutate < 0.4:
        data = data + data[:r.randint(0, len(data))]                        # pipelined, truncated copy
    return data


def random_frames(r):
    """Frames after a successful handshake: mostly invalid, sometimes valid. (WS.frame's masking
    keys are random, but the server unmasks them, so what it decodes depends only on the seed.)"""
    out = b""
    for _ in range(r.randint(1, 5)):
        c = r.random()
        if c < 0.2:
            out += WS.frame(r.choice([0x3, 0x4, 0x5, 0x6, 0x7, 0xB, 0xC, 0xF]), r.randbytes(r.randint(0, 10)))
        elif c < 0.35:
            out += WS.frame(0x1, b"x", rsv=r.choice([0x10, 0x20, 0x40, 0x70]))
        elif c < 0.5:
            # Oversized lengths, announced but never sent.
            n = r.choice([2**63 - 1, 2**63, 2**64 - 1, 1 << 40, 70000, 65536])
            out += struct.pack("!BBQ", 0x81, 0x80 | 127, n % (1 << 64)) + b"\x00\x00\x00\x00"
        elif c < 0.6:
            out += WS.frame(0x1, b"unmasked", mask=False)
        elif c < 0.7:
            out += WS.frame(r.choice([0x8, 0x9, 0xA]), b"x", fin=False)     # fragmented control frame
        elif c < 0.8:
            out += WS.frame(0x9, b"p" * r.choice([125, 126, 200]))
        elif c < 0.9:
            out += bytes(r.randrange(256) for _ in range(r.randint(1, 64)))
        else:
            out += WS.frame(0x1, b'{"x":1}') + WS.frame(0x0, b"cont") + WS.frame(0x8, struct.pack("!H", r.choice([1000, 1005, 0, 65535])))
    if r.random() < 0.3:
        out = out[:r.randint(0, len(out))]
    return out


def one_fuzz_case(port, seed):
    """One short connection; a per-case seed keeps every case reproducible whatever the thread order."""
    r = random.Random(seed)
    s = socket.socket()
    s.settimeout(0.5)
    try:
        s.connect(("127.0.0.1", port))
        if r.random() < 0.15:
            path = r.choice([f"/logs/{TARGET}?tail=1", "/events", f"/logs/{TARGET}?tail=0&format=text",
                             f"/logs/{TARGET}?" + random_query(r), f"/logs/{TARGET}?" + random_query(r)])
            s.sendall(f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                      f"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n".encode())
            head = b""
            while b"\r\n\r\n" not in head:
                d = s.recv(4096)
                if not d:
                    return
                head += d
            if head.startswith(b"HTTP/1.1 101"):
                for _ in range(r.randint(1, 3)):
                    s.sendall(random_frames(r))
                    if r.random() < 0.5:
                        s.recv(65536)
        else:
            s.sendall(build_request(r, port))
            if r.random() < 0.3:
                s.recv(65536)   # sometimes wait for the start of the answer, never for all of it
    except (OSError, socket.timeout):
        pass
    finally:
        s.close()


def fd_count(pid):
    return len(os.listdir(f"/proc/{pid}/fd"))


def test_seeded_random_requests(binary, engine, targets):
    seed = int(os.environ.get("ABUSE_SEED", "20261129"))
    print(f"ABUSE_SEED={seed}")
    d = Docktail(binary, engine_url=engine.url)
    try:
        assert_alive(d, "start")
        baseline = fd_count(d.proc.pid)
        t_end = time.time() + FUZZ_SECONDS
        done = 0
        with ThreadPoolExecutor(max_workers=8) as pool:
            while done < FUZZ_REQUESTS and time.time() < t_end:
                batch = range(done, min(done + 100, FUZZ_REQUESTS))
                list(pool.map(lambda i: one_fuzz_case(d.port, seed * 1_000_003 + i), batch))
                done += len(batch)
                if d.proc.poll() is not None:
                    pytest.fail(f"docktail died within requests {batch.start}..{batch.stop - 1} (seed {seed}): "
                                + crash_summary(d.logs()))
                assert healthz_status(d) == 200, f"/healthz not 200 after {done} requests (seed {seed})"
        print(f"sent {done} requests")
        assert_alive(d, f"{done} random requests (seed {seed})")
        deadline = time.time() + 10
        while time.time() < deadline and fd_count(d.proc.pid) > baseline + 20:
            time.sleep(0.5)
        assert fd_count(d.proc.pid) <= baseline + 20, (baseline, fd_count(d.proc.pid))
    finally:
        d.stop()
