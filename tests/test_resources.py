"""Resources and lifecycle against the real engine: crash loops, exact drop accounting, slow and
hostile clients, bounded memory and file descriptors, `until` on the shared hub."""
import json
import os
import socket
import struct
import threading
import time

from helpers import WS, events, log_lines


def collect(ws, until=None, timeout=30):
    out = []
    deadline = time.time() + timeout
    ws.sock.settimeout(timeout)
    while time.time() < deadline:
        try:
            m = ws.recv()
        except socket.timeout:
            break
        out.append(m)
        if isinstance(m, tuple) or (until and until(out)):
            break
    return out


def fds(d):
    return len(os.listdir(f"/proc/{d.proc.pid}/fd"))


def restart_count(engine, name):
    return int(engine.docker("inspect", "-f", "{{.RestartCount}}", name))


def test_crash_loop_keeps_docktail_alive_with_bounded_engine_requests(docktail, engine):
    d = docktail()
    # Exits after a moment, forever: the engine says Running=true while it waits to restart.
    engine.run("crashloop", 'echo "run $(cat /proc/sys/kernel/random/uuid)"; sleep 0.3; exit 3', extra=("--restart", "always"))
    w = d.ws("/logs/crashloop?tail=all")
    requests_before = d.metric("engine_requests_total")
    restarts_before = restart_count(engine, "crashloop")
    msgs = collect(w, timeout=25)
    assert d.proc.poll() is None
    restarts = restart_count(engine, "crashloop") - restarts_before
    requests = d.metric("engine_requests_total") - requests_before
    assert restarts >= 3
    # A few requests per restart (follow, tail re-read, inspects), never a tight loop.
    assert requests <= 6 * (restarts + 2), (requests, restarts)
    engine.docker("rm", "-f", "crashloop")
    # Every run's line once, with end/restart between runs.
    seq = []
    for m in msgs:
        if not isinstance(m, str):
            continue
        o = json.loads(m)
        if "line" in o:
            seq.append(o["line"])
        elif o["event"] in ("end", "restart"):
            seq.append("<" + o["event"] + ">")
    runs = [x for x in seq if x.startswith("run ")]
    assert len(runs) == len(set(runs)), "a run's line came twice"
    assert len(runs) >= 3
    # Between two runs' lines: exactly one end then one restart.
    body = seq[seq.index(runs[0]):seq.index(runs[-1]) + 1]
    for a, b in zip(runs, runs[1:]):
        between = body[body.index(a) + 1:body.index(b)]
        assert between == ["<end>", "<restart>"], (a, b, between)


def test_rapid_restarts_each_get_end_and_restart_in_order(docktail, engine):
    d = docktail()
    engine.run("rapid", 'echo "run $(cat /proc/sys/kernel/random/uuid)"')
    engine.wait_exit("rapid")
    w = d.ws("/logs/rapid?tail=all")
    first = collect(w, until=lambda m: any('"event":"end"' in x for x in m if isinstance(x, str)), timeout=15)
    assert events(first)[-1]["event"] == "end"
    n = 12
    for _ in range(n):
        engine.docker("start", "rapid")
        engine.wait_exit("rapid")
        # Runs back to back, but not faster than the engine's events can travel: a restart
        # that beats its own `die` event to docktail is ordered on a best-effort basis (see
        # the README's lifecycle notes).
        time.sleep(0.2)
    msgs = collect(w, until=lambda m: sum('"event":"end"' in x for x in m if isinstance(x, str)) >= n, timeout=40)
    seq = []
    for m in msgs:
        if isinstance(m, str):
            o = json.loads(m)
            seq.append(o["line"][:3] if "line" in o else "<" + o["event"] + ">")
    assert [x[:3] if x.startswith("run") else x for x in seq] == ["<restart>", "run", "<end>"] * n, " ".join(seq)


def test_drop_accounting_is_exact_for_a_slow_reader(docktail, engine):
    d = docktail(config={"clientBufferBytes": 1 << 20, "timeouts": {"stalledClient": 60}})
    pad = "x" * 280
    n = 100000
    engine.run("burst", f'sleep 2; i=0; while [ $i -lt {n} ]; do i=$((i+1)); echo "b $i {pad}"; done; '
                        f'j=0; while [ $j -lt 10 ]; do j=$((j+1)); echo "t $j"; sleep 0.2; done')
    slow = d.ws("/logs/burst?tail=0", rcvbuf=8192)
    time.sleep(3.0)  # the burst piles up while the client reads nothing
    got, dropped = [], 0
    slow.sock.settimeout(20)
    deadline = time.time() + 60
    while time.time() < deadline:
        m = slow.recv()
        if isinstance(m, tuple):
            break
        o = json.loads(m)
        if "line" in o:
            got.append(o["line"].split()[0] + " " + o["line"].split()[1])
            time.sleep(0.00002)
            if got[-1] == "t 10":
                break
        elif o["event"] == "dropped":
            dropped += o["count"]
    engine.docker("rm", "-f", "burst")
    written = [f"b {i}" for i in range(1, n + 1)] + [f"t {j}" for j in range(1, 11)]
    assert dropped > 0, "the burst should have overrun a 1 MiB budget"
    # In order, no duplicate, and every missing line announced.
    idx = [written.index(x) for x in got]
    assert idx == sorted(idx) and len(set(idx)) == len(idx)
    assert len(got) + dropped == len(written), (len(got), dropped)
    assert d.metric("lines_dropped_total") == dropped


def test_drop_accounting_through_catch_up(docktail, engine):
    d = docktail(config={"ringLines": 20, "catchUpBytes": 65536})
    pad = "y" * 200
    engine.run("catch", f'i=0; while [ $i -lt 3000 ]; do i=$((i+1)); echo "a $i {pad}"; done; '
                        f'i=0; while [ $i -lt 30000 ]; do i=$((i+1)); echo "c $i {pad}"; [ $((i % 1000)) -eq 0 ] && sleep 0.05; done; sleep 1')
    first = d.ws("/logs/catch?tail=0")  # keeps the hub following
    time.sleep(0.5)
    late = d.ws("/logs/catch?tail=all", rcvbuf=8192)
    time.sleep(2)
    msgs = collect(late, until=lambda m: any('"event":"end"' in x for x in m if isinstance(x, str)), timeout=60)
    lines = [l["line"].split()[0] + " " + l["line"].split()[1] for l in log_lines(msgs)]
    dropped = sum(e["count"] for e in events(msgs) if e["event"] == "dropped")
    written = [f"a {i}" for i in range(1, 3001)] + [f"c {i}" for i in range(1, 30001)]
    pos = {x: k for k, x in enumerate(written)}
    idx = [pos[x] for x in lines]
    assert idx == sorted(idx) and len(set(idx)) == len(idx)
    assert len(lines) + dropped == len(written), (len(lines), dropped)
    first.close()


def test_slow_history_reader_gets_everything_and_a_close_frame(docktail, engine):
    d = docktail(config={"timeouts": {"close": 1}})
    engine.run("hist200k", 'i=0; while [ $i -lt 200000 ]; do i=$((i+1)); echo "h $i"; done')
    engine.wait_exit("hist200k", timeout=120)
    w = d.ws("/logs/hist200k?tail=all&follow=0", rcvbuf=16384)
    count, closed = 0, None
    w.sock.settimeout(30)
    t0 = time.time()
    while True:
        m = w.recv()
        if isinstance(m, tuple):
            closed = m
            break
        if not m.startswith('{"ts"'):
            continue
        count += 1
        if count % 5000 == 0:
            time.sleep(0.3)  # a slow reader: far slower than the close timeout allows for a burst
    assert count == 200000, count
    assert closed[:2] == ("close", 1000)
    assert time.time() - t0 > 1.5


def test_follow_with_future_until_rides_the_shared_hub(docktail, engine):
    d = docktail()
    engine.run("untilc", 'i=0; while true; do i=$((i+1)); echo "u $i"; sleep 0.1; done')
    time.sleep(0.5)
    until = time.time() + 3
    stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(until)) + f".{int((until % 1) * 1e9):09d}Z"
    opened = d.metric("upstream_streams_opened_total")
    clients = [d.ws(f"/logs/untilc?tail=0&until={stamp}") for _ in range(10)]
    time.sleep(1)
    assert d.metric("upstream_streams") == 1
    assert d.metric("upstream_streams_opened_total") - opened == 1
    for w in clients:
        msgs = collect(w, timeout=10)
        assert msgs[-1][:2] == ("close", 1000)
        lines = log_lines(msgs)
        assert lines and all(l["ts"] <= stamp for l in lines)
    engine.docker("rm", "-f", "untilc")


def test_hostile_clients_are_bounded_and_their_fds_return(docktail, engine):
    d = docktail(config={"clientBufferBytes": 262144, "timeouts": {"close": 1, "stalledClient": 3, "header": 2, "keepAlive": 3}})
    engine.run("chatty", 'i=0; while true; do i=$((i+1)); echo "chatty line $i with some padding to make it longer"; done')
    time.sleep(0.5)
    base_fds = fds(d)
    rss0 = d.rss_kib()
    socks = []
    # 1. Pipelined requests from a client that never reads.
    for _ in range(4):
        s = socket.create_connection(("127.0.0.1", d.port))
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        s.setblocking(False)
        req = b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n" * 2000
        try:
            s.send(req)
        except BlockingIOError:
            pass
        socks.append(s)
    # 2. A ping flood from a WebSocket client that never reads.
    for _ in range(4):
        w = WS(d.port, "/logs/chatty?tail=0", rcvbuf=4096)
        w.sock.setblocking(False)
        frame = WS.frame(0x9, b"p" * 100)
        for _ in range(20000):
            try:
                w.sock.send(frame)
            except (BlockingIOError, BrokenPipeError, ConnectionResetError):
                break
        socks.append(w.sock)
    # 3. Close, then stall with a zero window.
    for _ in range(4):
        w = WS(d.port, "/logs/chatty?tail=0", rcvbuf=4096)
        time.sleep(0.3)
        w.send(0x8, struct.pack("!H", 1000))
        socks.append(w.sock)
    # 4. A slowloris that only sends CRLFs.
    for _ in range(4):
        s = socket.create_connection(("127.0.0.1", d.port))
        s.send(b"\r\n")
        socks.append(s)
    for _ in range(3):
        time.sleep(0.5)
        for s in socks[-4:]:
            try:
                s.send(b"\r\n")
            except OSError:
                pass
    time.sleep(1)
    rss1 = d.rss_kib()
    assert d.proc.poll() is None
    # Each connection's memory is bounded by its budget, whatever the client does.
    assert rss1 - rss0 < 16 * 4 * 1024 + 32 * 1024, (rss0, rss1)
    # Within the close and stall timeouts every hostile connection is gone.
    deadline = time.time() + 15
    while time.time() < deadline and fds(d) > base_fds + 1:
        time.sleep(0.5)
    assert fds(d) <= base_fds + 1, (base_fds, fds(d))
    assert d.get("/healthz")[0] == 200
    for s in socks:
        s.close()
    engine.docker("rm", "-f", "chatty")


class HungEngine:
    """An engine that answers the calls docktail needs to attach, then never answers a log
    request: the only way to see the stream deadline work (a real engine always answers)."""

    def __init__(self, container="hung"):
        import http.server
        import socketserver

        info = {"Id": "a" * 64, "Name": "/" + container, "Config": {"Image": "x", "Tty": False, "Labels": {}},
                "State": {"Status": "running", "Running": True, "Restarting": False, "ExitCode": 0,
                          "StartedAt": "2026-11-29T00:00:00Z", "FinishedAt": "0001-01-01T00:00:00Z"},
                "Created": "2026-11-29T00:00:00Z"}
        self.hung = []

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *a):
                pass

            def do_GET(self):
                if "/logs" in self.path or "/events" in self.path:
                    owner.hung.append(self.connection)
                    time.sleep(30)  # never answers in time
                    return
                body = json.dumps({"ApiVersion": "1.41"} if self.path.endswith("/version") else info).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        owner = self
        self.server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


def test_a_hung_engine_stream_fails_within_its_deadline(docktail):
    engine = HungEngine()
    try:
        d = docktail(engine_url=f"tcp://127.0.0.1:{engine.port}", config={"timeouts": {"engineRequest": 1}})
        w = d.ws("/logs/hung?tail=0")
        assert w.status == 101
        t0 = time.time()
        msgs = collect(w, until=lambda m: any('"event":"error"' in x for x in m if isinstance(x, str)), timeout=10)
        errors = [e for e in events(msgs) if e["event"] == "error"]
        assert errors and "did not answer in time" in errors[0]["message"], msgs
        assert time.time() - t0 < 5
        assert d.proc.poll() is None and d.get("/healthz")[0] in (200, 503)
    finally:
        engine.close()


def test_accept_backs_off_when_file_descriptors_run_out(binary, engine, tmp_path):
    import resource
    import subprocess as sp
    from helpers import Docktail

    # docktail with room for a few dozen descriptors only.
    d = Docktail(binary, engine_url=engine.url, env={})
    d.stop()
    cfg = d.config_path
    log = open(tmp_path / "log", "w")
    proc = sp.Popen(["prlimit", "--nofile=48:48", binary, "--config", cfg], stdout=log, stderr=sp.STDOUT)
    try:
        port = None
        for _ in range(100):
            text = open(tmp_path / "log").read()
            m = __import__("re").search(r"address=[0-9.]+:(\d+)", text)
            if m:
                port = int(m.group(1))
                break
            time.sleep(0.05)
        assert port
        socks = []
        for _ in range(80):
            try:
                socks.append(socket.create_connection(("127.0.0.1", port), timeout=2))
            except OSError:
                break
        time.sleep(3)
        # Out of descriptors: no busy loop (a spinning accept would use a whole core).
        stat = open(f"/proc/{proc.pid}/stat").read().rsplit(")", 1)[1].split()
        cpu0 = (int(stat[11]) + int(stat[12])) / os.sysconf("SC_CLK_TCK")
        time.sleep(3)
        stat = open(f"/proc/{proc.pid}/stat").read().rsplit(")", 1)[1].split()
        cpu1 = (int(stat[11]) + int(stat[12])) / os.sysconf("SC_CLK_TCK")
        assert cpu1 - cpu0 < 1.0, cpu1 - cpu0
        assert open(tmp_path / "log").read().count("out of file descriptors") == 1
        for s in socks:
            s.close()
        # Descriptors back: it accepts again.
        deadline = time.time() + 10
        ok = False
        while time.time() < deadline and not ok:
            try:
                with urllib_request().urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as r:
                    ok = r.status == 200
            except Exception:  # noqa: BLE001 - retried until the deadline
                time.sleep(0.3)
        assert ok
    finally:
        proc.terminate()
        proc.wait(5)


def urllib_request():
    import urllib.request
    return urllib.request
