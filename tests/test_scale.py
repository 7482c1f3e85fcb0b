"""10,000 concurrent WebSocket connections on one docktail (bounded in count and time)."""
import base64
import json
import os
import resource
import selectors
import socket
import time

N = 10_000


def test_ten_thousand_websockets(server, engine):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    assert hard >= N + 100, f"RLIMIT_NOFILE hard limit {hard} is too low for this test"
    rss_before = server.rss_kib()
    sel = selectors.DefaultSelector()
    key = base64.b64encode(os.urandom(16)).decode()
    request = (f"GET /events HTTP/1.1\r\nHost: 127.0.0.1:{server.port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
               f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n").encode()
    socks = []
    buffers = {}
    deadline = time.time() + 120
    for i in range(N):
        s = socket.socket()
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        s.connect(("127.0.0.1", server.port))
        s.sendall(request)
        s.setblocking(False)
        sel.register(s, selectors.EVENT_READ)
        socks.append(s)
        buffers[s.fileno()] = b""
        if i % 500 == 499:
            # Drain answers as we go so the kernel queues stay small.
            for k, _ in sel.select(0):
                buffers[k.fileobj.fileno()] += k.fileobj.recv(4096)
    upgraded = set()
    while len(upgraded) < N and time.time() < deadline:
        for k, _ in sel.select(1):
            fd = k.fileobj.fileno()
            buffers[fd] += k.fileobj.recv(4096)
            if b"\r\n\r\n" in buffers[fd]:
                assert buffers[fd].startswith(b"HTTP/1.1 101"), buffers[fd][:80]
                upgraded.add(fd)
                buffers[fd] = buffers[fd].split(b"\r\n\r\n", 1)[1]
        for s in socks:
            fd = s.fileno()
            if fd not in upgraded and b"\r\n\r\n" in buffers[fd]:
                upgraded.add(fd)
                buffers[fd] = buffers[fd].split(b"\r\n\r\n", 1)[1]
    assert len(upgraded) == N
    assert server.metric("websockets") == N
    rss_after = server.rss_kib()
    per_connection = (rss_after - rss_before) / N
    assert per_connection < 8, f"{per_connection:.2f} KiB per idle connection"
    # One container event reaches every one of them.
    engine.run("scale-event", "true")
    got = set()
    deadline = time.time() + 60
    while len(got) < N and time.time() < deadline:
        for k, _ in sel.select(1):
            fd = k.fileobj.fileno()
            try:
                buffers[fd] += k.fileobj.recv(65536)
            except BlockingIOError:
                continue
            if b"scale-event" in buffers[fd]:
                got.add(fd)
    assert len(got) == N
    for s in socks:
        s.close()
    deadline = time.time() + 30
    while server.metric("websockets") > 0 and time.time() < deadline:
        time.sleep(0.2)
    assert server.metric("websockets") == 0
