"""Test helpers: a raw WebSocket client, docktail process control, engine helpers."""
import base64
import json
import os
import re
import select
import socket
import ssl
import struct
import subprocess
import tempfile
import time
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


class WS:
    """A minimal RFC 6455 client over a raw socket, so tests control every byte."""

    def __init__(self, port, path, headers=None, host="127.0.0.1", timeout=10, rcvbuf=None, handshake=True,
                 ssl_context=None, server_hostname=None):
        self.sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET)
        if rcvbuf:
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        self.sock.settimeout(timeout)
        self.sock.connect((host, port))
        if ssl_context is not None:
            # wss: the same bytes inside TLS (handshake done here, certificate checked by the context).
            self.sock = ssl_context.wrap_socket(self.sock, server_hostname=server_hostname or host)
        self.buf = b""
        self.status = None
        self.response_headers = {}
        self.body = b""
        if handshake:
            key = base64.b64encode(os.urandom(16)).decode()
            self.key = key
            hostval = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
            hdrs = {"Host": hostval, "Upgrade": "websocket", "Connection": "Upgrade",
                    "Sec-WebSocket-Key": key, "Sec-WebSocket-Version": "13"}
            for k, v in (headers or {}).items():
                if v is None:
                    hdrs.pop(k, None)
                else:
                    hdrs[k] = v
            req = f"GET {path} HTTP/1.1\r\n" + "".join(f"{k}: {v}\r\n" for k, v in hdrs.items()) + "\r\n"
            self.sock.sendall(req.encode())
            head = self._read_until(b"\r\n\r\n")
            lines = head.decode("latin-1").split("\r\n")
            self.status = int(lines[0].split()[1])
            for l in lines[1:]:
                if ":" in l:
                    k, v = l.split(":", 1)
                    self.response_headers[k.strip().lower()] = v.strip()
            if self.status != 101:
                n = int(self.response_headers.get("content-length", "0"))
                while len(self.buf) < n:
                    d = self.sock.recv(65536)
                    if not d:
                        break
                    self.buf += d
                self.body, self.buf = self.buf[:n], self.buf[n:]

    def _read_until(self, marker):
        self.buf, self.pos = self.buf[getattr(self, "pos", 0):], 0
        while marker not in self.buf:
            d = self.sock.recv(65536)
            if not d:
                raise ConnectionError("closed before " + repr(marker))
            self.buf += d
        i = self.buf.index(marker) + len(marker)
        out, self.buf = self.buf[:i], self.buf[i:]
        return out

    def _read_exact(self, n):
        # An offset into the buffer keeps reading many small frames linear in time.
        pos = getattr(self, "pos", 0)
        while len(self.buf) - pos < n:
            d = self.sock.recv(1 << 20)
            if not d:
                raise ConnectionError("closed")
            self.buf = self.buf[pos:] + d
            pos = 0
        out = self.buf[pos:pos + n]
        self.pos = pos + n
        if self.pos > (1 << 20):
            self.buf, self.pos = self.buf[self.pos:], 0
        return out

    def send_raw(self, data):
        self.sock.sendall(data)

    @staticmethod
    def frame(opcode, payload=b"", fin=True, mask=True, rsv=0):
        b0 = (0x80 if fin else 0) | rsv | opcode
        n = len(payload)
        if n < 126:
            hdr = struct.pack("!BB", b0, (0x80 if mask else 0) | n)
        elif n <= 0xFFFF:
            hdr = struct.pack("!BBH", b0, (0x80 if mask else 0) | 126, n)
        else:
            hdr = struct.pack("!BBQ", b0, (0x80 if mask else 0) | 127, n)
        if not mask:
            return hdr + payload
        key = os.urandom(4)
        return hdr + key + bytes(b ^ key[i % 4] for i, b in enumerate(payload))

    def send(self, opcode, payload=b"", **kw):
        self.sock.sendall(self.frame(opcode, payload, **kw))

    def recv_frame(self):
        b0, b1 = self._read_exact(2)
        assert b1 & 0x80 == 0, "server frames must not be masked"
        n = b1 & 0x7F
        if n == 126:
            n = struct.unpack("!H", self._read_exact(2))[0]
        elif n == 127:
            n = struct.unpack("!Q", self._read_exact(8))[0]
        return b0 & 0x0F, bool(b0 & 0x80), self._read_exact(n)

    def recv(self):
        """Next data message (text as str); answers pings; returns ('close', code, reason) on close."""
        while True:
            op, fin, payload = self.recv_frame()
            if op == 0x9:
                self.send(0xA, payload)
                continue
            if op == 0x8:
                code = struct.unpack("!H", payload[:2])[0] if len(payload) >= 2 else None
                return ("close", code, payload[2:].decode("utf-8"))
            if op == 0x1:
                return payload.decode("utf-8")
            return payload

    def messages(self, until_close=True, limit=10**7, timeout=30):
        out = []
        deadline = time.time() + timeout
        while len(out) < limit and time.time() < deadline:
            m = self.recv()
            out.append(m)
            if isinstance(m, tuple):
                break
        return out

    def is_closed(self, wait=2.0):
        """True when the server closed the TCP connection within `wait` seconds."""
        self.sock.settimeout(wait)
        try:
            while True:
                d = self.sock.recv(65536)
                if not d:
                    return True
        except socket.timeout:
            return False
        except (ConnectionResetError, BrokenPipeError):
            return True
        except ssl.SSLError:  # a TLS socket cut without close_notify
            return True

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass


class Docktail:
    """A docktail process on a free loopback port."""

    def __init__(self, binary, engine_url=None, args=(), config=None, env=None, listen="127.0.0.1:0", listeners=1):
        self.dir = tempfile.mkdtemp(prefix="docktail-test-")
        cfg = {"listen": [listen], "publicDir": os.path.join(ROOT, "Public"), "logLevel": "debug"}
        if engine_url:
            cfg["engines"] = [{"name": "local", "url": engine_url}]
        cfg.update(config or {})
        self.config_path = os.path.join(self.dir, "config.json")
        with open(self.config_path, "w") as f:
            json.dump(cfg, f)
        self.log_path = os.path.join(self.dir, "docktail.log")
        self.log = open(self.log_path, "w")
        e = dict(os.environ)
        for k, v in (env or {}).items():
            if v is None:
                e.pop(k, None)  # None removes a variable (e.g. DOCKER_HOST from the caller's environment)
            else:
                e[k] = v
        self.proc = subprocess.Popen([binary, "--config", self.config_path, *args], cwd=ROOT,
                                     stdout=self.log, stderr=subprocess.STDOUT, env=e)
        self.port = None
        self.ports = []  # every listener's port, in the order they are logged
        deadline = time.time() + 20
        while time.time() < deadline and len(self.ports) < listeners:
            text = open(self.log_path).read()
            # An address may carry a scheme (http://, https://) when TLS listeners exist.
            self.ports = [int(p) for p in re.findall(r"address=(?:[a-z]+://)?(?:\[[^\]]*\]|[0-9.]+):(\d+)", text)]
            if len(self.ports) >= listeners:
                self.port = self.ports[0]
            elif self.proc.poll() is not None:
                raise RuntimeError("docktail exited: " + text)
            else:
                time.sleep(0.05)
        assert self.port, open(self.log_path).read()

    def url(self, path):
        return f"http://127.0.0.1:{self.port}{path}"

    def get(self, path, headers=None, timeout=10):
        req = urllib.request.Request(self.url(path), headers=headers or {})
        try:
            with urllib.request.urlopen(req, timeout=timeout) as r:
                return r.status, dict(r.headers), r.read()
        except urllib.error.HTTPError as e:
            return e.code, dict(e.headers), e.read()

    def json(self, path, headers=None):
        status, _, body = self.get(path, headers)
        return status, json.loads(body)

    def metric(self, name):
        _, _, body = self.get("/metrics")
        m = re.search(rf"^docktail_{name} (\d+)$", body.decode(), re.M)
        return int(m.group(1)) if m else None

    def ws(self, path, **kw):
        return WS(self.port, path, **kw)

    def rss_kib(self):
        with open(f"/proc/{self.proc.pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])

    def logs(self):
        return open(self.log_path).read()

    def stop(self, sig=15):
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()


def read_answer(s, timeout=3.0):
    """Reads until the server closes or goes quiet; (bytes, closed)."""
    s.settimeout(timeout)
    out = b""
    try:
        while True:
            d = s.recv(65536)
            if not d:
                return out, True
            out += d
    except socket.timeout:
        return out, False
    except (ConnectionResetError, BrokenPipeError):
        return out, True


def raw_http(port, data, read_timeout=3.0, host="127.0.0.1"):
    """Sends raw bytes and returns everything the server answers until it closes or goes quiet."""
    s = socket.create_connection((host, port))
    s.sendall(data)
    out, _ = read_answer(s, read_timeout)
    s.close()
    return out


class Engine:
    """The private engine started by scripts/engine (real dockerd)."""

    def __init__(self, url):
        self.url = url
        self.sock = url[len("unix://"):]

    def docker(self, *args, check=True, input=None):
        r = subprocess.run(["docker", "-H", self.url, *args], capture_output=True, text=True, input=input, timeout=120)
        if check and r.returncode != 0:
            raise RuntimeError(f"docker {args}: {r.stderr}")
        return r.stdout.strip()

    def run(self, name, script, tty=False, extra=()):
        self.docker("rm", "-f", name, check=False)
        args = ["run", "-d", "--network", "none", "--name", name, *extra]
        if tty:
            args.append("-t")
        return self.docker(*args, "local/busybox:latest", "sh", "-c", script)

    def raw_logs(self, ref, query):
        s = socket.socket(socket.AF_UNIX)
        s.connect(self.sock)
        s.sendall(f"GET /v1.41/containers/{ref}/logs?{query} HTTP/1.0\r\nHost: docker\r\n\r\n".encode())
        data = b""
        while True:
            d = s.recv(1 << 20)
            if not d:
                break
            data += d
        return data.split(b"\r\n\r\n", 1)[1]

    def wait_exit(self, name, timeout=60):
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.docker("inspect", "-f", "{{.State.Running}}", name) == "false":
                return
            time.sleep(0.1)
        raise TimeoutError(name)


def log_lines(messages):
    return [json.loads(m) for m in messages if isinstance(m, str) and m.startswith('{"ts"')]


def events(messages, keep_time=False):
    """The events among `messages`. `end` and `restart` carry their `time`; it is left out here
    (tests compare the rest exactly) unless `keep_time`."""
    out = []
    for m in messages:
        if isinstance(m, str) and m.startswith('{"event"'):
            e = json.loads(m)
            if not keep_time and e.get("event") in ("end", "restart"):
                e.pop("time", None)
            out.append(e)
    return out
