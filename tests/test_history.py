"""History (issue 11) against the real engine: /api/containers/{ref}/logs pages with cursors, and
the .txt / .jsonl downloads. Every page and every byte is compared with what the engine itself
holds (its raw API answer, or `docker logs`). Loopback only; every wait is bounded."""
import json
import re
import socket
import struct
import subprocess
import threading
import time
import urllib.parse
from datetime import datetime, timezone

import pytest

from helpers import read_answer


# ---------------------------------------------------------------------------------------------
# helpers


def ts_ns(ts):
    """Engine stamp (fraction of any length) -> integer nanoseconds, to compare stamps exactly."""
    m = re.fullmatch(r"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d+))?Z", ts)
    secs = int(datetime.strptime(m.group(1), "%Y-%m-%dT%H:%M:%S").replace(tzinfo=timezone.utc).timestamp())
    return secs * 10**9 + int((m.group(2) or "0").ljust(9, "0")[:9])


def engine_lines(engine, ref, query="stdout=1&stderr=1&timestamps=1", tty=False):
    """The engine's own log (raw API, follow=0), as (ts, stream, line) in the order it stores it;
    pieces of lines over 16 KiB joined, as docktail joins them."""
    data = engine.raw_logs(ref, query)
    entries = []
    if tty:
        for raw in data.split(b"\n"):
            if raw:
                ts, _, text = raw.partition(b" ")
                entries.append((ts.decode(), "stdout", text + b"\n"))
    else:
        i = 0
        while i + 8 <= len(data):
            stream, n = data[i], struct.unpack(">I", data[i + 4:i + 8])[0]
            payload = data[i + 8:i + 8 + n]
            i += 8 + n
            ts, _, text = payload.partition(b" ")
            entries.append((ts.decode(), "stdout" if stream == 1 else "stderr", text))
    out, pending = [], {}
    for ts, stream, text in entries:
        first_ts, acc = pending.pop(stream, (ts, b""))
        acc += text
        if acc.endswith(b"\n"):
            out.append((first_ts, stream, acc[:-1].rstrip(b"\r").decode()))
        else:
            pending[stream] = (first_ts, acc)
    for stream, (ts, acc) in pending.items():
        out.append((ts, stream, acc.decode()))
    return out


def triples(lines):
    return [(l["ts"], l["stream"], l["line"]) for l in lines]


def get_page(server, ref, **params):
    status, _, body = server.get(f"/api/containers/{ref}/logs?" + urllib.parse.urlencode(params), timeout=60)
    assert status == 200, body
    return json.loads(body)


def page_all(server, ref, limit, on_page=None, **params):
    """Pages from the newest to the first; returns (lines oldest first, pages, seconds)."""
    pages, cursor, t0 = [], None, time.time()
    for _ in range(100000):
        q = dict(params, limit=limit)
        if cursor:
            # The entry point starts the walk; the cursor carries it on.
            for k in ("before", "stream", "ordinal"):
                q.pop(k, None)
            q["cursor"] = cursor
        p = get_page(server, ref, **q)
        pages.append(p)
        if on_page:
            on_page(p)
        cursor = p["cursor"]
        if cursor is None:
            break
        assert p["lines"], "a page with a cursor moves back"
    lines = [l for p in reversed(pages) for l in p["lines"]]
    return lines, pages, time.time() - t0


def wait_for(predicate, timeout, what):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if predicate():
            return
        time.sleep(0.2)
    raise TimeoutError(what)


class Conn:
    """A raw HTTP/1.1 client that reads chunked bodies itself (so a missing last chunk shows)."""

    def __init__(self, port, rcvbuf=None, timeout=30):
        self.sock = socket.socket()
        if rcvbuf:
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        self.sock.settimeout(timeout)
        self.sock.connect(("127.0.0.1", port))
        self.buf = b""
        self.eof = False

    def send(self, data):
        self.sock.sendall(data)

    def get(self, path, method="GET", version="1.1"):
        self.send(f"{method} {path} HTTP/{version}\r\nHost: 127.0.0.1\r\n\r\n".encode())

    def _fill(self, n=1 << 20):
        if self.eof:
            return False
        try:
            d = self.sock.recv(n)
        except (ConnectionResetError, BrokenPipeError):
            d = b""
        if not d:
            self.eof = True
            return False
        self.buf += d
        return True

    def _line(self):
        while b"\r\n" not in self.buf:
            if not self._fill():
                return None
        line, self.buf = self.buf.split(b"\r\n", 1)
        return line

    def head(self):
        while b"\r\n\r\n" not in self.buf:
            assert self._fill(), "closed before a response head"
        head, self.buf = self.buf.split(b"\r\n\r\n", 1)
        lines = head.decode("latin-1").split("\r\n")
        headers = {}
        for l in lines[1:]:
            k, v = l.split(":", 1)
            headers[k.strip().lower()] = v.strip()
        return int(lines[0].split()[1]), headers

    def chunked(self, pace=None):
        """(body, complete): complete only when the last chunk (size 0) and its CRLF arrived."""
        body = bytearray()
        while True:
            size_line = self._line()
            if size_line is None:
                return bytes(body), False
            size = int(size_line.split(b";")[0], 16)
            if size == 0:
                return bytes(body), self._line() == b""
            while len(self.buf) < size + 2:
                if pace:
                    pace()
                if not self._fill(65536 if pace else 1 << 20):
                    body += self.buf[:size]
                    return bytes(body), False
            assert self.buf[size:size + 2] == b"\r\n", "chunk not followed by CRLF"
            body += self.buf[:size]
            self.buf = self.buf[size + 2:]

    def body(self, n):
        while len(self.buf) < n:
            assert self._fill(), "closed inside a body"
        out, self.buf = self.buf[:n], self.buf[n:]
        return out

    def until_close(self):
        while self._fill():
            pass
        out, self.buf = self.buf, b""
        return out

    def close(self):
        self.sock.close()


def download(server, path):
    c = Conn(server.port)
    c.get(path)
    status, headers = c.head()
    body, complete = c.chunked() if status == 200 else (c.buf, True)
    c.close()
    return status, headers, body, complete


def docker_logs(engine, *args):
    """`docker logs` as the CLI prints it: (stdout, stderr)."""
    r = subprocess.run(["docker", "-H", engine.url, "logs", *args], capture_output=True, timeout=120)
    assert r.returncode == 0, r.stderr
    return r.stdout, r.stderr


# ---------------------------------------------------------------------------------------------
# pages


def test_page_200000_lines_while_the_container_writes(server, engine):
    """200,000 numbered stdout lines (and an stderr line every 1,000), then a line every ~20 ms
    while the test pages from the newest line to the first with limit=5000."""
    engine.run("hist-big", "awk 'BEGIN{for(i=1;i<=200000;i++){print i; if(i%1000==0) print \"e\" i > \"/dev/stderr\"}}'; "
               "i=200001; while true; do echo $i; i=$((i+1)); usleep 20000; done")

    def written():
        lines = get_page(server, "hist-big", limit=1, stderr=0)["lines"]
        return lines and int(lines[0]["line"]) > 200000
    wait_for(written, 120, "200,000 lines written")
    first = {}

    def on_page(p):
        if not first:
            first.update(p)
    lines, pages, seconds = page_all(server, "hist-big", 5000, on_page=on_page)
    print(f"\npaged {len(lines)} lines in {len(pages)} pages in {seconds:.2f} s")
    assert len(pages[0]["lines"]) == 5000
    newest = pages[0]["lines"][-1]
    # The container went on writing: the first page was its newest line then, no later line
    # reached any page.
    later = get_page(server, "hist-big", limit=1, stderr=0)["lines"][0]
    assert int(later["line"]) > int(newest["line"])
    out = [int(l["line"]) for l in lines if l["stream"] == "stdout"]
    assert out == list(range(1, int(newest["line"]) + 1)), "every number exactly once, in order"
    assert [l["line"] for l in lines if l["stream"] == "stderr"] == [f"e{i}" for i in range(1000, 200001, 1000)]
    # (awk's stdout is block-buffered in a pipe and its stderr is not: `e1000` may be written, and
    # stamped, before lines 1 to 1000; the engine's order decides, compared below.)
    assert pages[-1]["cursor"] is None and [l["line"] for l in pages[-1]["lines"] if l["stream"] == "stdout"][0] == "1"
    # Exactly the engine's log as it stood at the first page, in its order across both streams.
    raw = engine_lines(engine, "hist-big")
    cut = raw.index((newest["ts"], newest["stream"], newest["line"]))
    assert triples(lines) == raw[:cut + 1]


def test_tty_paged_with_small_limits(server, engine):
    engine.run("hist-tty", 'for i in $(seq 1 3000); do echo "a$i"; done', tty=True)
    engine.wait_exit("hist-tty")
    stdout, _ = docker_logs(engine, "-t", "hist-tty")
    expected = [tuple(l.split(" ", 1)) for l in stdout.decode().replace("\r\n", "\n").split("\n") if l]
    assert len(expected) == 3000
    for limit in [7, 1000]:
        lines, pages, seconds = page_all(server, "hist-tty", limit)
        assert [(l["ts"], l["line"]) for l in lines] == expected, limit
        assert all(l["stream"] == "stdout" for l in lines)
        assert len(pages) == -(-3000 // limit)
    # stderr only: a TTY has none.
    assert get_page(server, "hist-tty", stdout=0) == {"lines": [], "cursor": None}


def test_long_lines_both_streams_tiny_pages(server, engine):
    """Lines over 16 KiB are several engine entries (one stamp): windows begin inside them."""
    engine.run("hist-long", 'for i in $(seq 1 12); do echo "o$i"; printf "L$i%.0s" $(seq 1 9000); echo; '
                            'echo "e$i" >&2; if [ $((i % 3)) = 0 ]; then printf "E$i%.0s" $(seq 1 7000) >&2; echo >&2; fi; done')
    engine.wait_exit("hist-long")
    raw = engine_lines(engine, "hist-long")
    assert len(raw) == 12 * 3 + 4 and max(len(t[2]) for t in raw) > 20000
    for limit in [1, 2, 5]:
        lines, _, _ = page_all(server, "hist-long", limit)
        assert triples(lines) == raw, limit
    for limit in [1, 3]:
        lines, _, _ = page_all(server, "hist-long", limit, stdout=0)
        assert triples(lines) == [t for t in raw if t[1] == "stderr"]


def test_streams_grep_and_the_before_entry_point(server, engine):
    engine.run("hist-sel", 'for i in $(seq 1 60); do echo "out $i"; echo "err $i" >&2; usleep 2000; done')
    engine.wait_exit("hist-sel")
    raw = engine_lines(engine, "hist-sel")
    assert len(raw) == 120
    whole = get_page(server, "hist-sel", limit=5000)
    assert whole["cursor"] is None and triples(whole["lines"]) == raw
    for limit in [1, 7]:
        assert triples(page_all(server, "hist-sel", limit, stdout=0)[0]) == [t for t in raw if t[1] == "stderr"]
        assert triples(page_all(server, "hist-sel", limit, stderr=0)[0]) == [t for t in raw if t[1] == "stdout"]
        grep = [t for t in raw if re.search(r"^out 1", t[2])]
        assert triples(page_all(server, "hist-sel", limit, grep="^out 1")[0]) == grep
        assert triples(page_all(server, "hist-sel", limit, grep="^OUT 1", icase=1)[0]) == grep
    # The viewer's entry point: the lines before the 30th stdout line.
    outs = [t for t in raw if t[1] == "stdout"]
    target = outs[29]
    ordinal = 1 + sum(1 for t in outs[:29] if t[0] == target[0])
    t_ns = ts_ns(target[0])
    expected = [t for t in raw[:raw.index(target)] if t[1] == "stdout" or ts_ns(t[0]) < t_ns]
    expected += [t for t in raw[raw.index(target):] if t[1] == "stderr" and ts_ns(t[0]) < t_ns]
    expected.sort(key=raw.index)
    p = get_page(server, "hist-sel", before=target[0], stream="stdout", ordinal=ordinal, limit=5000)
    assert p["cursor"] is None and triples(p["lines"]) == expected
    lines, _, _ = page_all(server, "hist-sel", 4, before=target[0], stream="stdout", ordinal=ordinal)
    assert triples(lines) == expected
    # Unix seconds name the same instant.
    unix = f"{t_ns // 10**9}.{t_ns % 10**9:09d}"
    assert triples(get_page(server, "hist-sel", before=unix, stream="stdout", limit=5000)["lines"]) == expected


def test_page_and_download_errors(server, engine):
    engine.run("hist-err", "echo hi")
    engine.wait_exit("hist-err")
    from base64 import urlsafe_b64encode

    def b64(s):
        return urlsafe_b64encode(s.encode()).decode().rstrip("=")
    cases = [("limit=0", "limit"), ("limit=5001", "limit"), ("limit=abc", "limit"), ("limit=-1", "limit"),
             ("cursor=%21%21", "cursor"), ("cursor=" + b64("1|a|a|0") + "==", "cursor"), ("cursor=" + b64("1|u99999999999999999999|a|0"), "cursor"),
             ("cursor=" + b64("1|b5:0|a|0"), "cursor"), ("cursor=" + b64("9|a|a|0"), "cursor"), ("cursor=" + "A" * 500, "cursor"),
             ("before=soon", "before"), ("before=1&cursor=" + b64("1|a|a|0"), "before"), ("before=1&stream=both", "stream"),
             ("stream=stdout", "stream"), ("before=1&ordinal=2", "ordinal"), ("before=1&stream=stderr&ordinal=0", "ordinal"),
             ("stdout=0&stderr=0", "stdout"), ("grep=%28x", "grep"), ("grep=a&icase=2", "icase")]
    for q, name in cases:
        status, _, body = server.get(f"/api/containers/hist-err/logs?{q}")
        assert status == 400, q
        assert json.loads(body)["error"].startswith(f"{name}:"), (q, body)
    # A forged but well-formed cursor is just a position: valid, and it cannot reach newer lines.
    assert get_page(server, "hist-err", cursor=b64("1|b0:1|b0:1|0")) == {"lines": [], "cursor": None}
    for q, name in [("since=x", "since"), ("until=2263-01-01T00:00:00Z", "until"), ("stdout=0&stderr=0", "stdout"),
                    ("timestamps=2", "timestamps"), ("grep=%5B", "grep")]:
        for ext in ["txt", "jsonl"]:
            status, _, body = server.get(f"/api/containers/hist-err/logs.{ext}?{q}")
            assert status == 400 and json.loads(body)["error"].startswith(f"{name}:"), (ext, q, body)
    for path in ["/api/containers/no-such/logs", "/api/containers/no-such/logs.txt", "/api/containers/no-such/logs.jsonl",
                 "/api/containers/.hidden/logs.txt"]:
        assert server.get(path)[0] == 404, path
    assert server.get("/api/containers/hist-err/logs?host=nope")[0] == 400
    assert server.get("/api/containers/hist-err/logs.csv")[0] == 404


# ---------------------------------------------------------------------------------------------
# downloads


def test_downloads_equal_docker_logs(server, engine):
    engine.run("hist-dl", 'for i in $(seq 1 300); do echo "out $i \\"q\\" \\\\ tab\there"; echo "err $i" >&2; '
                          'if [ $((i % 100)) = 0 ]; then sleep 1; fi; done')
    engine.wait_exit("hist-dl")
    raw = engine_lines(engine, "hist-dl")
    assert len(raw) == 600
    status, headers, body, complete = download(server, "/api/containers/hist-dl/logs.txt?stderr=0")
    assert status == 200 and complete
    assert headers["transfer-encoding"] == "chunked" and "content-length" not in headers
    assert headers["content-disposition"] == 'attachment; filename="hist-dl.log"'
    assert headers["content-type"].startswith("text/plain")
    cli_out, cli_err = docker_logs(engine, "hist-dl")
    assert body == cli_out
    assert download(server, "/api/containers/hist-dl/logs.txt?stdout=0")[2] == cli_err
    cli_out_t, cli_err_t = docker_logs(engine, "-t", "hist-dl")
    assert download(server, "/api/containers/hist-dl/logs.txt?stderr=0&timestamps=1")[2] == cli_out_t
    assert download(server, "/api/containers/hist-dl/logs.txt?stdout=0&timestamps=1")[2] == cli_err_t
    # Both streams: the engine's order across them (what `docker logs` reads before splitting).
    both = download(server, "/api/containers/hist-dl/logs.txt?timestamps=1")[2]
    assert both.decode() == "".join(f"{t[0]} {t[2]}\n" for t in raw)
    # since/until, inclusive, exactly as the engine applies them for docker logs.
    since, until = raw[150][0], raw[450][0]
    for args, q in [(("--since", since), f"since={since}"), (("--until", until), f"until={until}"),
                    (("--since", since, "--until", until), f"since={since}&until={until}"),
                    (("--since", "1h"), "since=1h"), (("--until", "1970-01-02T00:00:00Z"), "until=1970-01-02T00:00:00Z")]:
        out, err = docker_logs(engine, "-t", *args, "hist-dl")
        assert download(server, f"/api/containers/hist-dl/logs.txt?timestamps=1&stderr=0&{q}")[2] == out, q
        assert download(server, f"/api/containers/hist-dl/logs.txt?timestamps=1&stdout=0&{q}")[2] == err, q
    # JSON Lines: one object per line, the same lines.
    status, headers, body, complete = download(server, "/api/containers/hist-dl/logs.jsonl")
    assert status == 200 and complete and headers["content-disposition"] == 'attachment; filename="hist-dl.jsonl"'
    objs = [json.loads(l) for l in body.decode().split("\n") if l]
    assert body.endswith(b"\n") and [(o["ts"], o["stream"], o["line"]) for o in objs] == raw
    # grep
    g = download(server, "/api/containers/hist-dl/logs.jsonl?grep=%5Eerr%20%2877%7C88%29%24")[2]
    assert [json.loads(l)["line"] for l in g.decode().split("\n") if l] == ["err 77", "err 88"]
    # An empty selection is an empty file, properly ended.
    status, _, body, complete = download(server, "/api/containers/hist-dl/logs.txt?grep=nothing-matches")
    assert status == 200 and complete and body == b""


def test_download_head_pipelining_and_http10(server, engine):
    engine.run("hist-pipe", 'seq 1 20000')
    engine.wait_exit("hist-pipe")
    expected = "".join(f"{i}\n" for i in range(1, 20001)).encode()
    # HEAD: the head only; the connection goes on.
    c = Conn(server.port)
    c.get("/api/containers/hist-pipe/logs.txt", method="HEAD")
    status, headers = c.head()
    assert status == 200 and headers["transfer-encoding"] == "chunked"
    c.get("/healthz")
    status, headers = c.head()
    assert status == 200 and json.loads(c.body(int(headers["content-length"])))["status"] == "ok"
    c.close()
    # Pipelined: the second request waits for the whole streamed answer.
    c = Conn(server.port)
    c.send(b"GET /api/containers/hist-pipe/logs.txt HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
           b"GET /api/containers/hist-pipe/logs.jsonl?grep=%5E19999%24 HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
           b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
    assert c.head()[0] == 200
    assert c.chunked() == (expected, True)
    assert c.head()[0] == 200
    body, complete = c.chunked()
    assert complete and json.loads(body)["line"] == "19999"
    status, headers = c.head()
    assert status == 200
    assert json.loads(c.until_close())["status"] == "ok"
    # HTTP/1.0 cannot take chunks: the body ends with the connection.
    c = Conn(server.port)
    c.get("/api/containers/hist-pipe/logs.txt", version="1.0")
    status, headers = c.head()
    assert status == 200 and "transfer-encoding" not in headers and headers.get("connection") == "close"
    assert c.until_close() == expected


def test_slow_reader_of_a_large_download_stays_bounded(server, engine):
    """A 40 MB log read by a client with a small receive buffer, slowly: docktail pauses the
    engine read instead of buffering, so its RSS stays far below the log's size; every byte
    arrives, in order."""
    n = 400000
    engine.run("hist-huge", f"awk 'BEGIN{{for(i=1;i<=%d;i++) printf \"%%08d %%s\\n\", i, \"{'x' * 90}\"}}'" % n)
    engine.wait_exit("hist-huge", timeout=120)
    rss0 = server.rss_kib()
    c = Conn(server.port, rcvbuf=16384, timeout=60)
    c.get("/api/containers/hist-huge/logs.txt")
    assert c.head()[0] == 200
    samples = []
    state = {"last": 0.0, "reads": 0}

    def pace():
        # About 8 MB/s at most: far slower than docktail and the engine can go.
        state["reads"] += 1
        time.sleep(0.008)
        now = time.time()
        if now - state["last"] > 0.2:
            state["last"] = now
            samples.append(server.rss_kib())
    t0 = time.time()
    body, complete = c.chunked(pace=pace)
    c.close()
    seconds = time.time() - t0
    assert complete
    lines = body.split(b"\n")
    assert lines[-1] == b"" and len(lines) == n + 1
    assert lines[0] == b"00000001 " + b"x" * 90 and lines[n - 1].startswith(b"%08d " % n)
    assert all(int(l[:8]) == i + 1 for i, l in enumerate(lines[:-1]))
    peak = max(samples)
    print(f"\n{len(body) / 1e6:.1f} MB in {seconds:.1f} s; RSS {rss0} KiB -> peak {peak} KiB ({len(samples)} samples)")
    assert len(samples) >= 5
    # The log is ~40 MB; docktail holds one engine read's worth plus the client's budget.
    assert peak - rss0 < 24 * 1024, (rss0, peak)


class CuttableProxy:
    """A loopback TCP port in front of the engine's unix socket whose connections can be cut."""

    def __init__(self, unix_path):
        self.unix_path = unix_path
        self.listener = socket.socket()
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(64)
        self.port = self.listener.getsockname()[1]
        self.sockets = []
        self.lock = threading.Lock()
        threading.Thread(target=self.accept, daemon=True).start()

    def accept(self):
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            upstream = socket.socket(socket.AF_UNIX)
            upstream.connect(self.unix_path)
            with self.lock:
                self.sockets += [client, upstream]
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self.pipe, args=(a, b), daemon=True).start()

    @staticmethod
    def pipe(a, b):
        try:
            while True:
                d = a.recv(65536)
                if not d:
                    break
                b.sendall(d)
        except OSError:
            pass

    def cut(self):
        with self.lock:
            for s in self.sockets:
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
                s.close()
            self.sockets = []

    def close(self):
        self.cut()
        self.listener.close()


def test_engine_failure_mid_download_truncates_the_transfer(docktail, engine):
    engine.run("hist-cut", "awk 'BEGIN{for(i=1;i<=300000;i++) printf \"%08d %s\\n\", i, \"yyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyy\"}'")
    engine.wait_exit("hist-cut", timeout=120)
    proxy = CuttableProxy(engine.sock)
    try:
        d = docktail(engine_url=f"tcp://127.0.0.1:{proxy.port}")
        c = Conn(d.port, rcvbuf=8192, timeout=30)
        c.get("/api/containers/hist-cut/logs.txt")
        assert c.head()[0] == 200
        # Do not read: docktail fills this socket, pauses the engine read; then the engine
        # connection breaks.
        time.sleep(1.0)
        proxy.cut()
        body, complete = c.chunked()
        assert not complete, "the last chunk must be missing"
        assert 0 < len(body) < 300000 * 48
        assert body.startswith(b"00000001 ")
        wait_for(lambda: "download cut short" in d.logs(), 10, "the engine error is logged")
        # docktail itself is fine (the cut broke its events stream too: it reconnects).
        wait_for(lambda: d.get("/healthz")[0] == 200, 20, "the engine is back")
        assert d.proc.poll() is None
    finally:
        proxy.close()


def test_client_leaving_mid_download_stops_the_engine_read(server, engine):
    engine.run("hist-leave", "awk 'BEGIN{for(i=1;i<=300000;i++) printf \"%08d %s\\n\", i, \"zzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzz\"}'")
    engine.wait_exit("hist-leave", timeout=120)
    for _ in range(3):
        c = Conn(server.port, rcvbuf=8192)
        c.get("/api/containers/hist-leave/logs.jsonl")
        assert c.head()[0] == 200
        c._fill(4096)
        c.close()
    wait_for(lambda: server.logs().count("download: client went away") >= 3, 10, "the reads stopped")
    status, _, body, complete = download(server, "/api/containers/hist-leave/logs.txt?grep=%5E00299999")
    assert complete and body.startswith(b"00299999 ")


def test_history_routes_need_a_token(docktail, engine):
    engine.run("hist-token", "echo secret")
    engine.wait_exit("hist-token")
    d = docktail(config={"auth": {"tokens": ["history-token-1"]}})
    for path in ["/api/containers/hist-token/logs", "/api/containers/hist-token/logs.txt", "/api/containers/hist-token/logs.jsonl",
                 "/api/containers/hist-token//logs.txt", "/api/containers/hist-token/%6Cogs.jsonl"]:
        status, headers, body = d.get(path)
        assert status == 401 and b"secret" not in body, path
        status, headers, body = d.get(path, headers={"Authorization": "Bearer history-token-1"})
        assert status == 200 and b"secret" in body, path
