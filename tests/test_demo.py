"""scripts/demo runs far enough to reach a live stream, then stops and cleans up on Ctrl-C."""
import json
import os
import re
import signal
import subprocess
import time

from helpers import ROOT, WS


def test_demo_reaches_a_live_stream(engine):
    port = 18000 + os.getpid() % 1000
    env = dict(os.environ, DOCKER_HOST=engine.url, DEMO_LISTEN=f"127.0.0.1:{port}", DEMO_PREFIX="citest")
    p = subprocess.Popen([os.path.join(ROOT, "scripts/demo")], cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                         text=True, start_new_session=True)
    try:
        url = None
        deadline = time.time() + 300
        output = []
        while time.time() < deadline:
            line = p.stdout.readline()
            if not line:
                break
            output.append(line)
            m = re.search(r"open (http://\S+)", line)
            if m:
                url = m.group(1)
                break
        assert url, "".join(output)
        w = WS(port, "/logs/citest-api?tail=5")
        assert w.status == 101
        seen = []
        while len(seen) < 3:
            m = json.loads(w.recv())
            if "ts" in m:
                seen.append(json.loads(m["line"]))
        assert {"level", "msg"} <= set(seen[0])
        tty = WS(port, "/logs/citest-web?tail=1")
        first = json.loads(tty.recv())
        assert first["event"] == "subscribed" and first["tty"] is True
    finally:
        os.killpg(p.pid, signal.SIGINT)
        p.wait(30)
    # Ctrl-C removed the demo containers.
    left = engine.docker("ps", "-a", "--filter", "name=citest-", "-q")
    assert left == ""
