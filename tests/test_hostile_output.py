"""Hostile or unusual container output: what a docktail viewer gets must be, line for line, what
`docker logs` gives for the same container.

The reference is the engine's own raw log stream (`timestamps=0`, demultiplexed per stream for
non-TTY containers), cut into lines with the documented semantics: a line is the text between
newlines; a trailing `\\r` is removed; invalid UTF-8 becomes U+FFFD; a line longer than
`maxLineBytes` (1 MiB) keeps its first 1 MiB and ends with " …[line truncated]"; a last line
without a newline is delivered. `tail=N` means the last N lines as the user sees them, so it is
compared with the last N reference lines, not with the engine's `tail` (which counts 16 KiB
fragments of long lines).
"""
import json
import os
import re
import select
import socket
import struct
import subprocess
import time

import pytest

from conftest import ENGINE_DIR
from helpers import ROOT, Docktail, Engine, events, log_lines

MAX_LINE = 1024 * 1024
MARKER = " …[line truncated]"
STAMP_RE = re.compile(r"\d{4}-\d\d-\d\dT")


# --- fixtures ----------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def engine():
    """The shared private engine, without conftest's teardown (which removes every container,
    including those of other sessions using the same engine): this module removes only its own."""
    url = subprocess.run([os.path.join(ROOT, "scripts/engine"), "start", ENGINE_DIR], capture_output=True, text=True,
                         check=True).stdout.strip()
    e = Engine(url)
    made = []
    real_run = e.run

    def run(name, script, tty=False, extra=()):
        made.append(name)
        return real_run(name, script, tty=tty, extra=extra)

    e.run = run
    yield e
    if made:
        e.docker("rm", "-f", *sorted(set(made)), check=False)


@pytest.fixture(scope="module")
def server(binary, engine):
    d = Docktail(binary, engine_url=engine.url)
    yield d
    d.stop()


# --- reference and viewer ----------------------------------------------------------------------

def demux(raw):
    """Splits the engine's multiplexed (non-TTY) stream: 8-byte headers [stream, 0, 0, 0, size]."""
    out = {1: bytearray(), 2: bytearray()}
    i = 0
    while i + 8 <= len(raw):
        stream, size = raw[i], struct.unpack(">I", raw[i + 4:i + 8])[0]
        assert stream in (1, 2) and raw[i + 1:i + 4] == b"\0\0\0", f"bad frame header at {i}: {raw[i:i + 8]!r}"
        out[stream] += raw[i + 8:i + 8 + size]
        i += 8 + size
    assert i == len(raw), f"{len(raw) - i} trailing bytes in the multiplexed stream"
    return {"stdout": bytes(out[1]), "stderr": bytes(out[2])}


def user_lines(data):
    """Bytes of one stream → the lines a user sees (the semantics in the module docstring)."""
    parts = data.split(b"\n")
    if parts[-1] == b"":
        parts.pop()
    lines = []
    for p in parts:
        if p.endswith(b"\r"):
            p = p[:-1]
        if len(p) > MAX_LINE:
            # The test lines are ASCII, so the cut never splits a UTF-8 sequence.
            lines.append(p[:MAX_LINE].decode("utf-8", "replace") + MARKER)
        else:
            lines.append(p.decode("utf-8", "replace"))
    return lines


def reference(engine, name, tty):
    """What `docker logs NAME` shows, per stream."""
    raw = engine.raw_logs(name, "stdout=1&stderr=1&timestamps=0&tail=all")
    streams = {"stdout": raw, "stderr": b""} if tty else demux(raw)
    return {k: user_lines(v) for k, v in streams.items()}


def collect(ws, until=None, timeout=60):
    """Messages until a close frame, `until(msgs)`, or the timeout."""
    out = []
    deadline = time.time() + timeout
    while time.time() < deadline:
        # Wait in short slices and read a frame only once bytes are there: a long blocking recv
        # was seen to outlive its own timeout on this VM, and a timeout inside a frame would
        # desynchronise the client's framing.
        if len(ws.buf) <= getattr(ws, "pos", 0):
            if not select.select([ws.sock], [], [], min(1.0, max(0.0, deadline - time.time())))[0]:
                continue
        ws.sock.settimeout(10)
        try:
            m = ws.recv()
        except socket.timeout:
            break
        except (ConnectionError, OSError):
            out.append(("tcp closed without a close frame", None, ""))
            break
        out.append(m)
        if isinstance(m, tuple) or (until and until(out)):
            break
    return out


def ended(msgs, count=1):
    return sum(1 for m in msgs if isinstance(m, str) and m.startswith('{"event":"end"')) >= count


def viewer(server, name, query, timeout=60):
    """The viewer's lines per stream; follow mode reads until the `end` event."""
    ws = server.ws(f"/logs/{name}?{query}")
    assert ws.status == 101, (ws.status, ws.body[:200])
    follow = "follow=0" not in query
    msgs = collect(ws, until=(lambda m: ended(m)) if follow else None, timeout=timeout)
    if follow:
        assert ended(msgs), f"no end event within {timeout}s ({query})"
        # The container has exited: `end` must come after its whole history, never inside it.
        late = log_lines(collect(ws, timeout=0.5))
        assert not late, f"{len(late)} lines arrived after the end event ({query}); the first: {short(late[0]['line'])}"
        ws.close()
    else:
        ws.close()
        assert msgs and isinstance(msgs[-1], tuple) and msgs[-1][1] == 1000, f"no close 1000 ({query}): {msgs[-1:]!r}"
    lines = log_lines(msgs)
    return {s: [l["line"] for l in lines if l["stream"] == s] for s in ("stdout", "stderr")}


def short(s):
    return repr(s if len(s) <= 90 else s[:60] + f"…<{len(s)} chars>…" + s[-20:])


def difference(got, want, what):
    """None when equal, else a readable report (lines can be 1 MiB long)."""
    if got == want:
        return None
    n = next((i for i, (a, b) in enumerate(zip(got, want)) if a != b), min(len(got), len(want)))
    g = short(got[n]) if n < len(got) else "<none>"
    w = short(want[n]) if n < len(want) else "<none>"
    return (f"{what}: {len(got)} lines, docker logs {len(want)}; first difference at line {n}:\n"
            f"  viewer: {g}\n  docker: {w}")


def fail_if(problems):
    problems = [p for p in problems if p]
    if problems:
        pytest.fail("\n".join(problems))


def compare(server, engine, name, tty, queries=("tail=all&follow=0", "tail=all")):
    """Every query is checked, and every mismatch reported, so one run shows the whole picture."""
    want = reference(engine, name, tty)
    problems = []
    for q in queries:
        m = re.search(r"tail=(\d+)", q)
        # The engine's tail counts both streams together; slicing per stream is only right for one.
        assert not (m and want["stderr"]), "tail=N comparisons need a container writing only stdout"
        try:
            got = viewer(server, name, q)
        except AssertionError as e:
            problems.append(f"{name} ?{q}: {str(e).splitlines()[0]}")
            continue
        for stream in ("stdout", "stderr"):
            n = int(m.group(1)) if m else None
            expected = want[stream] if n is None else want[stream][-n:] if n else []
            problems.append(difference(got[stream], expected, f"{name} {stream} ?{q}"))
    fail_if(problems)
    return want


def run_to_exit(engine, name, script, tty=False, extra=(), timeout=90):
    engine.run(name, script, tty=tty, extra=extra)
    engine.wait_exit(name, timeout=timeout)


def xs(n, ch="x"):
    """Shell for n copies of a character, no newline."""
    return f"head -c {n} /dev/zero | tr '\\0' '{ch}'"


TTY = pytest.mark.parametrize("tty", [False, True], ids=["pipe", "tty"])

STAMP = "2099-01-01T00:00:00.000000000Z "   # 31 bytes, what the engine puts before each entry


# --- forged timestamps at entry boundaries -----------------------------------------------------

@TTY
def test_forged_timestamps_at_entry_boundaries(server, engine, tty):
    # The engine cuts entries at 16 KiB and prefixes each with "STAMP "; text that looks like a
    # stamp right where an entry starts must stay text.
    n = 16384 - len(STAMP)
    script = "; ".join([
        f"{xs(n, 'x')}; printf '{STAMP}more text\\n'",               # the 2nd entry starts after a fake stamp
        f"{xs(n, 'y')}; printf '{STAMP}\\n'",                         # 16384 bytes ending in a fake stamp
        f"{xs(16384, 'z')}; printf '{STAMP}after a full entry\\n'",    # the 2nd entry starts with a fake stamp
        "printf '2026-11-29T14:16:35.218193371Z at position zero\\n'",
        "printf '2026-11-29T14:16:35.218193371Z \\n'",
        "printf '2026-11-29T14:16:35.218193371Z\\n'",
        "printf '2026-11-29T14:16:35.218193371Z  two spaces\\n'",
        "printf 'partial '; sleep 0.3; printf '2026-11-29T14:16:35.218193371Z continued\\n'",
        f"printf '{STAMP}on stderr\\n' >&2",
        f"{{ {xs(n, 'e')}; printf '{STAMP}stderr tail\\n'; }} >&2",
        "echo done",
    ])
    name = f"hostile-stamps-{'tty' if tty else 'pipe'}"
    run_to_exit(engine, name, script, tty=tty)
    want = compare(server, engine, name, tty)
    assert want["stdout"][-1] == "done" and len(want["stdout"]) + len(want["stderr"]) == 11


# --- partial lines before exit and before restart ----------------------------------------------

@TTY
def test_partial_line_before_exit(server, engine, tty):
    name = f"hostile-partial-{'tty' if tty else 'pipe'}"
    run_to_exit(engine, name, "echo first; printf 'no newline'", tty=tty)
    want = compare(server, engine, name, tty)
    assert want["stdout"] == ["first", "no newline"]


@TTY
def test_partial_lines_across_restarts(server, engine, tty):
    # Each run ends with a line without a newline and exits 1; the engine restarts it 3 times.
    name = f"hostile-restarts-{'tty' if tty else 'pipe'}"
    script = "echo 'run begin'; echo 'middle line'; printf 'partial tail'; sleep 0.3; exit 1"
    engine.run(name, script, tty=tty, extra=("--restart", "on-failure:3"))
    ws = server.ws(f"/logs/{name}?tail=all")
    assert ws.status == 101
    msgs = collect(ws, until=lambda m: ended(m, 4), timeout=40)
    ws.close()
    expected = ["run begin", "middle line", "partial tail"] * 4
    ends = [e["event"] for e in events(msgs)].count("end")
    assert ends == 4, f"{ends} end events within 40 s: {events(msgs)}"
    followed = [l["line"] for l in log_lines(msgs)]
    # The same history afterwards, in one read.
    engine.wait_exit(name, timeout=20)
    history = viewer(server, name, "tail=all&follow=0")["stdout"]
    problems = []
    for what, lines in (("follow", followed), ("follow=0", history)):
        stamped = [l for l in lines if STAMP_RE.search(l)]
        if stamped:
            problems.append(f"{name} {what}: engine timestamps leaked into line text: {stamped[:2]!r}")
        problems.append(difference(lines, expected, f"{name} {what}"))
    fail_if(problems)


# --- long lines --------------------------------------------------------------------------------

@TTY
def test_lines_around_the_entry_size(server, engine, tty):
    sizes = [16383, 16384, 16385, 32767, 32768, 32769, 49152]
    script = "; ".join(f"{xs(n, c)}; echo" for n, c in zip(sizes, "abcdefg")) + "; echo end"
    name = f"hostile-16k-{'tty' if tty else 'pipe'}"
    run_to_exit(engine, name, script, tty=tty)
    want = compare(server, engine, name, tty, queries=("tail=all&follow=0", "tail=all", "tail=3&follow=0"))
    assert [len(l) for l in want["stdout"]] == sizes + [3]


def test_six_hundred_lines_of_20kb(server, engine):
    name = "hostile-20kb"
    script = f"l=$({xs(20000, 'x')}); i=0; while [ $i -lt 600 ]; do echo \"$i $l\"; i=$((i+1)); done"
    run_to_exit(engine, name, script)
    want = compare(server, engine, name, False,
                   queries=("tail=all&follow=0", "tail=100&follow=0", "tail=all", "tail=100"))
    assert len(want["stdout"]) == 600


@TTY
def test_one_mib_lines_and_tail(server, engine, tty):
    # Exactly 1 MiB (whole), 1 MiB + 100 (truncated), 1 MiB - 1 (whole), then a normal line.
    # Under a TTY the exact 1 MiB line arrives as 1 MiB + "\r": still whole once "\r" goes.
    script = f"{xs(MAX_LINE, 'a')}; echo; {xs(MAX_LINE + 100, 'b')}; echo; {xs(MAX_LINE - 1, 'c')}; echo; echo after"
    name = f"hostile-1mib-{'tty' if tty else 'pipe'}"
    run_to_exit(engine, name, script, tty=tty)
    want = compare(server, engine, name, tty, queries=("tail=all&follow=0", "tail=3&follow=0"))
    assert [len(l) for l in want["stdout"]] == [MAX_LINE, MAX_LINE + len(MARKER), MAX_LINE - 1, 5]


# --- carriage returns --------------------------------------------------------------------------

PROGRESS = 'for i in 1 2 3 4 5; do printf "\\r${i}0%%"; sleep 0.3; done; printf "\\n"'


def test_carriage_return_progress_final_line(server, engine):
    name = "hostile-progress"
    run_to_exit(engine, name, PROGRESS, tty=True)
    want = compare(server, engine, name, True)
    assert want["stdout"] == ["\r10%\r20%\r30%\r40%\r50%"]


def test_carriage_return_progress_visible_while_running(server, engine):
    """A progress bar never ends its line until it is done: the viewer must still show it live,
    as a preview ({"partial": true}) of its latest state, before the final newline.

    The engine itself keeps an unterminated line in its 16 KiB copy buffer and writes nothing
    to the log until the buffer is full or the line ends, so no log reader can see a short
    progress bar early. This bar writes 2 KiB per update, so the engine hands over 16 KiB pieces
    while it runs and docktail previews them."""
    name = "hostile-progress-live"
    pad = "#" * 2040
    script = (f'i=1; while [ $i -le 40 ]; do printf "\\r%02d {pad}" $i; sleep 0.1; i=$((i+1)); done; '
              'sleep 3; printf "\\n"')
    engine.run(name, script, tty=True)
    ws = server.ws(f"/logs/{name}?tail=all")
    assert ws.status == 101

    def previews(msgs):
        return [json.loads(m) for m in msgs if isinstance(m, str) and '"partial":true' in m]

    msgs = collect(ws, until=lambda m: bool(previews(m)), timeout=8)
    got = previews(msgs)
    finals = [json.loads(m) for m in msgs if isinstance(m, str) and m.startswith('{"ts"') and '"partial"' not in m]
    ws.close()
    engine.docker("rm", "-f", name, check=False)
    assert got, f"no preview of the running progress line: {msgs[-3:]!r}"
    assert not finals, "the preview must come before the line is finished"
    # A preview shows what a terminal shows: the latest state, after the last carriage return.
    text = got[-1]["line"]
    assert "\r" not in text and text.endswith("#") and text[:2].isdigit(), text[:40]


# --- bytes that are not text -------------------------------------------------------------------

@TTY
def test_nul_and_invalid_utf8(server, engine, tty):
    script = "; ".join([
        "printf 'a\\000b\\377c\\n'",
        "printf '\\300\\200 overlong\\n'",
        "printf '\\355\\240\\200 surrogate\\n'",
        "printf 'cut \\342\\202\\n'",
        "printf '\\364\\220\\200\\200 above U+10FFFF\\n'",
        "printf '\\377\\376\\375\\n'",
        "printf 'fine \\303\\251 \\342\\234\\223 \\360\\237\\230\\200\\n'",
        "printf '\\000\\000\\000\\n'",
        "printf 'ends in a bad byte \\200'",
    ])
    name = f"hostile-bytes-{'tty' if tty else 'pipe'}"
    run_to_exit(engine, name, script, tty=tty)
    want = compare(server, engine, name, tty)
    assert want["stdout"][0] == "a\x00b\ufffdc" and len(want["stdout"]) == 9


def test_twenty_thousand_short_lines(server, engine):
    # Short, empty and whitespace-only lines on both streams.
    script = ('i=0; while [ $i -lt 20000 ]; do '
              'case $((i % 7)) in 0) echo;; 1) echo " ";; 2) echo "e$i" >&2;; *) echo "$i";; esac; '
              'i=$((i+1)); done')
    name = "hostile-20k"
    run_to_exit(engine, name, script)
    want = compare(server, engine, name, False)
    assert len(want["stdout"]) + len(want["stderr"]) == 20000
