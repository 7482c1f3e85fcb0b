"""Server core over real loopback sockets: HTTP/1.1, static files, RFC 6455 rules, shutdown."""
import os
import signal
import socket
import struct
import tempfile
import time

from helpers import WS, raw_http


def test_static_files_conditional_and_head(server):
    status, headers, body = server.get("/")
    assert status == 200
    assert headers["Content-Type"] == "text/html; charset=utf-8"
    assert int(headers["Content-Length"]) == len(body) > 0
    assert "Content-Security-Policy" in headers and "frame-ancestors" in headers["Content-Security-Policy"]
    etag, last_modified = headers["ETag"], headers["Last-Modified"]
    assert server.get("/", {"If-None-Match": etag})[0] == 304
    assert server.get("/", {"If-Modified-Since": last_modified})[0] == 304
    head = raw_http(server.port, b"HEAD /index.html HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200 OK\r\n") and head.endswith(b"\r\n\r\n")
    assert f"Content-Length: {len(body)}".encode() in head
    for path, ctype in [("/docktail-log.js", "text/javascript; charset=utf-8"), ("/css/app.css", "text/css; charset=utf-8"), ("/favicon.svg", "image/svg+xml")]:
        status, headers, _ = server.get(path)
        assert status == 200 and headers["Content-Type"] == ctype, path


def test_paths_never_leave_public(docktail):
    public = tempfile.mkdtemp()
    open(os.path.join(public, "index.html"), "w").write("<p>in</p>")
    secret_dir = tempfile.mkdtemp()
    open(os.path.join(secret_dir, "secret.txt"), "w").write("SECRET")
    os.symlink(os.path.join(secret_dir, "secret.txt"), os.path.join(public, "link.txt"))
    os.symlink(secret_dir, os.path.join(public, "dir"))
    d = docktail(config={"publicDir": public})
    for path in [b"/../etc/passwd", b"/%2e%2e/etc/passwd", b"/%2E%2E/%2E%2E/etc/passwd", b"/a/../../etc/passwd",
                 b"/..%2fetc%2fpasswd", b"/link.txt", b"/dir/secret.txt", b"/index.html%00.txt", b"/.%2e/x", b"/%zz"]:
        answer = raw_http(d.port, b"GET " + path + b" HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
        status = int(answer.split()[1])
        assert status in (400, 404), (path, answer[:100])
        assert b"SECRET" not in answer and b"root:" not in answer
    assert d.get("/index.html")[0] == 200


def test_routing_405_and_404(server):
    answer = raw_http(server.port, b"POST /api/containers HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
    assert answer.startswith(b"HTTP/1.1 405")
    assert b"Allow: GET, HEAD\r\n" in answer
    assert server.get("/no/such/file")[0] == 404
    assert server.get("/events")[0] == 426


def test_malformed_requests_get_400_and_others_are_unaffected(server):
    other = socket.create_connection(("127.0.0.1", server.port))
    for bad in [b"GARBAGE\r\n\r\n", b"GET / HTTP/1.1\r\n\r\n", b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n folded\r\n\r\n",
                b"POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n",
                b"GET / HTTP/1.1\r\nHost x\r\n\r\n"]:
        answer = raw_http(server.port, bad)
        assert answer.startswith(b"HTTP/1.1 400"), (bad, answer[:80])
        assert b"Connection: close" in answer
    other.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
    assert other.recv(100).startswith(b"HTTP/1.1 ")
    other.close()


def test_header_limits(server):
    assert raw_http(server.port, b"GET /" + b"a" * 9000 + b" HTTP/1.1\r\n\r\n").startswith(b"HTTP/1.1 414")
    big = b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n" + b"".join(b"X-%d: %s\r\n" % (i, b"v" * 200) for i in range(90)) + b"\r\n"
    assert raw_http(server.port, big).startswith(b"HTTP/1.1 431")
    many = b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n" + b"".join(b"X-%d: 1\r\n" % i for i in range(101)) + b"\r\n"
    assert raw_http(server.port, many).startswith(b"HTTP/1.1 431")
    assert raw_http(server.port, b"GET / HTTP/2.0\r\nHost: 127.0.0.1\r\n\r\n").startswith(b"HTTP/1.1 505")


def test_pipelined_requests_answered_in_order(server):
    reqs = b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\nGET /nope HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\nGET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
    answer = raw_http(server.port, reqs)
    statuses = [int(part.split(b" ", 2)[1]) for part in answer.split(b"HTTP/1.1 ")[1:] for part in [b"HTTP/1.1 " + part]]
    assert len(statuses) == 3
    assert statuses[1] == 404 and statuses[2] == 200
    assert answer.index(b"404 Not Found") < answer.index(b"docktail_connections")


def test_slowloris_and_idle_keepalive(docktail):
    d = docktail(config={"timeouts": {"header": 1, "keepAlive": 1}})
    s = socket.create_connection(("127.0.0.1", d.port))
    s.sendall(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n")
    t0 = time.time()
    s.settimeout(5)
    data = b""
    while True:
        chunk = s.recv(1000)
        if not chunk:
            break
        data += chunk
    assert data.startswith(b"HTTP/1.1 408")
    assert 0.9 < time.time() - t0 < 3.5
    idle = socket.create_connection(("127.0.0.1", d.port))
    idle.settimeout(5)
    t0 = time.time()
    assert idle.recv(10) == b""
    assert time.time() - t0 < 3.5


def test_handshake_negative_cases(docktail):
    d = docktail(config={"allowedOrigins": ["https://lab.example"]})
    assert d.ws("/events", headers={"Sec-WebSocket-Key": None}).status == 400
    assert d.ws("/events", headers={"Sec-WebSocket-Key": "c2hvcnQ="}).status == 400
    w = d.ws("/events", headers={"Sec-WebSocket-Version": "8"})
    assert w.status == 426 and w.response_headers["sec-websocket-version"] == "13"
    assert d.ws("/events", headers={"Connection": "keep-alive"}).status == 400
    assert d.ws("/events", headers={"Origin": "https://evil.example"}).status == 403
    assert d.ws("/events", headers={"Origin": "https://lab.example"}).status == 101
    assert d.ws("/events", headers={"Origin": f"http://127.0.0.1:{d.port}"}).status == 101
    ok = d.ws("/events")
    assert ok.status == 101
    import base64
    import hashlib
    # Sec-WebSocket-Accept checked independently of the server's OpenSSL (RFC 6455 §4.2.2).
    expected = base64.b64encode(hashlib.sha1((ok.key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11").encode()).digest()).decode()
    assert ok.response_headers["sec-websocket-accept"] == expected


def expect_close(w, code):
    m = w.recv()
    assert isinstance(m, tuple) and m[0] == "close", m
    assert m[1] == code, m
    assert w.is_closed(3)


def test_close_code_rules(server):
    cases = [
        (WS.frame(0x1, b"hi", mask=False), 1002),                       # unmasked
        (WS.frame(0x1, b"hi", rsv=0x40), 1002),                         # RSV1
        (WS.frame(0x3, b""), 1002),                                     # reserved data opcode
        (WS.frame(0xB, b""), 1002),                                     # reserved control opcode
        (WS.frame(0x9, b"x", fin=False), 1002),                         # fragmented control
        (WS.frame(0x9, b"x" * 126), 1002),                              # long control
        (WS.frame(0x0, b"x"), 1002),                                    # continuation without start
        (WS.frame(0x1, b"a", fin=False) + WS.frame(0x1, b"b"), 1002),   # new message inside a fragmented one
        (WS.frame(0x1, b"\xc3\x28"), 1007),                             # invalid UTF-8
        (WS.frame(0x1, b"ok", fin=False) + WS.frame(0x0, b"\xed\xa0\x80", fin=False), 1007),  # invalid across fragments
        (WS.frame(0x8, b"\x03"), 1002),                                 # close payload of one byte
        (WS.frame(0x8, struct.pack("!H", 1005)), 1002),
        (WS.frame(0x8, struct.pack("!H", 1006)), 1002),
        (WS.frame(0x8, struct.pack("!H", 1015)), 1002),
        (WS.frame(0x8, struct.pack("!H", 1004)), 1002),
        (WS.frame(0x8, struct.pack("!H", 999)), 1002),
        (WS.frame(0x8, struct.pack("!H", 2000)), 1002),
        (WS.frame(0x8, struct.pack("!H", 1000) + b"\xff"), 1007),       # close reason not UTF-8
    ]
    for data, code in cases:
        w = server.ws("/events")
        assert w.status == 101
        w.send_raw(data)
        expect_close(w, code)
        w.close()


def test_message_too_big_decided_from_header(server):
    w = server.ws("/events")
    # Only the header of a 1 MiB frame: the server must not wait for the payload.
    w.send_raw(struct.pack("!BBQ", 0x82, 0x80 | 127, 1 << 20) + b"\x00\x00\x00\x00")
    expect_close(w, 1009)
    w = server.ws("/events")
    w.send_raw(WS.frame(0x2, b"x" * 40000, fin=False) + WS.frame(0x0, b"x" * 30000))
    expect_close(w, 1009)


def test_ping_pong_and_close_echo(server):
    w = server.ws("/events")
    w.send(0x9, b"payload")
    op, fin, payload = w.recv_frame()
    assert (op, fin, payload) == (0xA, True, b"payload")
    w.send(0x8, struct.pack("!H", 4001) + b"bye")
    op, _, payload = w.recv_frame()
    assert op == 0x8 and struct.unpack("!H", payload[:2])[0] == 4001
    assert w.is_closed(3)


def test_bytes_right_after_handshake_reach_the_frame_parser(server):
    s = socket.create_connection(("127.0.0.1", server.port))
    s.sendall(b"GET /events HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
              b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n" + WS.frame(0x9, b"early"))
    s.settimeout(5)
    data = b""
    while b"early" not in data:
        data += s.recv(1000)
    assert b"s3pPLMBiTxaQ9kYGzzhZRbK+xOo=" in data
    assert data.endswith(b"\x8a\x05early")


def test_keepalive_ping_and_drop(docktail):
    d = docktail(config={"timeouts": {"ping": 1, "pong": 3}})
    w = d.ws("/events")
    op, _, _ = w.recv_frame()
    while op == 0x1:  # engine events of other tests' containers may come first
        op, _, _ = w.recv_frame()
    assert op == 0x9  # server pings an idle client
    assert w.is_closed(6)  # and drops it when it never answers


def test_graceful_shutdown_sends_1001(server):
    clients = [server.ws("/events") for _ in range(20)]
    t0 = time.time()
    server.proc.send_signal(signal.SIGTERM)
    for w in clients:
        op, _, payload = w.recv_frame()
        assert op == 0x8 and struct.unpack("!H", payload[:2])[0] == 1001
        w.send(0x8, payload[:2])
    server.proc.wait(3)
    assert time.time() - t0 < 2.5
    assert server.proc.returncode == 0


def test_ipv6_listener(docktail):
    d = docktail(listen="[::1]:0")
    w = WS(d.port, "/events", host="::1")
    assert w.status == 101
