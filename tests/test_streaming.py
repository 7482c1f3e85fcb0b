"""Log streaming end to end against a real Docker engine (scripts/engine), never a fake."""
import json
import os
import re
import subprocess
import threading
import time

import pytest

from helpers import ROOT, Docktail, Engine, events, log_lines


def collect(ws, until=None, timeout=30):
    """Messages until a close frame, `until(msgs)` is true, or the timeout."""
    out = []
    deadline = time.time() + timeout
    ws.sock.settimeout(timeout)
    while time.time() < deadline:
        m = ws.recv()
        out.append(m)
        if isinstance(m, tuple) or (until and until(out)):
            break
    return out


def numbered(n, err=True, sleep=None):
    body = f'echo "out $i"; ' + ('echo "err $i" >&2; ' if err else '') + (f"sleep {sleep}; " if sleep else "")
    return f'i=1; while [ $i -le {n} ]; do {body}i=$((i+1)); done'


def test_twenty_thousand_lines_once_in_order(server, engine):
    engine.run("many", numbered(10000))
    live = server.ws("/logs/many?tail=all")
    engine.wait_exit("many")
    msgs = collect(live, until=lambda m: any('"event":"end"' in x for x in m if isinstance(x, str)))
    lines = log_lines(msgs)
    assert [l["line"] for l in lines if l["stream"] == "stdout"] == [f"out {i}" for i in range(1, 10001)]
    assert [l["line"] for l in lines if l["stream"] == "stderr"] == [f"err {i}" for i in range(1, 10001)]
    assert events(msgs)[0]["event"] == "subscribed" and events(msgs)[-1] == {"event": "end", "exitCode": 0}
    # The end carries the run's end (the engine's FinishedAt), a moment before now.
    end_time = events(msgs, keep_time=True)[-1]["time"]
    from datetime import datetime, timezone
    finished = datetime.strptime(end_time[:19], "%Y-%m-%dT%H:%M:%S").replace(tzinfo=timezone.utc).timestamp()
    assert abs(time.time() - finished) < 120, end_time
    # The same history with follow=0 closes with 1000 after the last line.
    msgs = collect(server.ws("/logs/many?tail=all&follow=0"))
    assert msgs[-1][:2] == ("close", 1000)
    assert len(log_lines(msgs)) == 20000
    ts = [l["ts"] for l in log_lines(msgs) if l["stream"] == "stdout"]
    assert ts == sorted(ts)


def test_history_parameters(server, engine):
    engine.run("hist", numbered(10, sleep=0.2))
    engine.wait_exit("hist")
    full = log_lines(collect(server.ws("/logs/hist?tail=all&follow=0")))
    assert len(full) == 20
    assert [l["line"] for l in log_lines(collect(server.ws("/logs/hist?tail=3&follow=0&stderr=0")))] == ["out 8", "out 9", "out 10"]
    assert [l["line"] for l in log_lines(collect(server.ws("/logs/hist?tail=2&follow=0&stdout=0")))] == ["err 9", "err 10"]
    assert log_lines(collect(server.ws("/logs/hist?tail=0&follow=0"))) == []
    # since/until use the engine's timestamps: RFC 3339 and Unix seconds with a fraction.
    mid = full[10]["ts"]
    since = log_lines(collect(server.ws(f"/logs/hist?tail=all&follow=0&since={mid}")))
    assert since[0]["ts"] >= mid and len(since) < 20 and len(since) >= 9
    from datetime import datetime, timezone
    secs = datetime.strptime(mid[:19], "%Y-%m-%dT%H:%M:%S").replace(tzinfo=timezone.utc).timestamp()
    unix = f"{int(secs)}.{mid[20:29]}"
    assert log_lines(collect(server.ws(f"/logs/hist?tail=all&follow=0&since={unix}"))) == since
    until = log_lines(collect(server.ws(f"/logs/hist?tail=all&follow=0&until={mid}")))
    assert until and all(l["ts"] <= mid for l in until) and len(until) + len(since) >= 20
    assert len(log_lines(collect(server.ws("/logs/hist?tail=all&follow=0&since=1h")))) == 20
    assert len(log_lines(collect(server.ws("/logs/hist?tail=all&follow=0&until=1h")))) == 0
    # follow=1 with until ends at until and closes 1000.
    msgs = collect(server.ws(f"/logs/hist?tail=all&until={mid}"))
    assert msgs[-1][:2] == ("close", 1000)
    # text format, with and without timestamps; no events.
    text = collect(server.ws("/logs/hist?tail=2&follow=0&format=text&stderr=0"))
    assert text[:2] == ["out 9", "out 10"] and text[-1][:2] == ("close", 1000)
    stamped = collect(server.ws("/logs/hist?tail=1&follow=0&format=text&timestamps=1&stderr=0"))
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT[\d:.]+Z out 10", stamped[0])


def test_bad_requests(server, engine):
    engine.run("exists", "echo hi")
    for q, name in [("tail=x", "tail"), ("since=soon", "since"), ("until=x", "until"), ("stdout=0&stderr=0", "stdout"),
                    ("follow=2", "follow"), ("format=xml", "format"), ("timestamps=yes", "timestamps")]:
        w = server.ws(f"/logs/exists?{q}")
        assert w.status == 400, q
        assert name in json.loads(w.body)["error"]
    w = server.ws("/logs/does-not-exist")
    assert w.status == 404 and "error" in json.loads(w.body)
    assert server.ws("/logs/exists?host=nope").status == 400


def test_engine_unreachable_is_502(docktail):
    d = docktail(engine_url="unix:///tmp/docktail-no-such-engine.sock")
    assert d.ws("/logs/anything").status == 502
    status, body = d.json("/healthz")
    assert status == 503 and body["engines"][0]["ok"] is False
    assert d.get("/api/containers")[0] == 502
    status, hosts = d.json("/api/hosts")
    assert len(hosts) == 1
    h = hosts[0]
    assert {k: h[k] for k in ("name", "url", "ok", "tls", "apiVersion")} == \
        {"name": "local", "url": "unix:///tmp/docktail-no-such-engine.sock", "ok": False, "tls": False, "apiVersion": None}
    # The engine's own message, for whoever runs docktail (issue 10: errors a user can act on).
    assert isinstance(h["error"], str) and "docktail-no-such-engine.sock" in h["error"], h


class TcpToUnix:
    """A loopback TCP port in front of the engine's unix socket, so the tcp:// client path talks
    to the same real engine."""

    def __init__(self, unix_path):
        import socket as _s
        self.unix_path = unix_path
        self.listener = _s.socket()
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(64)
        self.port = self.listener.getsockname()[1]
        threading.Thread(target=self.accept, daemon=True).start()

    def accept(self):
        import socket as _s
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            upstream = _s.socket(_s.AF_UNIX)
            upstream.connect(self.unix_path)
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
        finally:
            for s in (a, b):
                try:
                    s.shutdown(2)
                except OSError:
                    pass

    def close(self):
        self.listener.close()


def test_tcp_engine(docktail, engine):
    proxy = TcpToUnix(engine.sock)
    try:
        d = docktail(engine_url=f"tcp://127.0.0.1:{proxy.port}")
        engine.run("over-tcp", 'echo "via tcp"; echo "err via tcp" >&2')
        engine.wait_exit("over-tcp")
        hosts = d.json("/api/hosts")[1]
        assert hosts[0]["url"] == f"tcp://127.0.0.1:{proxy.port}" and hosts[0]["ok"] is True and hosts[0]["apiVersion"] == "1.41"
        msgs = collect(d.ws("/logs/over-tcp?tail=all&follow=0"))
        assert sorted(l["line"] for l in log_lines(msgs)) == ["err via tcp", "via tcp"]
        assert [c["name"] for c in d.json("/api/containers?all=1")[1] if c["name"] == "over-tcp"] == ["over-tcp"]
        # A DNS name works too (resolved off the loop; `localhost` may give ::1 first, where
        # nothing listens, so the next address is tried).
        byname = docktail(engine_url=f"tcp://localhost:{proxy.port}")
        assert sorted(l["line"] for l in log_lines(collect(byname.ws("/logs/over-tcp?tail=all&follow=0")))) == ["err via tcp", "via tcp"]
        # A name that does not resolve is a clear engine error, not a hang.
        bad = docktail(engine_url="tcp://no-such-engine.invalid:2375")
        status, body = bad.json("/api/containers")
        assert status == 502
    finally:
        proxy.close()


def test_several_engines(docktail, engine):
    """Two engine entries (the same real engine under two names): every route spans both."""
    d = docktail(engine_url=None, config={"engines": [{"name": "one", "url": engine.url}, {"name": "two", "url": engine.url}]})
    engine.run("multi-host", "echo both; sleep 600")
    time.sleep(0.5)
    assert [h["name"] for h in d.json("/api/hosts")[1]] == ["one", "two"]
    hosts = sorted(c["host"] for c in d.json("/api/containers")[1] if c["name"] == "multi-host")
    assert hosts == ["one", "two"]
    for host in ["one", "two"]:
        msgs = collect(d.ws(f"/logs/multi-host?host={host}"), until=lambda m: any('"ts"' in x for x in m if isinstance(x, str)))
        assert events(msgs)[0]["host"] == host and log_lines(msgs)[0]["line"] == "both"
    # Each engine name has its own hub: two upstream streams.
    assert d.metric("upstream_streams_opened_total") == 2


def test_unanswered_close_is_cut(docktail, engine):
    d = docktail(config={"timeouts": {"close": 1}})
    engine.run("closing", "echo bye")
    engine.wait_exit("closing")
    w = d.ws("/logs/closing?follow=0")
    while True:
        op, _, payload = w.recv_frame()
        if op == 0x8:
            break
    # Never answer the close: the server cuts the TCP connection after timeouts.close.
    t0 = time.time()
    assert w.is_closed(5)
    assert time.time() - t0 < 3


def test_long_line_invalid_utf8_final_line(server, engine):
    engine.run("odd", 'printf "x%.0s" $(seq 1 100000); echo; printf "bad \\377 byte\\n"; sleep 1; printf "no newline"')
    w = server.ws("/logs/odd?tail=all")
    msgs = collect(w, until=lambda m: any('"event":"end"' in x for x in m if isinstance(x, str)))
    lines = log_lines(msgs)
    assert len(lines[0]["line"]) == 100000 and set(lines[0]["line"]) == {"x"}
    assert lines[1]["line"] == "bad \ufffd byte"
    assert lines[2]["line"] == "no newline"
    assert len(lines) == 3


def test_tty_lines_have_no_carriage_return(server, engine):
    engine.run("tty", 'echo one; printf "\\033[32mgreen\\033[0m\\n"; echo three', tty=True)
    engine.wait_exit("tty")
    msgs = collect(server.ws("/logs/tty?tail=all&follow=0"))
    assert events(msgs)[0]["tty"] is True
    assert [l["line"] for l in log_lines(msgs)] == ["one", "\x1b[32mgreen\x1b[0m", "three"]


def test_names_and_id_prefixes(server, engine):
    cid = engine.run("named", "echo by-id")
    engine.wait_exit("named")
    for ref in ["named", cid, cid[:12], cid[:5]]:
        msgs = collect(server.ws(f"/logs/{ref}?follow=0"))
        assert events(msgs)[0]["id"] == cid and events(msgs)[0]["name"] == "named"
        assert [l["line"] for l in log_lines(msgs)] == ["by-id"]


def test_one_upstream_for_many_clients(server, engine):
    engine.run("shared", numbered(400, err=False, sleep=0.01))
    opened_before = server.metric("upstream_streams_opened_total")
    clients = [server.ws("/logs/shared?tail=all") for _ in range(2)]
    time.sleep(0.5)
    assert server.metric("upstream_streams") == 1
    clients += [server.ws("/logs/shared?tail=all") for _ in range(48)]
    time.sleep(0.5)
    assert server.metric("subscribers") == 50
    assert server.metric("upstream_streams") == 1
    assert server.metric("upstream_streams_opened_total") - opened_before == 1
    results = [None] * len(clients)

    def read(i):
        results[i] = collect(clients[i], until=lambda m: any('"event":"end"' in x for x in m if isinstance(x, str)), timeout=60)

    threads = [threading.Thread(target=read, args=(i,)) for i in range(len(clients))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for r in results:
        assert [l["line"] for l in log_lines(r)] == [f"out {i}" for i in range(1, 401)]
    assert server.metric("upstream_streams_opened_total") - opened_before == 1


def test_stop_restart_remove(server, engine):
    engine.run("life", 'echo "start $(cat /proc/sys/kernel/random/uuid)"; i=0; while [ $i -lt 3 ]; do i=$((i+1)); echo "tick $i"; sleep 0.2; done; exit 7')
    w = server.ws("/logs/life?tail=all")
    msgs = collect(w, until=lambda m: any('"event":"end"' in x for x in m if isinstance(x, str)))
    assert events(msgs)[-1] == {"event": "end", "exitCode": 7}
    first = [l["line"] for l in log_lines(msgs)]
    assert first[1:] == ["tick 1", "tick 2", "tick 3"]
    engine.docker("start", "life")
    msgs2 = collect(w, until=lambda m: sum('"event":"end"' in x for x in m if isinstance(x, str)) >= 1)
    evs = [e["event"] for e in events(msgs2)]
    assert evs[0] == "restart" and evs[-1] == "end"
    second = [l["line"] for l in log_lines(msgs2)]
    # Only the new run's lines, no repeat of the first run.
    assert second[1:] == ["tick 1", "tick 2", "tick 3"] and second[0] != first[0] and second[0].startswith("start ")
    engine.docker("rm", "life")
    msgs3 = collect(w, timeout=10)
    assert events(msgs3)[-1] == {"event": "removed"}
    assert msgs3[-1][:2] == ("close", 1000)


def test_new_subscriber_joins_without_gap_or_duplicate(docktail, engine):
    d = docktail(config={"ringLines": 50})
    engine.run("join", numbered(300, err=False, sleep=0.01))
    first = d.ws("/logs/join?tail=all")
    time.sleep(1.5)
    # The ring holds 50 lines; tail=all must come from the engine and join the live stream.
    late = d.ws("/logs/join?tail=all")
    ring = d.ws("/logs/join?tail=10")
    for w in (first, late):
        msgs = collect(w, until=lambda m: any('"event":"end"' in x for x in m if isinstance(x, str)), timeout=60)
        assert [l["line"] for l in log_lines(msgs)] == [f"out {i}" for i in range(1, 301)]
    msgs = collect(ring, until=lambda m: any('"event":"end"' in x for x in m if isinstance(x, str)), timeout=60)
    got = [int(l["line"].split()[1]) for l in log_lines(msgs)]
    assert got == list(range(got[0], 301)) and len(got) >= 10


def test_events_containers_hosts_health(server, engine):
    ev = server.ws("/events")
    engine.run("evt", "echo hi; sleep 0.5")
    engine.wait_exit("evt")
    engine.docker("rm", "evt")
    seen = []
    deadline = time.time() + 15
    while time.time() < deadline and "destroy" not in seen:
        m = json.loads(ev.recv())
        if m["name"] == "evt":
            assert m["type"] == "container" and m["host"] == "local" and len(m["id"]) == 64 and m["time"].endswith("Z")
            seen.append(m["action"])
    assert [a for a in seen if a in ("create", "start", "die", "destroy")] == ["create", "start", "die", "destroy"]
    engine.run("listed", "sleep 30")
    status, items = server.json("/api/containers")
    assert status == 200
    mine = [c for c in items if c["name"] == "listed"]
    assert mine and set(mine[0]) == {"id", "name", "image", "state", "status", "created", "host", "tty", "labels", "ports",
                                     "startedAt", "finishedAt", "exitCode"}
    assert mine[0]["labels"] == {} and mine[0]["ports"] == [] and mine[0]["exitCode"] is None
    assert mine[0]["state"] == "running" and mine[0]["image"] == "local/busybox:latest"
    engine.docker("rm", "-f", "listed")
    engine.run("stopped", "true")
    engine.wait_exit("stopped")
    assert not [c for c in server.json("/api/containers")[1] if c["name"] == "stopped"]
    assert [c for c in server.json("/api/containers?all=1")[1] if c["name"] == "stopped"]
    status, hosts = server.json("/api/hosts")
    assert hosts[0]["ok"] is True and hosts[0]["apiVersion"] == "1.41"
    status, health = server.json("/healthz")
    assert status == 200 and health["engines"] == [{"name": "local", "ok": True}]


def test_slow_client_does_not_hurt_others(docktail, engine):
    d = docktail(config={"clientBufferBytes": 262144, "timeouts": {"stalledClient": 12, "close": 2}})
    # About 2,000 lines (2 MB) a second, for longer than the test reads.
    pad = "." * 1000
    engine.run("flood", f'i=0; while [ $i -lt 60000 ]; do j=0; while [ $j -lt 100 ]; do i=$((i+1)); j=$((j+1)); echo "flood $i {pad}"; done; sleep 0.05; done')
    slow = d.ws("/logs/flood?tail=0", rcvbuf=4096)   # never reads
    fast = d.ws("/logs/flood?tail=0")
    pausing = d.ws("/logs/flood?tail=0", rcvbuf=4096)  # reads later
    rss0 = d.rss_kib()
    lags = []
    count = 0
    t_end = time.time() + 8
    fast.sock.settimeout(5)
    while time.time() < t_end:
        m = fast.recv()
        if isinstance(m, str) and m.startswith('{"ts"'):
            count += 1
            if count % 200 == 0:
                ts = json.loads(m)["ts"]
                from datetime import datetime, timezone
                sent = datetime.strptime(ts[:26] + "Z", "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=timezone.utc).timestamp()
                lags.append(time.time() - sent)
    assert count > 5000
    lags.sort()
    assert lags[int(len(lags) * 0.99)] < 1.0, lags[-5:]
    rss1 = d.rss_kib()
    # The slow client lost its oldest lines rather than growing memory.
    assert d.metric("lines_dropped_total") > 0
    # A client that falls behind and catches up is told how many lines it lost.
    got = collect(pausing, until=lambda m: any('"event":"dropped"' in x for x in m if isinstance(x, str)), timeout=20)
    dropped = [e for e in events(got) if e["event"] == "dropped"]
    assert dropped and dropped[0]["count"] > 0
    deadline = time.time() + 20
    while time.time() < deadline and d.metric("subscribers") > 2:
        time.sleep(0.5)
    # A client that makes no progress at all is closed (1008) and cut.
    assert d.metric("subscribers") == 2
    assert rss1 - rss0 < 64 * 1024, (rss0, rss1)
    engine.docker("rm", "-f", "flood")


def test_engine_restart_mid_stream(binary, tmp_path):
    """A second private engine, restarted under a live stream: resumed, no gap, no duplicate."""
    engine_dir = "/tmp/docktail-restart-engine"
    url = subprocess.run([os.path.join(ROOT, "scripts/engine"), "start", engine_dir], capture_output=True, text=True, check=True).stdout.strip()
    e = Engine(url)
    # docktail starts while the engine is down, and serves as soon as it is up.
    subprocess.run([os.path.join(ROOT, "scripts/engine"), "stop-daemon", engine_dir], check=True)
    d = Docktail(binary, engine_url=url)
    try:
        status, health = d.json("/healthz")
        assert status == 503 and health["engines"][0]["ok"] is False
        subprocess.run([os.path.join(ROOT, "scripts/engine"), "start", engine_dir], check=True, capture_output=True)
        deadline = time.time() + 30
        while time.time() < deadline and d.json("/healthz")[0] != 200:
            time.sleep(0.3)
        assert d.json("/healthz")[0] == 200
        e.run("survivor", numbered(150, err=False, sleep=0.1))
        w = d.ws("/logs/survivor?tail=all")
        w.sock.settimeout(30)
        before = []
        while len(before) < 20:
            m = w.recv()
            if isinstance(m, str) and m.startswith('{"ts"'):
                before.append(json.loads(m)["line"])
        subprocess.run([os.path.join(ROOT, "scripts/engine"), "stop-daemon", engine_dir], check=True)
        time.sleep(2)
        subprocess.run([os.path.join(ROOT, "scripts/engine"), "start", engine_dir], check=True, capture_output=True)
        msgs = collect(w, until=lambda m: any('"event":"end"' in x for x in m if isinstance(x, str)), timeout=60)
        assert any(ev["event"] == "error" for ev in events(msgs)), events(msgs)
        after = [l["line"] for l in log_lines(msgs)]
        assert before + after == [f"out {i}" for i in range(1, 151)]
    finally:
        d.stop()
        subprocess.run([os.path.join(ROOT, "scripts/engine"), "stop", engine_dir], capture_output=True)
