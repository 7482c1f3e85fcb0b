"""The Dockerfile cannot be built here (no registry to pull base images from), so its steps are
reproduced: the same release build command, then the binary run from a clean folder holding
only what the runtime stage copies, as an unprivileged user in the engine socket's group."""
import json
import os
import re
import shutil
import subprocess
import tempfile
import time
import urllib.request

from helpers import ROOT, WS, Engine

DOCKERFILE = open(os.path.join(ROOT, "Dockerfile")).read()


def test_dockerfile_structure():
    stages = re.findall(r"^FROM (\S+)(?: AS (\w+))?", DOCKERFILE, re.M)
    assert len(stages) == 2 and stages[0][0].startswith("swift:6") and stages[0][1] == "build"
    assert stages[1][0].startswith("debian:") and "slim" in stages[1][0]
    assert re.search(r"^EXPOSE 8080$", DOCKERFILE, re.M)
    assert re.search(r"^HEALTHCHECK .*\n.*?/healthz", DOCKERFILE, re.M)
    assert re.search(r"^USER docktail$", DOCKERFILE, re.M)
    assert "libssl3" in DOCKERFILE and "ca-certificates" in DOCKERFILE
    copies = re.findall(r"^COPY (?:--from=build )?(\S+) (\S+)$", DOCKERFILE, re.M)
    assert ("Public", "./Public") in copies and ("config.json", "./config.json") in copies


def test_runtime_stage_reproduced(engine):
    build = re.search(r"^RUN (swift build -c release [^\\\n]*)", DOCKERFILE, re.M).group(1).strip()
    scratch = os.path.join(ROOT, ".build-static")
    subprocess.run(build.split() + ["--scratch-path", scratch], cwd=ROOT, check=True, capture_output=True, timeout=900)
    binary = os.path.join(scratch, "release", "docktail")
    linked = subprocess.run(["ldd", binary], capture_output=True, text=True).stdout
    libs = {l.split()[0] for l in linked.splitlines() if "=>" in l}
    # Only what the runtime stage installs (libssl3, libstdc++6) or glibc provides.
    assert libs <= {"libssl.so.3", "libcrypto.so.3", "libm.so.6", "libstdc++.so.6", "libgcc_s.so.1", "libc.so.6", "libdl.so.2", "libpthread.so.0"}, libs
    app = tempfile.mkdtemp(prefix="docktail-runtime-")
    shutil.copytree(os.path.join(ROOT, "Public"), os.path.join(app, "Public"))
    shutil.copy(os.path.join(ROOT, "config.json"), os.path.join(app, "config.json"))
    shutil.copy(binary, os.path.join(app, "docktail"))
    os.chmod(app, 0o755)
    # The engine socket's group, as `--group-add` would give it.
    sock = engine.sock
    gid = 10002
    os.chown(sock, 0, gid)
    os.chmod(sock, 0o660)
    engine.run("rt-check", "echo from the runtime stage")
    engine.wait_exit("rt-check")
    port = 19000 + os.getpid() % 1000
    cmd = ["setpriv", "--reuid=10001", "--regid=10001", f"--groups={gid}", "--inh-caps=-all",
           os.path.join(app, "docktail"), "--config", os.path.join(app, "config.json"),
           "--listen", f"127.0.0.1:{port}", "--engine", f"local={engine.url}"]
    p = subprocess.Popen(cmd, cwd=app, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env={"PATH": "/usr/bin:/bin"})
    try:
        deadline = time.time() + 15
        health = None
        while time.time() < deadline:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as r:
                    health = json.loads(r.read())
                    break
            except OSError:
                time.sleep(0.2)
        assert health and health["engines"][0]["ok"] is True, health
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=5) as r:
            assert r.status == 200 and b"docktail" in r.read()
        w = WS(port, "/logs/rt-check?follow=0")
        msgs = w.messages()
        assert json.loads(msgs[1])["line"] == "from the runtime stage"
        assert os.stat(f"/proc/{p.pid}").st_uid == 10001
    finally:
        p.terminate()
        p.wait(5)
        os.chown(sock, 0, 0)
