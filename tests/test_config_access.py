"""Configuration (file, environment, flags), access tokens, container visibility, connection caps."""
import json
import os
import socket
import subprocess
import tempfile
import time

import pytest

from helpers import ROOT, Docktail, raw_http

TOKEN = "s3cret-token-for-tests"


def run_config(binary, cfg_text, args=(), env=None):
    path = tempfile.mktemp(suffix=".json")
    if cfg_text is not None:
        with open(path, "w") as f:
            f.write(cfg_text)
    e = dict(os.environ)
    e.update(env or {})
    r = subprocess.run([binary, "--config", path, "--listen", "127.0.0.1:0", *args], capture_output=True, text=True, timeout=10, env=e, cwd=ROOT)
    return r


@pytest.mark.parametrize("cfg,message", [
    ('{"listen": ["127.0.0.1:0"], "colour": 1}', "config: colour: unknown key"),
    ('{"defaultTail": "many"}', "config: defaultTail: must be a whole number"),
    ('{"defaultTail": -1}', "config: defaultTail: must be at least 0"),
    ('{"engines": [{"name": "a", "url": "ftp://host"}]}', "config: engines[0].url: 'ftp://host' is not unix:///path (at most 107 bytes) or tcp://host[:port] (also http:// or https://; host: IP literal or DNS name)"),
    ('{"engines": [{"name": "a", "url": "unix:///x", "tls": true}]}', "config: engines[0].tls: must be an object"),
    ('{"engines": [{"name": "a", "url": "unix:///x", "tls": {"bogus": 1}}]}', "config: engines[0].tls.bogus: unknown key"),
    ('{"tls": true}', "config: tls: must be an object"),
    ('{"listen": ["127.0.0.1:70000"]}', "config: listen[0]: '127.0.0.1:70000' is not [http://|https://]HOST:PORT with a port from 0 to 65535"),
    ('{"timeouts": {"header": "soon"}}', "config: timeouts.header: must be a positive number of seconds"),
    ('{"timeouts": {"nap": 1}}', "config: timeouts.nap: unknown key"),
    ('{"logLevel": "loud"}', "config: logLevel: must be one of trace, debug, info, notice, warning, error, critical"),
    ('{"allowedOrigins": ["lab.example"]}', "config: allowedOrigins[0]: 'lab.example' must be an origin like https://host:port, or *"),
    ('{"auth": {"tokens": ["short"]}}', "config: auth.tokens: tokens must be at least 8 characters"),
    ('{"visibility": {"labels": {"a": 1}}}', "config: visibility.labels.a: must be a string"),
    ('{"ringLines": true}', "config: ringLines: must be a whole number"),
    ('{"loops": 1000}', "config: loops: must be at most 64"),
    ('{"maxConnections": 1e300}', "config: maxConnections: is too large"),
    ('[1, 2]', "must hold a JSON object"),
    ('{"listen": ', "is not valid JSON"),
])
def test_invalid_configuration_exits_2_with_one_line(binary, cfg, message):
    # The listen flag would override the file's listen key; leave it out for that case.
    if "listen" in cfg:
        path = tempfile.mktemp(suffix=".json")
        open(path, "w").write(cfg)
        r = subprocess.run([binary, "--config", path], capture_output=True, text=True, timeout=10, cwd=ROOT)
    else:
        r = run_config(binary, cfg)
    assert r.returncode == 2, r.stderr
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and message in lines[0], r.stderr
    assert "Fatal error" not in r.stderr and "Stack" not in r.stderr


def test_unreadable_file_and_bad_environment(binary):
    r = run_config(binary, None)
    assert r.returncode == 2 and "cannot read" in r.stderr and len(r.stderr.strip().splitlines()) == 1
    r = run_config(binary, "{}", env={"DOCKER_HOST": "ssh://somewhere"})
    assert r.returncode == 2 and "DOCKER_HOST" in r.stderr


def test_help_explains_options(binary):
    r = subprocess.run([binary, "--help"], capture_output=True, text=True, timeout=10)
    assert r.returncode == 0
    for flag in ["--config", "--listen", "--engine", "--public", "--log-level", "--allowed-origin", "--token", "--default-tail", "--max-connections"]:
        assert flag in r.stdout, flag
    assert "Precedence" in r.stdout


def test_precedence_flags_env_file(binary, engine):
    engine.run("prec", 'i=1; while [ $i -le 10 ]; do echo "p $i"; i=$((i+1)); done')
    engine.wait_exit("prec")

    def tail_count(d):
        w = d.ws("/logs/prec?follow=0")
        msgs = w.messages()
        return len([m for m in msgs if isinstance(m, str) and m.startswith('{"ts"')])

    # File: defaultTail 5; the engine from DOCKER_HOST since the file names none.
    d = Docktail(binary, engine_url=None, config={"defaultTail": 5}, env={"DOCKER_HOST": engine.url})
    try:
        assert tail_count(d) == 5
        assert d.json("/api/hosts")[1][0]["url"] == engine.url
    finally:
        d.stop()
    # Flag beats file; --engine beats DOCKER_HOST.
    d = Docktail(binary, engine_url=None, config={"defaultTail": 5}, args=["--default-tail", "2", "--engine", f"mine={engine.url}"],
                 env={"DOCKER_HOST": "unix:///nonexistent.sock"})
    try:
        assert tail_count(d) == 2
        assert [h["name"] for h in d.json("/api/hosts")[1]] == ["mine"]
    finally:
        d.stop()
    # A file's engines beat DOCKER_HOST.
    d = Docktail(binary, engine_url=engine.url, env={"DOCKER_HOST": "unix:///nonexistent.sock"})
    try:
        assert d.json("/api/hosts")[1][0]["ok"] is True
    finally:
        d.stop()


def test_tokens_on_every_route(docktail, engine):
    engine.run("secret-app", "echo classified; sleep 600")
    token_file = tempfile.mktemp()
    with open(token_file, "w") as f:
        f.write("# one per line\nfile-token-12345\n")
    d = docktail(config={"auth": {"tokens": [TOKEN], "tokenFile": token_file}})
    # /healthz stays open for health checks.
    assert d.get("/healthz")[0] == 200
    # UI code is public (so other origins can load the component); it names no container.
    for asset in ["/docktail-log.js", "/js/log-stream.js", "/css/app.css", "/favicon.svg"]:
        status, _, body = d.get(asset)
        assert status == 200 and b"secret-app" not in body, asset
    for path in ["/", "/index.html", "/viewer.html", "/logs/secret-app", "/logs/secret-app.js", "/api/containers",
                 "/api/containers/secret-app", "/api/containers/x.js", "/api/hosts", "/metrics", "/no-such-page"]:
        status, _, body = d.get(path)
        assert status == 401, path
        assert b"secret-app" not in body and b"classified" not in body
        assert d.get(path, {"Authorization": "Bearer wrong-token-000"})[0] == 401, path
        expected = 404 if path in ("/api/containers/x.js", "/no-such-page") else 200
        assert d.get(path, {"Authorization": f"Bearer {TOKEN}"})[0] == expected, path
        assert d.get(path, {"Authorization": "Bearer file-token-12345"})[0] == expected, path
    for path in ["/events", "/logs/secret-app"]:
        assert d.ws(path).status == 401
        assert d.ws(path + "?token=nope-nope-nope").status == 401
        assert d.ws(path + f"?token={TOKEN}").status == 101
        assert d.ws(path, headers={"Authorization": f"Bearer {TOKEN}"}).status == 101
    # The viewer opened with ?token= sets a cookie the page's own WebSocket then carries.
    status, headers, _ = d.get(f"/logs/secret-app?token={TOKEN}")
    assert status == 200
    cookie = headers["Set-Cookie"]
    # Cookies ignore ports: the name carries docktail's port so two instances never mix.
    assert cookie.startswith(f"docktail_token_{d.port}={TOKEN};") and "HttpOnly" in cookie and "SameSite=Strict" in cookie
    assert d.ws("/logs/secret-app", headers={"Cookie": f"docktail_token_{d.port}={TOKEN}"}).status == 101
    assert d.ws("/logs/secret-app", headers={"Cookie": f"docktail_token_{d.port}=guess-guess"}).status == 401
    time.sleep(0.2)
    assert TOKEN not in d.logs() and "file-token-12345" not in d.logs()


def test_visibility_rules_hide_everywhere(docktail, engine):
    d = docktail(config={"visibility": {"labels": {"docktail.enable": "true"}, "names": ["vis-*"]}})
    ev = d.ws("/events")
    engine.run("vis-hidden", "echo hidden; sleep 600")
    engine.run("vis-shown", "echo shown; sleep 600", extra=("--label", "docktail.enable=true"))
    engine.run("other-labelled", "echo other; sleep 600", extra=("--label", "docktail.enable=true"))
    time.sleep(1)
    names = [c["name"] for c in d.json("/api/containers?all=1")[1]]
    assert "vis-shown" in names and "vis-hidden" not in names and "other-labelled" not in names
    for hidden in ["vis-hidden", "other-labelled"]:
        w = d.ws(f"/logs/{hidden}")
        assert w.status == 404 and json.loads(w.body) == {"error": f"no such container: {hidden}"}
        assert d.get(f"/api/containers/{hidden}")[0] == 404
    # Same answer as for a container that does not exist at all.
    assert json.loads(d.ws("/logs/vis-nothing").body) == {"error": "no such container: vis-nothing"}
    assert d.ws("/logs/vis-shown").status == 101
    seen = set()
    ev.sock.settimeout(3)
    try:
        while True:
            seen.add(json.loads(ev.recv())["name"])
    except socket.timeout:
        pass
    assert "vis-shown" in seen and "vis-hidden" not in seen and "other-labelled" not in seen


def test_connection_caps(docktail):
    d = docktail(config={"maxConnections": 4, "maxConnectionsPerAddress": 3})
    held = [socket.create_connection(("127.0.0.1", d.port)) for _ in range(3)]
    time.sleep(0.2)
    # A fourth from the same address is over the per-address cap.
    answer = raw_http(d.port, b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
    assert answer.startswith(b"HTTP/1.1 503"), answer[:60]
    # Another address (127.0.0.2) still gets in, up to the global cap.
    s = socket.socket()
    s.bind(("127.0.0.2", 0))
    s.connect(("127.0.0.1", d.port))
    s.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
    assert s.recv(100).startswith(b"HTTP/1.1 200")
    s2 = socket.socket()
    s2.bind(("127.0.0.3", 0))
    s2.connect(("127.0.0.1", d.port))
    s2.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
    assert s2.recv(100).startswith(b"HTTP/1.1 503")
    for c in held:
        c.close()
    time.sleep(0.3)
    assert raw_http(d.port, b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n").startswith(b"HTTP/1.1 200")
    assert d.metric("connections_rejected_total") == 2


def test_open_access_warning(docktail):
    # Beyond loopback with no token: one line naming the risk and the flag that silences it.
    d = docktail(listen="0.0.0.0:0")
    time.sleep(0.3)
    warning = [l for l in d.logs().splitlines() if "with no token" in l]
    assert len(warning) == 1 and "--no-open-access-warning" in warning[0]
    quiet = docktail(listen="0.0.0.0:0", args=("--no-open-access-warning",))
    loopback = docktail(listen="127.0.0.1:0")
    time.sleep(0.3)
    assert "with no token" not in quiet.logs()
    assert "with no token" not in loopback.logs()
    tokens = docktail(listen="0.0.0.0:0", config={"auth": {"tokens": ["a-long-token-1"]}})
    time.sleep(0.3)
    assert "with no token" not in tokens.logs()
