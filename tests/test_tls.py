"""TLS (issue 10): engines over verified TLS with client certificates, several real engines at
once, docktail serving HTTPS and WSS, certificate reload on SIGHUP, and a real browser over HTTPS.

Everything is real and on loopback: the usual private engine (`engine`, unix socket) and a second
private dockerd that serves verified TLS on 127.0.0.1 (`tls_engine`, scripts/engine in TLS mode),
certificates made with the openssl command line (`tls_certs`, tests/tlsfixtures.py), Python `ssl`
clients and servers, headless Chromium. Every wait is bounded.
"""
import http.client
import json
import os
import re
import shutil
import signal
import socket
import ssl
import subprocess
import tempfile
import threading
import time
import urllib.request

import pytest

from helpers import ROOT, WS, Docktail, events, log_lines, read_answer
from tlsfixtures import Forwarder, https_request, is_tls_port, server_context, spki_sha256_base64, tls_connect, wait_until

TOKEN = "tls-test-token-1234"
COUNTER = 'i=0; while true; do echo "line $i"; i=$((i+1)); sleep 0.05; done'


# ---------------------------------------------------------------------------------------------
# helpers


def collect(ws, until, timeout=30, what="messages"):
    """Messages until `until(msgs)` holds; fails (never hangs) on timeout or an early close."""
    out = []
    deadline = time.time() + timeout
    while True:
        left = deadline - time.time()
        if left <= 0:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}; last messages: {out[-5:]!r}")
        ws.sock.settimeout(left)
        try:
            m = ws.recv()
        except (socket.timeout, TimeoutError):
            raise AssertionError(f"timed out after {timeout}s waiting for {what}; last messages: {out[-5:]!r}") from None
        out.append(m)
        if until(out):
            return out
        if isinstance(m, tuple):
            raise AssertionError(f"closed {m!r} while waiting for {what}; last messages: {out[-5:]!r}")


def texts(msgs):
    return [l["line"] for l in log_lines(msgs)]


def numbers(msgs):
    return [int(t.split()[1]) for t in texts(msgs) if t.startswith("line ")]


def has_event(name):
    return lambda m: any(isinstance(x, str) and f'"event":"{name}"' in x for x in m)


def hosts(d):
    status, body = d.json("/api/hosts")
    assert status == 200, (status, body)
    return {h["name"]: h for h in body}


def wait_hosts(d, pred, timeout=20, what="hosts"):
    """Polls /api/hosts until pred({name: entry}) holds."""
    last = {}

    def check():
        nonlocal last
        last = hosts(d)
        return pred(last)

    try:
        return wait_until(check, timeout=timeout, message=what) and last
    except AssertionError:
        raise AssertionError(f"/api/hosts never showed {what} within {timeout}s: {last!r}\n--- docktail log tail:\n{d.logs()[-3000:]}") from None


def wait_log(d, needles, timeout=15):
    """docktail's log (stderr) contains every needle (case-insensitive) within `timeout` seconds."""
    try:
        wait_until(lambda: all(n.lower() in d.logs().lower() for n in needles), timeout=timeout, message=f"log {needles}")
    except AssertionError:
        raise AssertionError(f"docktail's log never mentioned {needles} within {timeout}s:\n{d.logs()[-3000:]}") from None


def two_engines(docktail, engine, tls_engine, tls_certs):
    d = docktail(engine_url=None, config={"engines": [
        {"name": "local", "url": engine.url},
        {"name": "tls", "url": tls_engine.tcp_url, "tls": tls_certs.engine_tls()},
    ]})
    wait_hosts(d, lambda h: h["local"]["ok"] and h["tls"]["ok"], what="both engines ok")
    return d


def bad_config(binary, cfg, args=()):
    """Runs docktail on a configuration that must be refused: (exit status, stderr). No terminal
    (new session, stdin from /dev/null), so a passphrase prompt cannot wait for a user; bounded."""
    path = tempfile.mktemp(suffix=".json", prefix="docktail-tls-")
    with open(path, "w") as f:
        json.dump({"publicDir": os.path.join(ROOT, "Public"), **cfg}, f)
    try:
        r = subprocess.run([binary, "--config", path, *args], capture_output=True, text=True, timeout=20, cwd=ROOT,
                           stdin=subprocess.DEVNULL, start_new_session=True)
    except subprocess.TimeoutExpired:
        raise AssertionError(f"docktail did not exit within 20 s on {cfg} {args} (waiting for a passphrase?)") from None
    return r.returncode, r.stderr


def https_docktail(docktail, tls_certs, **kw):
    """docktail serving HTTPS with certificate A (a chain file: leaf + intermediate) given by flags."""
    a = tls_certs.docktail_a
    kw.setdefault("args", ["--tls-cert", a.chain, "--tls-key", a.key])
    d = docktail(**kw)
    assert is_tls_port(d.port), f"listener {d.port} does not speak TLS:\n{d.logs()[-2000:]}"
    return d


def wss(port, path, ctx, hostname="127.0.0.1"):
    w = WS(port, path, ssl_context=ctx, server_hostname=hostname)
    assert w.status == 101, (w.status, w.body)
    return w


def cookie_attributes(set_cookie):
    parts = [p.strip() for p in set_cookie.split(";")]
    return parts[0], {p.split("=", 1)[0].lower() for p in parts[1:]}


# ---------------------------------------------------------------------------------------------
# several real engines, one of them over TLS


def test_two_engines_unix_and_tls(docktail, engine, tls_engine, tls_certs):
    engine.run("tls-mix-unix", 'echo "unix first"; i=0; while true; do echo "line $i"; i=$((i+1)); sleep 0.1; done')
    tls_engine.run("tls-mix-remote", 'echo "tls first"; i=0; while true; do echo "line $i"; i=$((i+1)); sleep 0.1; done')
    d = two_engines(docktail, engine, tls_engine, tls_certs)
    h = hosts(d)
    assert list(h) == ["local", "tls"]
    assert h["local"]["ok"] is True and h["local"]["tls"] is False and h["local"]["error"] is None and h["local"]["apiVersion"] == "1.41"
    assert h["tls"]["ok"] is True and h["tls"]["tls"] is True and h["tls"]["error"] is None and h["tls"]["apiVersion"] == "1.41"
    assert h["tls"]["url"] == tls_engine.tcp_url
    status, health = d.json("/healthz")
    assert status == 200 and [(e["name"], e["ok"]) for e in health["engines"]] == [("local", True), ("tls", True)]
    # The list spans both engines, each container under its engine's name.
    status, items = d.json("/api/containers")
    assert status == 200
    by_name = {c["name"]: c["host"] for c in items if c["name"].startswith("tls-mix-")}
    assert by_name == {"tls-mix-unix": "local", "tls-mix-remote": "tls"}, items
    # History then live lines, from each engine.
    for ref, host, first in [("tls-mix-remote", "tls", "tls first"), ("tls-mix-unix", "local", "unix first")]:
        w = d.ws(f"/logs/{ref}?host={host}&tail=all")
        assert w.status == 101, (ref, w.status, w.body)
        msgs = collect(w, lambda m: len(numbers(m)) >= 15, what=f"15 lines of {ref}")
        assert events(msgs)[0]["event"] == "subscribed" and events(msgs)[0]["host"] == host and events(msgs)[0]["name"] == ref
        assert texts(msgs)[0] == first
        assert numbers(msgs) == list(range(len(numbers(msgs))))
        w.close()
    # A container restart on the TLS engine: end, restart, only the new run's lines.
    life = 'echo "start $(cat /proc/sys/kernel/random/uuid)"; i=0; while [ $i -lt 3 ]; do i=$((i+1)); echo "tick $i"; sleep 0.2; done; exit 7'
    tls_engine.run("tls-life", life)
    w = d.ws("/logs/tls-life?host=tls&tail=all")
    assert w.status == 101, w.body
    msgs = collect(w, has_event("end"), what="end of the first run")
    assert events(msgs)[-1] == {"event": "end", "exitCode": 7}
    first = texts(msgs)
    assert first[1:] == ["tick 1", "tick 2", "tick 3"]
    tls_engine.docker("start", "tls-life")
    msgs2 = collect(w, has_event("end"), what="end of the second run")
    assert [e["event"] for e in events(msgs2)][0] == "restart" and events(msgs2)[-1] == {"event": "end", "exitCode": 7}
    second = texts(msgs2)
    assert second[1:] == ["tick 1", "tick 2", "tick 3"] and second[0].startswith("start ") and second[0] != first[0]
    for name in ("tls-life", "tls-mix-remote"):
        tls_engine.docker("rm", "-f", name, check=False)
    engine.docker("rm", "-f", "tls-mix-unix", check=False)


def test_losing_the_tls_engine_resumes_without_gap(docktail, engine, tls_engine, tls_certs):
    """The TLS dockerd stops for ~2 s (--live-restore: its container keeps writing) and comes back:
    the viewer on it gets every numbered line once; a viewer on the unix engine never stalls."""
    tls_engine.run("tls-counter", COUNTER)
    engine.run("unix-counter", COUNTER)
    d = two_engines(docktail, engine, tls_engine, tls_certs)
    remote = d.ws("/logs/tls-counter?host=tls&tail=all")
    local = d.ws("/logs/unix-counter?host=local&tail=0")
    assert remote.status == 101 and local.status == 101, (remote.body, local.body)
    before = collect(remote, lambda m: len(numbers(m)) >= 20, what="20 lines before the outage")

    local_lines = []  # (time received, number)
    local_done = threading.Event()

    def read_local():
        local.sock.settimeout(10)
        try:
            while True:
                m = local.recv()
                if isinstance(m, tuple):
                    return
                if m.startswith('{"ts"'):
                    local_lines.append((time.time(), int(json.loads(m)["line"].split()[1])))
        except (OSError, ConnectionError, ValueError):
            return
        finally:
            local_done.set()

    reader = threading.Thread(target=read_local, daemon=True)
    reader.start()
    seen_down = False
    try:
        time.sleep(0.5)
        tls_engine.stop_daemon()
        t_down = time.time()
        while time.time() < t_down + 2:
            h = hosts(d)
            seen_down = seen_down or (h["tls"]["ok"] is False and h["local"]["ok"] is True)
            time.sleep(0.2)
        t_up = time.time()
    finally:
        tls_engine.start()
    wait_hosts(d, lambda h: h["tls"]["ok"] and h["local"]["ok"], timeout=30, what="the TLS engine back")
    target = numbers(before)[-1] + 120  # past the outage (~2.5 s at 20 lines/s) with margin
    after = collect(remote, lambda m: numbers(m) and numbers(m)[-1] >= target, timeout=40, what=f"line {target} after the outage")
    local.sock.shutdown(socket.SHUT_RDWR)
    local_done.wait(10)
    got = numbers(before) + numbers(after)
    assert got == list(range(len(got))), f"gap or duplicate across the outage: {[n for i, n in enumerate(got) if n != i][:10]}"
    assert any(e["event"] == "error" for e in events(after)), events(after)
    assert seen_down, "/api/hosts never showed the TLS engine down (and the unix one up) during the outage"
    during = [n for t, n in local_lines if t_down <= t <= t_up]
    assert len(during) >= 15, f"the unix engine's viewer got {len(during)} lines during the 2 s outage"
    nums = [n for _, n in local_lines]
    assert nums == list(range(nums[0], nums[0] + len(nums))), "the unix engine's viewer has a gap or a duplicate"
    tls_engine.docker("rm", "-f", "tls-counter", check=False)
    engine.docker("rm", "-f", "unix-counter", check=False)


def test_engine_flags_with_docker_cert_dir(docktail, tls_engine, tls_certs):
    """--engine NAME=tcp://… --engine-tls NAME=DIR (DIR in Docker's layout: ca.pem cert.pem key.pem)."""
    tls_engine.run("tls-flagged", 'echo "via flags"; sleep 600')
    d = docktail(engine_url=None, args=["--engine", f"remote={tls_engine.tcp_url}", "--engine-tls", f"remote={tls_certs.docker_dir}"])
    h = wait_hosts(d, lambda h: h.get("remote", {}).get("ok"), what="remote ok")
    assert list(h) == ["remote"] and h["remote"]["tls"] is True and h["remote"]["error"] is None and h["remote"]["url"] == tls_engine.tcp_url
    assert [c["host"] for c in d.json("/api/containers")[1] if c["name"] == "tls-flagged"] == ["remote"]
    msgs = collect(d.ws("/logs/tls-flagged?host=remote"), lambda m: len(texts(m)) >= 1, what="the line")
    assert texts(msgs) == ["via flags"]
    tls_engine.docker("rm", "-f", "tls-flagged", check=False)


DOCKER_ENV = ("DOCKER_HOST", "DOCKER_TLS_VERIFY", "DOCKER_CERT_PATH", "DOCKER_API_VERSION", "DOCKER_TLS", "DOCKER_CONTEXT")


def env_for(**kw):
    """An environment with exactly these DOCKER_* variables (the caller's are removed)."""
    e = {k: None for k in DOCKER_ENV}
    e.update(kw)
    return e


def test_docker_cli_environment(binary, tls_engine, tls_certs, tmp_path):
    """No engine configured: DOCKER_HOST, DOCKER_TLS_VERIFY, DOCKER_CERT_PATH (default ~/.docker) and
    DOCKER_API_VERSION, as the Docker CLI reads them."""
    tls_engine.run("tls-env", 'echo "via environment"; sleep 600')
    cases = [
        ("DOCKER_CERT_PATH", env_for(DOCKER_HOST=tls_engine.tcp_url, DOCKER_TLS_VERIFY="1", DOCKER_CERT_PATH=tls_certs.docker_dir), "1.41"),
        ("DOCKER_API_VERSION", env_for(DOCKER_HOST=tls_engine.tcp_url, DOCKER_TLS_VERIFY="1", DOCKER_CERT_PATH=tls_certs.docker_dir,
                                       DOCKER_API_VERSION="1.40"), "1.40"),
    ]
    home = tmp_path / "home"
    shutil.copytree(tls_certs.docker_dir, home / ".docker")
    cases.append(("~/.docker", env_for(DOCKER_HOST=tls_engine.tcp_url, DOCKER_TLS_VERIFY="1", HOME=str(home)), "1.41"))
    for label, env, api in cases:
        d = Docktail(binary, engine_url=None, env=env)
        try:
            h = wait_hosts(d, lambda h: len(h) == 1 and next(iter(h.values()))["ok"], what=f"the DOCKER_HOST engine ok ({label})")
            entry = next(iter(h.values()))
            assert entry["url"] == tls_engine.tcp_url and entry["tls"] is True and entry["error"] is None, (label, entry)
            assert entry["apiVersion"] == api, (label, entry)
            status, items = d.json("/api/containers")
            assert status == 200 and "tls-env" in [c["name"] for c in items], (label, items)
            msgs = collect(d.ws("/logs/tls-env"), lambda m: len(texts(m)) >= 1, what=f"the line ({label})")
            assert texts(msgs) == ["via environment"], label
        finally:
            d.stop()
    # Without DOCKER_TLS_VERIFY it is plain TCP, as for the Docker CLI: the TLS port refuses that.
    d = Docktail(binary, engine_url=None, env=env_for(DOCKER_HOST=tls_engine.tcp_url))
    try:
        h = wait_hosts(d, lambda h: len(h) == 1 and next(iter(h.values()))["error"], what="an error for plain TCP to the TLS port")
        entry = next(iter(h.values()))
        assert entry["ok"] is False and entry["tls"] is False and "speaks tls" in entry["error"].lower(), entry
    finally:
        d.stop()
    tls_engine.docker("rm", "-f", "tls-env", check=False)


# ---------------------------------------------------------------------------------------------
# engines docktail must refuse, and why


@pytest.fixture(scope="module")
def forwarders(engine, tls_certs):
    """Loopback ports in front of the real unix engine: TLS with a certificate for other.example
    (signed by the right CA), TLS with the right certificate (the control), and plain HTTP."""
    fw = {
        "other-name": Forwarder(engine.sock, server_context(tls_certs.other_name.cert, tls_certs.other_name.key)),
        "right-name": Forwarder(engine.sock, server_context(tls_certs.engine.cert, tls_certs.engine.key)),
        "plain": Forwarder(engine.sock),
    }
    yield fw
    for f in fw.values():
        f.close()


def engine_entry(case, tls_engine, tls_certs, forwarders):
    c = tls_certs
    return {
        "wrong-ca": {"url": tls_engine.tcp_url, "tls": c.engine_tls(ca=c.wrong_ca.cert)},
        "name-mismatch": {"url": f"tcp://127.0.0.1:{forwarders['other-name'].port}", "tls": c.engine_tls()},
        "no-client-cert": {"url": tls_engine.tcp_url, "tls": c.engine_tls(cert=False)},
        "expired-client-cert": {"url": tls_engine.tcp_url, "tls": c.engine_tls(client=c.expired_client)},
        "client-cert-of-another-ca": {"url": tls_engine.tcp_url, "tls": c.engine_tls(client=c.wrong_client)},
        "plain-to-tls-port": {"url": tls_engine.tcp_url},
        "tls-to-plain-port": {"url": f"tcp://127.0.0.1:{forwarders['plain'].port}", "tls": c.engine_tls()},
        "https-url-wrong-ca": {"url": f"https://127.0.0.1:{tls_engine.port}", "tls": c.engine_tls(ca=c.wrong_ca.cert)},
    }[case]


REFUSALS = [
    ("wrong-ca", ["certificate verify failed"]),
    ("name-mismatch", ["certificate verify failed", "mismatch"]),
    ("no-client-cert", ["refused the client certificate"]),
    ("expired-client-cert", ["refused the client certificate"]),
    ("client-cert-of-another-ca", ["refused the client certificate"]),
    ("plain-to-tls-port", ["speaks TLS"]),
    ("tls-to-plain-port", ["does not speak TLS"]),
    ("https-url-wrong-ca", ["certificate verify failed"]),
]


@pytest.mark.parametrize("case,needles", [pytest.param(c, n, id=c) for c, n in REFUSALS])
def test_refused_engine_connection_says_why(docktail, tls_engine, tls_certs, forwarders, case, needles):
    entry = {"name": "bad", **engine_entry(case, tls_engine, tls_certs, forwarders)}
    d = docktail(engine_url=None, config={"engines": [entry]})
    # Waits for the error that names the cause, not just any error: under TLS 1.3 the engine
    # refuses a client certificate after the client's handshake is done, and now and then its alert
    # is lost to a TCP reset (about 1 in 20 with dockerd 20.10 here); a later probe then says why.
    h = wait_hosts(d, lambda h: h["bad"]["error"] and all(n.lower() in h["bad"]["error"].lower() for n in needles),
                   timeout=30, what=f"an error naming {needles} for {case}")["bad"]
    assert h["ok"] is False and h["tls"] is ("tls" in entry) and h["apiVersion"] is None, h
    for n in needles:
        assert n.lower() in h["error"].lower(), (case, h["error"])
    wait_log(d, needles)
    status, health = d.json("/healthz")
    assert status == 503 and [(e["name"], e["ok"]) for e in health["engines"]] == [("bad", False)]
    assert d.get("/api/containers")[0] == 502


def test_the_refusals_are_about_tls_only(docktail, engine, tls_engine, tls_certs, forwarders):
    """Controls for the refusals above: the same ports work when nothing is wrong (the forwarders
    reach a real engine), and `verify: false` accepts a certificate for another name or CA."""
    c = tls_certs
    d = docktail(engine_url=None, config={"engines": [
        {"name": "right-name", "url": f"tcp://127.0.0.1:{forwarders['right-name'].port}", "tls": c.engine_tls()},
        {"name": "plain", "url": f"tcp://127.0.0.1:{forwarders['plain'].port}"},
        {"name": "https-url", "url": f"https://127.0.0.1:{tls_engine.port}", "tls": c.engine_tls()},
        {"name": "unverified-name", "url": f"tcp://127.0.0.1:{forwarders['other-name'].port}", "tls": c.engine_tls(verify=False)},
        {"name": "unverified-ca", "url": tls_engine.tcp_url, "tls": c.engine_tls(ca=c.wrong_ca.cert, verify=False)},
    ]})
    h = wait_hosts(d, lambda h: all(e["ok"] for e in h.values()), what="every control engine ok")
    assert {n: e["tls"] for n, e in h.items()} == {"right-name": True, "plain": False, "https-url": True, "unverified-name": True, "unverified-ca": True}
    assert all(e["error"] is None for e in h.values()), h


@pytest.mark.parametrize("case", ["engine-key", "docktail-key"])
def test_passphrase_protected_key_exits_2(binary, tls_certs, case):
    enc = tls_certs.encrypted_client
    if case == "engine-key":
        cfg = {"listen": ["127.0.0.1:0"], "engines": [{"name": "x", "url": "tcp://127.0.0.1:9", "tls": {"ca": tls_certs.ca.cert, "cert": enc.cert, "key": enc.key}}]}
        key = "engines[0].tls.key"
    else:
        cfg = {"listen": ["127.0.0.1:0"], "tls": {"cert": enc.cert, "key": enc.key}}
        key = "tls.key"
    status, err = bad_config(binary, cfg)
    lines = err.strip().splitlines()
    assert status == 2 and len(lines) == 1, (status, err)
    assert key in lines[0] and "passphrase" in lines[0].lower(), lines
    if case == "docktail-key":
        assert "engines[" not in lines[0], lines


@pytest.mark.parametrize("case", ["tls.cert", "tls.key", "engines[0].tls.ca", "engines[0].tls.cert", "https-listen-without-tls", "flag"])
def test_unusable_tls_configuration_exits_2(binary, tls_certs, case):
    a = tls_certs.docktail_a
    missing = "/nonexistent/docktail-tls-test.pem"
    args = ()
    if case == "tls.cert":
        cfg, needle = {"listen": ["127.0.0.1:0"], "tls": {"cert": missing, "key": a.key}}, "tls.cert"
    elif case == "tls.key":
        cfg, needle = {"listen": ["127.0.0.1:0"], "tls": {"cert": a.chain, "key": missing}}, "tls.key"
    elif case == "engines[0].tls.ca":
        cfg, needle = {"listen": ["127.0.0.1:0"], "engines": [{"name": "x", "url": "tcp://127.0.0.1:9", "tls": {"ca": missing}}]}, "engines[0].tls.ca"
    elif case == "engines[0].tls.cert":
        cfg = {"listen": ["127.0.0.1:0"], "engines": [{"name": "x", "url": "tcp://127.0.0.1:9",
                                                       "tls": {"ca": tls_certs.ca.cert, "cert": missing, "key": tls_certs.client.key}}]}
        needle = "engines[0].tls.cert"
    elif case == "https-listen-without-tls":
        cfg, needle = {"listen": ["https://127.0.0.1:0"]}, "listen[0]"
    else:
        cfg, needle, args = {"listen": ["127.0.0.1:0"]}, None, ("--tls-cert", missing, "--tls-key", a.key)
    status, err = bad_config(binary, cfg, args)
    lines = err.strip().splitlines()
    assert status == 2 and len(lines) == 1, (status, err)
    if needle:
        assert needle in lines[0], lines
    else:
        assert re.search(r"tls[.-]cert", lines[0]), lines
    assert "Fatal error" not in err


# ---------------------------------------------------------------------------------------------
# docktail serving HTTPS and WSS


def test_https_and_wss(docktail, engine, tls_certs):
    engine.run("tls-wss", 'echo "over wss"; ' + COUNTER)
    d = https_docktail(docktail, tls_certs)
    a = tls_certs.docktail_a
    # The client trusts only the root CA: docktail must send its chain (leaf + intermediate).
    for hostname in ("127.0.0.1", "localhost"):
        ctx = tls_certs.client_context()
        ctx.set_alpn_protocols(["h2", "http/1.1"])
        r = https_request(d.port, "/healthz", ctx, host=hostname)
        assert r.status == 200 and json.loads(r.body)["status"] == "ok", (hostname, r.status, r.body)
        assert r.version in ("TLSv1.2", "TLSv1.3") and r.alpn == "http/1.1" and r.peer == a.der, (hostname, r.version, r.alpn)
    # TLS 1.2 exactly is accepted; no ALPN offered works too.
    ctx12 = tls_certs.client_context()
    ctx12.maximum_version = ssl.TLSVersion.TLSv1_2
    r = https_request(d.port, "/api/containers", ctx12)
    assert r.status == 200 and r.version == "TLSv1.2" and r.alpn is None
    assert "tls-wss" in [c["name"] for c in json.loads(r.body)]
    # The viewer page over HTTPS.
    r = https_request(d.port, "/logs/tls-wss", tls_certs.client_context())
    assert r.status == 200 and b"<html" in r.body.lower()
    # A WebSocket over TLS: history and live lines.
    for hostname in ("127.0.0.1", "localhost"):
        w = wss(d.port, "/logs/tls-wss?tail=all", tls_certs.client_context(), hostname)
        assert w.sock.version() in ("TLSv1.2", "TLSv1.3")
        msgs = collect(w, lambda m: len(numbers(m)) >= 30, what="30 lines over wss")
        assert events(msgs)[0]["event"] == "subscribed" and texts(msgs)[0] == "over wss"
        assert numbers(msgs) == list(range(len(numbers(msgs))))
        w.close()
    # The certificate names 127.0.0.1 and localhost only: a client checking another name refuses it.
    with pytest.raises(ssl.SSLCertVerificationError):
        tls_connect(d.port, tls_certs.client_context(), server_hostname="other.example")
    engine.docker("rm", "-f", "tls-wss", check=False)


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_tls_1_1_is_refused(docktail, tls_certs):
    d = https_docktail(docktail, tls_certs)
    old = tls_certs.client_context()
    old.minimum_version = old.maximum_version = ssl.TLSVersion.TLSv1_1
    old.set_ciphers("DEFAULT:@SECLEVEL=0")
    # Control: this client does speak TLS 1.1 to a server that allows it (so the refusal below is docktail's).
    permissive = server_context(tls_certs.docktail_a.chain, tls_certs.docktail_a.key)
    permissive.minimum_version = ssl.TLSVersion.TLSv1
    permissive.set_ciphers("DEFAULT:@SECLEVEL=0")
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)
    listener.settimeout(10)

    def serve_once():
        try:
            s, _ = listener.accept()
            s.settimeout(10)
            permissive.wrap_socket(s, server_side=True).close()
        except (OSError, ssl.SSLError):
            pass

    t = threading.Thread(target=serve_once, daemon=True)
    t.start()
    s = tls_connect(listener.getsockname()[1], old)
    assert s.version() == "TLSv1.1"
    s.close()
    t.join(10)
    listener.close()
    with pytest.raises((ssl.SSLError, ConnectionError)):
        s = tls_connect(d.port, old)
        s.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        s.recv(100)  # TLS 1.3 reports some refusals only on the first read
    # docktail is still fine.
    assert https_request(d.port, "/healthz", tls_certs.client_context()).status == 200


def test_plain_http_to_the_https_listener_gets_400(docktail, tls_certs):
    d = https_docktail(docktail, tls_certs)
    s = socket.create_connection(("127.0.0.1", d.port), timeout=10)
    s.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
    answer, closed = read_answer(s, 5)
    s.close()
    assert answer.startswith(b"HTTP/1.1 400"), answer[:200]
    head, _, body = answer.partition(b"\r\n\r\n")
    assert b"HTTPS" in body.upper(), answer
    assert closed, "the connection stayed open after the 400"
    assert https_request(d.port, "/healthz", tls_certs.client_context()).status == 200


def test_http_and_https_listeners_side_by_side_and_secure_cookie(docktail, engine, tls_certs):
    a = tls_certs.docktail_a
    d = docktail(listeners=2, config={"listen": ["http://127.0.0.1:0", "https://127.0.0.1:0"],
                                      "tls": {"cert": a.chain, "key": a.key}, "auth": {"tokens": [TOKEN]}})
    assert len(set(d.ports)) == 2, d.ports
    tls_ports = [p for p in d.ports if is_tls_port(p)]
    plain_ports = [p for p in d.ports if p not in tls_ports]
    assert len(tls_ports) == 1 and len(plain_ports) == 1, (d.ports, tls_ports)
    https_port, http_port = tls_ports[0], plain_ports[0]
    engine.run("tls-cookie", 'echo "cookie"; sleep 600')
    # Plain HTTP on one, HTTPS on the other, the same server behind both.
    with urllib.request.urlopen(f"http://127.0.0.1:{http_port}/healthz", timeout=10) as r:
        assert r.status == 200
    assert https_request(https_port, "/healthz", tls_certs.client_context()).status == 200
    # The token cookie is Secure on the TLS listener only; its name carries that listener's port.
    r = https_request(https_port, f"/logs/tls-cookie?token={TOKEN}", tls_certs.client_context())
    assert r.status == 200
    name_value, attrs = cookie_attributes(dict((k.lower(), v) for k, v in r.headers)["set-cookie"])
    assert name_value == f"docktail_token_{https_port}={TOKEN}" and {"secure", "httponly", "samesite"} <= attrs, (name_value, attrs)
    with urllib.request.urlopen(f"http://127.0.0.1:{http_port}/logs/tls-cookie?token={TOKEN}", timeout=10) as r:
        name_value, attrs = cookie_attributes(r.headers["Set-Cookie"])
    assert name_value == f"docktail_token_{http_port}={TOKEN}" and "secure" not in attrs and "httponly" in attrs, (name_value, attrs)
    # The cookie opens the WebSocket over TLS.
    w = WS(https_port, "/logs/tls-cookie", headers={"Cookie": f"docktail_token_{https_port}={TOKEN}"},
           ssl_context=tls_certs.client_context(), server_hostname="127.0.0.1")
    assert w.status == 101
    assert texts(collect(w, lambda m: len(texts(m)) >= 1, what="the line")) == ["cookie"]
    engine.docker("rm", "-f", "tls-cookie", check=False)


def test_sighup_reloads_the_certificate(docktail, engine, tls_certs, tmp_path):
    a, b = tls_certs.docktail_a, tls_certs.docktail_b
    cert, key = str(tmp_path / "cert.pem"), str(tmp_path / "key.pem")
    shutil.copy(a.chain, cert)
    shutil.copy(a.key, key)
    engine.run("tls-rotate", COUNTER)
    d = docktail(config={"tls": {"cert": cert, "key": key}})
    ctx = tls_certs.client_context()
    w = wss(d.port, "/logs/tls-rotate?tail=all", ctx)
    assert w.sock.getpeercert(binary_form=True) == a.der
    before = collect(w, lambda m: len(numbers(m)) >= 10, what="10 lines before the reload")
    keep = http.client.HTTPSConnection("127.0.0.1", d.port, context=tls_certs.client_context(), timeout=10)
    keep.request("GET", "/healthz")
    assert keep.getresponse().read() and keep.sock.getpeercert(binary_form=True) == a.der
    # Same paths, new files (each replaced whole), then SIGHUP.
    for src, dst in ((b.chain, cert), (b.key, key)):
        shutil.copy(src, dst + ".new")
        os.replace(dst + ".new", dst)
    d.proc.send_signal(signal.SIGHUP)
    wait_until(lambda: https_request(d.port, "/healthz", tls_certs.client_context()).peer == b.der, timeout=10,
               message="a new connection to present certificate B")
    assert d.proc.poll() is None
    # The open WebSocket and the open keep-alive connection carry on (with certificate A's session).
    after = collect(w, lambda m: len(numbers(m)) >= 30, what="30 lines after the reload")
    got = numbers(before) + numbers(after)
    assert got == list(range(len(got)))
    keep.request("GET", "/healthz")
    resp = keep.getresponse()
    assert resp.status == 200 and resp.read() and keep.sock.getpeercert(binary_form=True) == a.der
    keep.close()
    # And a new WebSocket sees B.
    w2 = wss(d.port, "/logs/tls-rotate?tail=1", ctx, "localhost")
    assert w2.sock.getpeercert(binary_form=True) == b.der
    assert len(texts(collect(w2, lambda m: len(texts(m)) >= 2, what="lines on a new wss"))) >= 2
    engine.docker("rm", "-f", "tls-rotate", check=False)


def test_browser_over_https(docktail, engine, tls_certs, tmp_path):
    """Headless Chromium trusting only docktail's certificate (its SPKI hash): the viewer page over
    HTTPS derives wss: itself (an https page may not open ws:) and shows live lines."""
    from selenium import webdriver
    from selenium.webdriver.chrome.options import Options
    from selenium.webdriver.chrome.service import Service
    chromium = shutil.which("chromium") or ("/usr/bin/chromium" if os.path.exists("/usr/bin/chromium") else None)
    driver = shutil.which("chromedriver") or ("/usr/bin/chromedriver" if os.path.exists("/usr/bin/chromedriver") else None)
    assert chromium and driver, "chromium and chromium-driver are needed (apt-get install chromium chromium-driver)"
    engine.run("tls-browser", 'echo "browser first"; i=0; while true; do echo "browser line $i"; i=$((i+1)); sleep 0.2; done')
    d = https_docktail(docktail, tls_certs)
    o = Options()
    # --ignore-certificate-errors-spki-list only takes effect with an explicit --user-data-dir.
    for arg in ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=1200,800",
                f"--user-data-dir={tmp_path / 'chromium'}",
                f"--ignore-certificate-errors-spki-list={spki_sha256_base64(tls_certs.docktail_a.cert)}"]:
        o.add_argument(arg)
    o.binary_location = chromium
    o.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    browser = webdriver.Chrome(service=Service(driver), options=o)
    try:
        browser.set_page_load_timeout(20)
        browser.set_script_timeout(20)
        browser.get(f"https://127.0.0.1:{d.port}/logs/tls-browser?tail=all")
        assert browser.execute_script("return location.protocol") == "https:", browser.title
        pane = "document.querySelector('docktail-log').shadowRoot"

        def lines():
            return browser.execute_script(f"const r = {pane}; return r ? [...r.querySelectorAll('.line:not(.event) .text')].map(e => e.textContent) : []")

        def log_tail():
            try:
                return [l["message"][:200] for l in browser.get_log("browser")[-6:]]
            except Exception:  # noqa: BLE001 - diagnostics only
                return []

        try:
            first = wait_until(lambda: (l := lines()) and len(l) >= 5 and l, timeout=20, message="5 lines in the page")
        except AssertionError:
            raise AssertionError(f"no lines in the page over HTTPS; browser log: {log_tail()}; docktail log: {d.logs()[-1500:]}") from None
        assert first[0] == "browser first"
        # Live: more lines keep arriving.
        n = len(first)
        wait_until(lambda: len(lines()) >= n + 5, timeout=15, message="live lines over wss")
        assert browser.execute_script(f"return {pane}.querySelector('.state').textContent") == "live"
    finally:
        browser.quit()
        engine.docker("rm", "-f", "tls-browser", check=False)
