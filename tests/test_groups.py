"""Group views end to end (issue 11): `/groups/{project,stack,label,host,service}/{name}` merged
WebSocket streams, membership that follows the engine, `/api/groups`, shared upstreams. Real
engines (scripts/engine), real sockets, loopback only; every wait is bounded.

The Swarm tests use a second private engine in Swarm mode (`swarm_engine`, started once per
session in DOCKTAIL_SWARM_ENGINE_DIR and removed at the end; scripts/test's EXIT trap stops it
too if a run is cut short)."""
import calendar
import json
import os
import socket
import subprocess
import time

import pytest

from helpers import ROOT, Engine

SWARM_ENGINE_DIR = os.environ.get("DOCKTAIL_SWARM_ENGINE_DIR", "/tmp/docktail-swarm-test-engine")
WINDOW_NS = 200_000_000  # the merge's reordering window
KNOWN_EVENTS = {"subscribed", "joined", "left", "end", "restart", "error", "dropped"}
SERVICE_SCRIPT = 'i=0; while true; do i=$((i+1)); echo "line $i"; sleep 0.2; done'


# ---------------------------------------------------------------------------------------------
# helpers

def read(ws, until=lambda out: False, timeout=5.0):
    """Messages of `ws` (JSON objects decoded, a close as ('close', code, reason)) until
    `until(out)` holds, the server closes, or `timeout` seconds pass (then what came so far)."""
    out = []
    deadline = time.time() + timeout
    while True:
        left = deadline - time.time()
        if left <= 0:
            return out
        ws.sock.settimeout(left)
        try:
            m = ws.recv()
        except (socket.timeout, TimeoutError):
            return out
        if isinstance(m, str) and m.startswith("{"):
            m = json.loads(m)
        out.append(m)
        if isinstance(m, tuple) or until(out):
            return out


def lines(msgs, member=None):
    return [m for m in msgs if isinstance(m, dict) and "ts" in m and (member is None or m["id"] == member)]


def evs(msgs, name=None, member=None):
    # `end` and `restart` carry their `time`: compared apart (tests compare the rest exactly).
    return [{k: v for k, v in m.items() if not (k == "time" and m["event"] in ("end", "restart"))}
            for m in msgs if isinstance(m, dict) and "event" in m and (name is None or m["event"] == name)
            and (member is None or m.get("id") == member)]


def index_of(msgs, pred):
    return next((i for i, m in enumerate(msgs) if isinstance(m, dict) and pred(m)), None)


def ns(ts):
    """RFC 3339 with nanoseconds → integer nanoseconds since the epoch."""
    base, _, frac = ts.rstrip("Z").partition(".")
    return calendar.timegm(time.strptime(base, "%Y-%m-%dT%H:%M:%S")) * 10**9 + int((frac or "0").ljust(9, "0")[:9])


def max_inversion(msgs):
    """The largest amount by which a line's stamp is older than a line sent before it (ns)."""
    worst, high = 0, None
    for l in lines(msgs):
        t = ns(l["ts"])
        if high is not None:
            worst = max(worst, high - t)
        high = t if high is None else max(high, t)
    return worst


def numbers(msgs, member, prefix):
    """The numbers of `member`'s lines `PREFIX N`, checking every line has that prefix."""
    out = []
    for l in lines(msgs, member):
        p, _, n = l["line"].partition(" ")
        assert p == prefix, l
        out.append(int(n))
    return out


def assert_member_in_order(msgs, member, prefix):
    """Within one member: stamps strictly increasing, numbering without a gap or a repeat."""
    ls = lines(msgs, member)
    stamps = [ns(l["ts"]) for l in ls]
    assert all(a < b for a, b in zip(stamps, stamps[1:])), f"{prefix}: stamps out of order"
    nums = numbers(msgs, member, prefix)
    assert not nums or nums == list(range(nums[0], nums[0] + len(nums))), f"{prefix}: gap or repeat in {nums}"
    return nums


def counter(prefix, period, exit_code=None):
    """`PREFIX 1`, `PREFIX 2`, … every `period` seconds; SIGTERM exits with `exit_code`."""
    trap = f"trap 'exit {exit_code}' TERM; " if exit_code is not None else ""
    return trap + f'i=1; while true; do echo "{prefix} $i"; i=$((i+1)); sleep {period}; done'


def ready(d, engines=1, timeout=10):
    """Waits until docktail follows every engine's events (members join through them)."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        if d.logs().count("engine events connected") >= engines:
            return d
        time.sleep(0.05)
    raise AssertionError("engine events not connected:\n" + d.logs())


def subscribe(d, path, timeout=10):
    ws = d.ws(path)
    assert ws.status == 101, (path, ws.status, ws.body)
    first = read(ws, lambda o: True, timeout)
    assert first and isinstance(first[0], dict) and first[0].get("event") == "subscribed", first
    return ws, first[0]


@pytest.fixture
def containers(engine):
    """Runs (or only creates) containers, removed again after the test; returns the full id."""
    names = []

    def run(name, script, labels=(), extra=(), create=False):
        args = [a for l in labels for a in ("--label", l)]
        names.append(name)
        if create:
            engine.docker("rm", "-f", name, check=False)
            return engine.docker("create", "--network", "none", "--name", name, *args, *extra, "local/busybox:latest", "sh", "-c", script)
        engine.run(name, script, extra=(*args, *extra))
        return engine.docker("inspect", "-f", "{{.Id}}", name)

    yield run
    if names:
        engine.docker("rm", "-f", *names, check=False)


def inspect_name(engine, ref):
    return engine.docker("inspect", "-f", "{{.Name}}", ref).lstrip("/")


# ---------------------------------------------------------------------------------------------
# 1. a Compose project: members, history then live, merge order, joined / left / end

def test_project_group_members_merge_and_membership(docktail, engine, containers):
    d = ready(docktail())
    ids = {}
    for prefix, period in (("a", 0.1), ("b", 0.17), ("c", 0.25)):
        ids[prefix] = containers(f"grp-shop-{prefix}", counter(prefix, period, exit_code=7),
                                 labels=["com.docker.compose.project=shop"])
    outsiders = {containers("grp-shop-nolabel", counter("x", 0.1)),
                 containers("grp-shop-otherproject", counter("y", 0.1), labels=["com.docker.compose.project=shopx"])}
    time.sleep(1.6)  # more than 5 lines each

    names = {k: inspect_name(engine, v) for k, v in ids.items()}
    ws, sub = subscribe(d, "/groups/project/shop?tail=5")
    assert sub["group"] == {"kind": "project", "name": "shop"}
    assert sorted(m["id"] for m in sub["members"]) == sorted(ids.values()), sub
    for m in sub["members"]:
        assert m["name"] == inspect_name(engine, m["id"]) and m["host"] == "local" and m["state"] == "running", m

    # History, then live lines of all three.
    first = read(ws, timeout=3.0)
    # A fourth member starts: `joined`, then its lines.
    ids["d"] = containers("grp-shop-d", counter("d", 0.1, exit_code=7), labels=["com.docker.compose.project=shop"])
    names["d"] = inspect_name(engine, ids["d"])
    joined = read(ws, lambda o: lines(o, ids["d"]), timeout=15)
    joined += read(ws, timeout=1.0)
    # One is removed: `left`.
    engine.docker("rm", "-f", "grp-shop-b")
    removed = read(ws, lambda o: evs(o, "left", ids["b"]), timeout=15)
    removed += read(ws, timeout=1.0)
    # One is stopped (its TERM trap exits 7): its `end`.
    engine.docker("stop", "-t", "10", "grp-shop-c")
    stopped = read(ws, lambda o: evs(o, "end", ids["c"]), timeout=20)
    stopped += read(ws, timeout=1.0)
    ws.close()
    everything = first + joined + removed + stopped

    assert not [m for m in everything if isinstance(m, tuple)], "the stream closed"
    for l in lines(everything):
        assert l["id"] in ids.values() and l["id"] not in outsiders, l
        assert set(l) == {"ts", "stream", "line", "id", "name"}, l
        k = next(k for k, v in ids.items() if v == l["id"])
        assert l["name"] == names[k] and l["line"].startswith(k + " "), l
    # tail=5 per member, then live without a gap.
    for k in "abc":
        nums = assert_member_in_order(first, ids[k], k)
        assert len(nums) >= 7, (k, nums)  # 5 of history and some live lines
    assert numbers(first, ids["a"], "a")[0] > 5, "tail=5 gave more history than 5 lines"
    assert max_inversion(everything) <= WINDOW_NS, f"merged stamps went back {max_inversion(everything) / 1e6:.0f} ms"

    j = evs(joined, "joined")
    assert j == [{"event": "joined", "id": ids["d"], "name": "grp-shop-d", "host": "local"}], j
    assert index_of(joined, lambda m: m.get("event") == "joined") < index_of(joined, lambda m: m.get("id") == ids["d"] and "ts" in m)
    assert_member_in_order(everything, ids["d"], "d")
    assert_member_in_order(everything, ids["a"], "a")

    left = evs(everything, "left")
    assert left == [{"event": "left", "id": ids["b"], "name": "grp-shop-b", "host": "local", "reason": "removed"}], left
    after_left = everything[index_of(everything, lambda m: m.get("event") == "left") + 1:]
    assert not lines(after_left, ids["b"]), "lines of a member after it left"

    ends = evs(stopped, "end", ids["c"])
    assert ends == [{"event": "end", "exitCode": 7, "id": ids["c"], "name": "grp-shop-c", "host": "local"}], ends
    after_end = stopped[index_of(stopped, lambda m: m.get("event") == "end" and m.get("id") == ids["c"]) + 1:]
    assert not lines(after_end, ids["c"]) and lines(after_end, ids["a"]), "after c ended, a goes on"
    for e in evs(everything):
        if e["event"] != "subscribed":
            assert {"id", "name", "host"} <= set(e), e
    # (What else is said about a removed member: test_removed_members_are_told_once.)
    assert not [e for e in evs(everything, "error") if e["id"] != ids["b"]], evs(everything, "error")


def test_removed_members_are_told_once(docktail, engine, containers):
    """`docker rm -f` of a running member: `left` (after its `end`, if the engine told it), nothing
    else: not the member's own `removed` (the group says `left`), and no `error` (the engine did
    nothing wrong: the container was removed). Three removals, as the outcome depends on timing."""
    d = ready(docktail())
    ids = [containers(f"grp-gone-{i}", counter(f"g{i}", 0.1), labels=["com.docker.compose.project=grp-gone"]) for i in range(3)]
    ws, sub = subscribe(d, "/groups/project/grp-gone?tail=1")
    assert sorted(m["id"] for m in sub["members"]) == sorted(ids)
    msgs = read(ws, lambda o: all(lines(o, c) for c in ids), timeout=10)
    for i, cid in enumerate(ids):
        engine.docker("rm", "-f", f"grp-gone-{i}")
        msgs += read(ws, lambda o: evs(o, "left", cid), timeout=15)
    msgs += read(ws, timeout=1.0)
    ws.close()
    told = {i: [e["event"] for e in evs(msgs, member=cid)] for i, cid in enumerate(ids)}
    assert all(t in (["left"], ["end", "left"]) for t in told.values()), \
        f"events about removed members: {told}; " + str([e for e in evs(msgs) if e["event"] in ("error", "removed")])
    assert {e["event"] for e in evs(msgs)} <= KNOWN_EVENTS, evs(msgs)


# ---------------------------------------------------------------------------------------------
# 2. label and host groups

def test_label_group(docktail, engine, containers):
    d = ready(docktail())
    blue = {"p": containers("grp-blue-1", counter("p", 0.1), labels=["team=blue"]),
            "q": containers("grp-blue-2", counter("q", 0.15), labels=["team=blue", "tier=web"])}
    containers("grp-red", counter("r", 0.1), labels=["team=red"])
    containers("grp-blueish", counter("s", 0.1), labels=["team=blue2"])
    containers("grp-nolabel-2", counter("t", 0.1))
    eq = containers("grp-eq", counter("e", 0.1), labels=["cfg=a=b"])
    time.sleep(0.5)

    ws, sub = subscribe(d, "/groups/label/team=blue?tail=2")
    assert sub["group"] == {"kind": "label", "name": "team=blue"}
    assert sorted(m["id"] for m in sub["members"]) == sorted(blue.values()), sub
    msgs = read(ws, timeout=2.5)
    ws.close()
    assert {l["id"] for l in lines(msgs)} == set(blue.values())
    for k, cid in blue.items():
        nums = assert_member_in_order(msgs, cid, k)
        assert len(nums) >= 5, (k, nums)
    assert max_inversion(msgs) <= WINDOW_NS

    # The value is everything after the first `=`.
    ws, sub = subscribe(d, "/groups/label/cfg=a=b?tail=1")
    assert [m["id"] for m in sub["members"]] == [eq]
    ws.close()

    # format=text: `[name] line`.
    ws = d.ws("/groups/label/team=blue?tail=1&follow=0&format=text")
    text = read(ws, timeout=10)
    assert text[-1][:2] == ("close", 1000) and len(text) == 3, text
    assert sorted(t.split(" ", 2)[:2] for t in text[:-1]) == [["[grp-blue-1]", "p"], ["[grp-blue-2]", "q"]], text


def test_host_group(docktail, engine, containers):
    # The same engine under two names: a host group is one engine name's containers.
    d = ready(docktail(engine_url=None, config={"engines": [{"name": "local", "url": engine.url},
                                                           {"name": "mirror", "url": engine.url}]}), engines=2)
    mine = {"h": containers("grp-host-1", counter("h", 0.1)), "k": containers("grp-host-2", counter("k", 0.13))}
    before = set(engine.docker("ps", "-aq", "--no-trunc").split())
    ws, sub = subscribe(d, "/groups/host/local?tail=1")
    after = set(engine.docker("ps", "-aq", "--no-trunc").split())
    assert sub["group"] == {"kind": "host", "name": "local"}
    members = {m["id"] for m in sub["members"]}
    assert before & after <= members <= before | after, sub
    assert {m["host"] for m in sub["members"]} == {"local"}
    msgs = read(ws, lambda o: all(len(lines(o, c)) >= 5 for c in mine.values()), timeout=10)
    for k, cid in mine.items():
        assert_member_in_order(msgs, cid, k)
    assert max_inversion(msgs) <= WINDOW_NS
    # A container started now joins once (not once per engine name), as a member of `local`.
    late = containers("grp-host-late", counter("z", 0.1))
    msgs += read(ws, lambda o: lines(o, late), timeout=15)
    msgs += read(ws, timeout=1.0)
    ws.close()
    assert evs(msgs, "joined", late) == [{"event": "joined", "id": late, "name": "grp-host-late", "host": "local"}], evs(msgs, "joined")
    assert_member_in_order(msgs, late, "z")
    assert numbers(msgs, late, "z")[0] == 1


def test_label_value_with_a_slash(docktail, engine, containers):
    """Label values often hold paths and URLs (`com.docker.compose.project.working_dir=/srv/app`):
    such a label group must be reachable. A path segment cannot hold a `/` (the router refuses a
    decoded slash, by design), so the value goes in the query: `/groups/label/KEY?value=VALUE`."""
    d = ready(docktail())
    cid = containers("grp-slash", "echo slashed; sleep 600", labels=["workdir=/srv/app"])
    answers = {}
    for path in ("/groups/label/workdir=%2Fsrv%2Fapp?tail=1&follow=0", "/groups/label/workdir=/srv/app?tail=1&follow=0",
                 "/groups/label/workdir?value=%2Fsrv%2Fapp&tail=1&follow=0"):
        w = d.ws(path)
        answers[path] = (w.status, w.body)
        if w.status == 101:
            msgs = read(w, timeout=10)
            assert [m["id"] for m in evs(msgs, "subscribed")[0]["members"]] == [cid], msgs
            assert [l["line"] for l in lines(msgs)] == ["slashed"] and msgs[-1][:2] == ("close", 1000), msgs
    assert answers["/groups/label/workdir?value=%2Fsrv%2Fapp&tail=1&follow=0"][0] == 101, answers


def test_member_end_and_restart_events(docktail, engine, containers):
    d = ready(docktail())
    # Created only: a member that has not run yet.
    fresh = containers("grp-rs-2", 'echo "first run"; sleep 1; exit 4', labels=["com.docker.compose.project=grp-rs"], create=True)
    ws, sub = subscribe(d, "/groups/project/grp-rs?tail=all")
    assert [(m["id"], m["state"]) for m in sub["members"]] == [(fresh, "created")]
    # Joins, exits 3, is restarted by the engine, exits 3 again.
    flaky = containers("grp-rs-1", 'echo "run"; sleep 1; exit 3', labels=["com.docker.compose.project=grp-rs"],
                       extra=("--restart", "on-failure:1"))
    msgs = read(ws, lambda o: len(evs(o, "end", flaky)) >= 2, timeout=20)
    engine.docker("start", "grp-rs-2")
    msgs += read(ws, lambda o: evs(o, "end", fresh) and evs(o, "end", fresh)[-1]["exitCode"] == 4, timeout=15)
    msgs += read(ws, timeout=0.5)
    ws.close()
    member = {"id": flaky, "name": "grp-rs-1", "host": "local"}
    assert evs(msgs, member=flaky) == [{"event": "joined", **member}, {"event": "end", "exitCode": 3, **member},
                                       {"event": "restart", **member}, {"event": "end", "exitCode": 3, **member}], evs(msgs, member=flaky)
    assert [l["line"] for l in lines(msgs, flaky)] == ["run", "run"]
    # A created container that starts for the first time did not stop before: no `end` but its real one.
    assert [l["line"] for l in lines(msgs, fresh)] == ["first run"]
    assert [e["exitCode"] for e in evs(msgs, "end", fresh)] == [4], evs(msgs, member=fresh)


def test_groups_respect_visibility_and_tokens(docktail, engine, containers):
    token = "group-token-123"
    d = ready(docktail(config={"visibility": {"labels": {"docktail.enable": "true"}}, "auth": {"tokens": [token]}}))
    shown = containers("grp-vis-shown", counter("v", 0.2), labels=["com.docker.compose.project=grp-vis", "docktail.enable=true"])
    containers("grp-vis-hidden", counter("h", 0.1), labels=["com.docker.compose.project=grp-vis"])
    assert d.ws("/groups/project/grp-vis").status == 401
    assert d.get("/api/groups")[0] == 401
    status, groups = d.json(f"/api/groups?token={token}")
    vis = [g for g in groups if g["name"] == "grp-vis"]
    assert len(vis) == 1 and vis[0]["count"] == 1 and [m["id"] for m in vis[0]["members"]] == [shown], groups
    for path in (f"/groups/project/grp-vis?tail=2&token={token}", f"/groups/host/local?tail=2&token={token}"):
        ws, sub = subscribe(d, path)
        assert shown in {m["id"] for m in sub["members"]} and "grp-vis-hidden" not in {m["name"] for m in sub["members"]}, sub
        if "project" in path:
            assert [m["id"] for m in sub["members"]] == [shown]
            late = containers("grp-vis-hidden-late", counter("l", 0.1), labels=["com.docker.compose.project=grp-vis"])
            msgs = read(ws, timeout=2.5)
            assert not evs(msgs, "joined") and {l["id"] for l in lines(msgs)} == {shown}, evs(msgs)
            assert late not in {l["id"] for l in lines(msgs)}
        ws.close()


# ---------------------------------------------------------------------------------------------
# 3. shared upstreams

def test_ten_viewers_share_five_upstreams(docktail, engine, containers):
    d = ready(docktail())
    ids = {f"m{i}": containers(f"grp-fan-{i}", counter(f"m{i}", 0.2, exit_code=7), labels=["com.docker.compose.project=grp-fan"])
           for i in range(5)}
    time.sleep(0.5)
    viewers = [subscribe(d, "/groups/project/grp-fan?tail=all")[0] for _ in range(10)]
    got = [read(v, timeout=0.3) for v in viewers]
    samples = []
    for _ in range(6):
        samples.append(d.metric("upstream_streams"))
        time.sleep(0.25)
    assert samples[-1] == 5 and max(samples) == 5, f"upstream_streams over time: {samples} (10 viewers of 5 containers)"
    engine.docker("stop", "-t", "10", *[f"grp-fan-{i}" for i in range(5)])
    for i, v in enumerate(viewers):
        got[i] += read(v, lambda o: len(evs(o, "end")) >= 5, timeout=20)
        v.close()
    assert d.metric("upstream_streams_opened_total") == 5
    reference = None
    for i, msgs in enumerate(got):
        assert sorted(e["id"] for e in evs(msgs, "end")) == sorted(ids.values()), (i, evs(msgs))
        per_member = {k: assert_member_in_order(msgs, cid, k) for k, cid in ids.items()}
        for k, nums in per_member.items():
            assert nums and nums[0] == 1, (i, k, nums[:3])
        assert max_inversion(msgs) <= WINDOW_NS
        if reference is None:
            reference = per_member
        assert per_member == reference, f"viewer {i} got other lines than viewer 0"


# ---------------------------------------------------------------------------------------------
# 4. the whole history of finished members, merged, then close

def batch_script(prefix):
    # 2000 numbered lines with short pauses, so the three members' stamps interleave.
    return (f'i=1; while [ $i -le 2000 ]; do echo "{prefix} $i"; '
            f'if [ $((i % 40)) -eq 0 ]; then usleep 10000; fi; i=$((i+1)); done')


def test_follow0_tail_all_of_finished_members(docktail, engine, containers):
    d = ready(docktail())
    ids = {}
    for p in ("u", "v", "w"):
        ids[p] = containers(f"grp-batch-{p}", "sleep 1; " + batch_script(p), labels=["com.docker.compose.project=grp-batch"])
    for p in ids:
        engine.wait_exit(f"grp-batch-{p}")
    ws, sub = subscribe(d, "/groups/project/grp-batch?tail=all&follow=0")
    assert sorted(m["id"] for m in sub["members"]) == sorted(ids.values())
    assert {m["state"] for m in sub["members"]} == {"exited"}
    msgs = read(ws, timeout=60)
    assert msgs and msgs[-1][:2] == ("close", 1000), msgs[-3:]
    for p, cid in ids.items():
        assert numbers(msgs, cid, p) == list(range(1, 2001)), p
    stamps = [ns(l["ts"]) for l in lines(msgs)]
    assert stamps == sorted(stamps), "history of finished members is not merged in stamp order"
    # The three really interleave (else the merge proves nothing).
    owners = [l["id"] for l in lines(msgs)]
    assert sum(1 for a, b in zip(owners, owners[1:]) if a != b) > 10
    assert not evs(msgs, "error")

    # tail=N is per member; text format is `[name] line`, in the same order.
    ws = d.ws("/groups/project/grp-batch?tail=3&follow=0")
    few = read(ws, timeout=10)
    assert sorted(l["line"] for l in lines(few)) == sorted(f"{p} {n}" for p in ids for n in (1998, 1999, 2000))
    ws = d.ws("/groups/project/grp-batch?tail=all&follow=0&format=text")
    text = read(ws, timeout=60)
    assert text[-1][:2] == ("close", 1000)
    assert text[:-1] == [f"[{l['name']}] {l['line']}" for l in lines(msgs)]


def test_group_history_pages_every_line_once(docktail, engine, containers):
    """`/api/groups/{kind}/{name}/logs`: pages from the newest line to the first of every member,
    merged by stamp, with one member still writing meanwhile: every line of each member exactly
    once, in its own order, pages going back in time, the last cursor null."""
    d = ready(docktail())
    ids = {}
    for p in ("u", "v"):
        ids[p] = containers(f"grp-page-{p}", batch_script(p), labels=["com.docker.compose.project=grp-page"])
    for p in ("u", "v"):
        engine.wait_exit(f"grp-page-{p}")
    ids["w"] = containers("grp-page-w", batch_script("w") + "; " + counter("w", 0.05).replace("i=1;", "i=2001;"),
                          labels=["com.docker.compose.project=grp-page"])
    deadline = time.time() + 30
    while time.time() < deadline and "w 2000" not in engine.docker("logs", "--tail", "50", "grp-page-w"):
        time.sleep(0.2)
    pages, cursor = [], None
    while True:
        path = "/api/groups/project/grp-page/logs?limit=700" + (f"&cursor={cursor}" if cursor else "")
        status, body = d.json(path)
        assert status == 200, (status, body)
        assert len(body["lines"]) <= 700
        pages.append(body["lines"])
        cursor = body["cursor"]
        if cursor is None:
            break
        assert len(pages) < 40, "paging does not end"
    # Pages go back in time; each page is merged by stamp.
    for page in pages:
        stamps = [ns(l["ts"]) for l in page]
        assert stamps == sorted(stamps)
    for newer, older in zip(pages, pages[1:]):
        if newer and older:
            assert ns(older[-1]["ts"]) <= ns(newer[0]["ts"])
    all_lines = [l for page in reversed(pages) for l in page]
    for p, cid in ids.items():
        mine = [int(l["line"].split()[1]) for l in all_lines if l["id"] == cid]
        top = max(mine)
        assert mine == list(range(1, top + 1)), (p, mine[:5], len(mine), top)
        assert top >= 2000
        assert all(l["name"] == f"grp-page-{p}" for l in all_lines if l["id"] == cid)
    # A forged cursor is refused, naming it.
    status, body = d.json("/api/groups/project/grp-page/logs?cursor=Zm9v")
    assert status == 400 and "cursor" in body["error"], body


# ---------------------------------------------------------------------------------------------
# 5. errors, and a group that gets its first member later

def test_bad_group_requests(docktail, engine):
    d = ready(docktail())
    for path, status, word in [("/groups/nope/x", 400, "kind"), ("/groups/label/noequals", 400, "name"),
                               ("/groups/label/=blue", 400, "name"), ("/groups/project/x?tail=x", 400, "tail"),
                               ("/groups/project/x?format=xml", 400, "format"), ("/groups/project/x?stdout=0&stderr=0", 400, "stdout")]:
        w = d.ws(path)
        assert w.status == status, (path, w.status, w.body)
        assert word in json.loads(w.body)["error"], (path, w.body)
    w = d.ws("/groups/host/nope")
    assert w.status in (400, 404) and "error" in json.loads(w.body), (w.status, w.body)
    # Without Upgrade: the viewer page.
    status, headers, body = d.get("/groups/project/anything")
    assert status == 200 and headers["Content-Type"].startswith("text/html"), (status, headers)


def test_empty_group_gets_a_member(docktail, engine, containers):
    d = ready(docktail())
    ws, sub = subscribe(d, "/groups/project/grp-later?tail=5")
    assert sub["members"] == []
    cid = containers("grp-later-1", counter("n", 0.1), labels=["com.docker.compose.project=grp-later"])
    msgs = read(ws, lambda o: len(lines(o, cid)) >= 3, timeout=15)
    ws.close()
    assert evs(msgs, "joined") == [{"event": "joined", "id": cid, "name": "grp-later-1", "host": "local"}], msgs[:3]
    assert index_of(msgs, lambda m: m.get("event") == "joined") < index_of(msgs, lambda m: "ts" in m)
    assert_member_in_order(msgs, cid, "n")
    # follow=0 of a group without members: the (empty) history, then close 1000.
    ws = d.ws("/groups/project/grp-nobody?follow=0")
    msgs = read(ws, timeout=10)
    assert evs(msgs, "subscribed")[0]["members"] == [] and msgs[-1][:2] == ("close", 1000), msgs


def test_member_that_joins_later_keeps_its_first_lines(docktail, engine, containers):
    """A container that starts after the viewer subscribed is new to this viewer: all its lines
    are live lines, whatever `tail` said about the history of the members present then."""
    d = ready(docktail())
    ws, sub = subscribe(d, "/groups/project/grp-chatty?tail=5")
    assert sub["members"] == []
    cid = containers("grp-chatty-1", 'i=1; while [ $i -le 20 ]; do echo "s $i"; i=$((i+1)); done; sleep 600',
                     labels=["com.docker.compose.project=grp-chatty"])
    msgs = read(ws, lambda o: any(l["line"] == "s 20" for l in lines(o)), timeout=15)
    ws.close()
    assert evs(msgs, "joined", cid), msgs[:2]
    assert numbers(msgs, cid, "s") == list(range(1, 21)), "a member that joined later lost the lines it wrote before docktail subscribed to it"


# ---------------------------------------------------------------------------------------------
# 6. /api/groups and /api/containers

def test_api_groups_and_container_labels(docktail, engine, containers):
    d = ready(docktail())
    run1 = containers("grp-inv-1", "sleep 600", labels=["com.docker.compose.project=inventory"])
    run2 = containers("grp-inv-2", "sleep 600", labels=["com.docker.compose.project=inventory", "team=green"])
    done = containers("grp-inv-3", "echo done", labels=["com.docker.compose.project=inventory"])
    stk = containers("grp-stack-1", "sleep 600", labels=["com.docker.stack.namespace=stk"])
    engine.wait_exit("grp-inv-3")
    status, groups = d.json("/api/groups")
    assert status == 200 and isinstance(groups, list)
    by = {(g["kind"], g["name"]): g for g in groups}
    inv = by[("project", "inventory")]
    assert inv["count"] == 3 and inv["running"] == 2, inv
    assert sorted(m["id"] for m in inv["members"]) == sorted([run1, run2, done])
    states = {m["id"]: m for m in inv["members"]}
    assert states[done]["state"] == "exited" and states[run1]["state"] == "running"
    assert states[run1] == {"id": run1, "name": "grp-inv-1", "host": "local", "state": "running"}
    assert by[("stack", "stk")]["count"] == 1 and by[("stack", "stk")]["members"][0]["id"] == stk
    ws, sub = subscribe(d, "/groups/stack/stk?tail=1")
    assert sub["group"] == {"kind": "stack", "name": "stk"} and [m["id"] for m in sub["members"]] == [stk]
    ws.close()
    host = by[("host", "local")]
    assert host["count"] == len(engine.docker("ps", "-aq").split()) and host["running"] == len(engine.docker("ps", "-q").split())
    rank = {"project": 0, "stack": 1, "service": 2, "host": 3}
    kinds = [rank[g["kind"]] for g in groups]
    assert kinds == sorted(kinds), [g["kind"] for g in groups]

    status, cs = d.json("/api/containers?all=1")
    c = {x["id"]: x for x in cs}
    assert c[run2]["labels"] == {"com.docker.compose.project": "inventory", "team": "green"}, c[run2]
    assert c[done]["labels"] == {"com.docker.compose.project": "inventory"}
    for x in c.values():
        assert isinstance(x["ports"], list), x  # --network none: nothing published
        for p in x["ports"]:
            assert {"private", "type"} <= set(p), p


# ---------------------------------------------------------------------------------------------
# 7. Swarm services

def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def free_udp_port():
    """A free UDP port in the range Swarm accepts for its data path (1024-49151)."""
    import random
    for _ in range(200):
        port = random.randint(20000, 49151)
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        try:
            s.bind(("0.0.0.0", port))
            return port
        except OSError:
            continue
        finally:
            s.close()
    raise RuntimeError("no free UDP port")


def wait_tasks(swarm, service, n, timeout=60):
    deadline = time.time() + timeout
    states = []
    while time.time() < deadline:
        states = swarm.docker("service", "ps", service, "--filter", "desired-state=running", "--format", "{{.CurrentState}}").splitlines()
        if len(states) == n and all(s.startswith("Running") for s in states):
            return
        time.sleep(0.2)
    raise TimeoutError(f"{service}: {states}")


@pytest.fixture(scope="session")
def swarm_engine():
    """A private engine in Swarm mode (a single manager on loopback) running the service `web`:
    two replicas writing `line N` every 0.2 s."""
    script = os.path.join(ROOT, "scripts/engine")
    # An engine left by an interrupted session may be in another mode: start clean.
    subprocess.run([script, "stop", SWARM_ENGINE_DIR], capture_output=True, timeout=120)
    url = subprocess.run([script, "start", SWARM_ENGINE_DIR], capture_output=True, text=True, check=True, timeout=120,
                         env={**os.environ, "DOCKTAIL_ENGINE_SWARM": "1"}).stdout.strip()
    e = Engine(url)
    try:
        e.docker("swarm", "leave", "--force", check=False)  # state kept in DIR from an earlier run
        # Own ports: the default 2377/4789 may be taken by another engine on this machine.
        port = free_port()
        e.docker("swarm", "init", "--advertise-addr", f"127.0.0.1:{port}", "--listen-addr", f"127.0.0.1:{port}",
                 "--data-path-port", str(free_udp_port()))
        e.docker("service", "create", "-d", "--no-resolve-image", "--name", "web", "--replicas", "2",
                 "local/busybox:latest", "sh", "-c", SERVICE_SCRIPT)
        wait_tasks(e, "web", 2)
        yield e
    finally:
        e.docker("swarm", "leave", "--force", check=False)
        subprocess.run([script, "stop", SWARM_ENGINE_DIR], capture_output=True, timeout=120)


@pytest.fixture
def swarm_docktail(docktail, engine, swarm_engine):
    return ready(docktail(engine_url=None, config={"engines": [{"name": "local", "url": engine.url},
                                                               {"name": "swarm", "url": swarm_engine.url}]}), engines=2)


def service_tasks(swarm):
    """{task id: slot} of the running tasks of `web`."""
    out = swarm.docker("service", "ps", "web", "--no-trunc", "--filter", "desired-state=running", "--format", "{{.ID}} {{.Name}}")
    return {i: int(n.rsplit(".", 1)[1]) for i, n in (l.split() for l in out.splitlines())}


def check_service_line(l, tasks):
    assert set(l) == {"ts", "stream", "line", "id", "name", "task"}, l
    assert l["id"] in tasks and l["task"]["id"] == l["id"], (l, tasks)
    assert l["task"]["slot"] == tasks[l["id"]] and l["name"] == f"web.{tasks[l['id']]}", l
    assert l["task"]["node"] and l["line"].startswith("line "), l


def test_service_group_streams_both_replicas(swarm_docktail, swarm_engine):
    tasks = service_tasks(swarm_engine)
    assert sorted(tasks.values()) == [1, 2]
    ws, sub = subscribe(swarm_docktail, "/groups/service/web?tail=3")
    assert sub["group"] == {"kind": "service", "name": "web"}
    assert sub["service"]["name"] == "web" and sub["service"]["replicas"] == 2 and sub["service"]["id"]
    assert sorted((m["name"], m["task"]["slot"]) for m in sub["members"]) == [("web.1", 1), ("web.2", 2)]
    assert {m["id"] for m in sub["members"]} == set(tasks)
    msgs = read(ws, lambda o: all(len(lines(o, t)) >= 8 for t in tasks), timeout=15)
    ws.close()
    for l in lines(msgs):
        check_service_line(l, tasks)
    for t in tasks:
        nums = [int(l["line"].split()[1]) for l in lines(msgs, t)]
        assert len(nums) >= 8 and nums == list(range(nums[0], nums[0] + len(nums))), nums
    # tail=N is per task.
    ws = swarm_docktail.ws("/groups/service/web?tail=3&follow=0")
    few = read(ws, timeout=15)
    assert few[-1][:2] == ("close", 1000)
    assert sorted(l["name"] for l in lines(few)) == ["web.1"] * 3 + ["web.2"] * 3, lines(few)

    # format=text: `[web.N] line`.
    ws = swarm_docktail.ws("/groups/service/web?tail=2&follow=0&format=text")
    text = read(ws, timeout=15)
    assert text[-1][:2] == ("close", 1000)
    assert sorted(t.split(" ", 1)[0] for t in text[:-1]) == ["[web.1]", "[web.1]", "[web.2]", "[web.2]"], text


def test_service_history_is_merged_in_stamp_order(swarm_docktail, swarm_engine):
    """The manager sends a service's history task by task; the view promises lines in stamp order."""
    tasks = service_tasks(swarm_engine)
    ws, _ = subscribe(swarm_docktail, "/groups/service/web?tail=10&follow=0")
    msgs = read(ws, timeout=15)
    assert msgs[-1][:2] == ("close", 1000)
    assert {l["id"] for l in lines(msgs)} == set(tasks)
    for t in tasks:
        nums = [int(l["line"].split()[1]) for l in lines(msgs, t)]
        assert 3 <= len(nums) <= 10 and nums == list(range(nums[0], nums[0] + len(nums))), nums
    worst = max_inversion(msgs)
    assert worst <= WINDOW_NS, f"service history out of stamp order by {worst / 1e6:.0f} ms"


def test_api_groups_lists_the_service(swarm_docktail, swarm_engine):
    tasks = service_tasks(swarm_engine)
    status, groups = swarm_docktail.json("/api/groups")
    assert status == 200
    svc = [g for g in groups if g["kind"] == "service"]
    assert [g["name"] for g in svc] == ["web"], groups
    web = svc[0]
    assert web["replicas"] == 2 and web["count"] == 2 and web["running"] == 2, web
    assert sorted((m["id"], m["name"], m["host"]) for m in web["members"]) == \
        sorted((t, f"web.{s}", "swarm") for t, s in tasks.items())


def test_unknown_service_is_404(swarm_docktail):
    w = swarm_docktail.ws("/groups/service/nope")
    assert w.status == 404 and "error" in json.loads(w.body), (w.status, w.body)


def test_service_scaled_up_joins_then_leaves(swarm_docktail, swarm_engine):
    ws, sub = subscribe(swarm_docktail, "/groups/service/web?tail=0")
    assert len(sub["members"]) == 2
    msgs = read(ws, timeout=0.5)
    swarm_engine.docker("service", "scale", "-d", "web=3")
    try:
        # The manager picks new tasks up with some delay.
        msgs += read(ws, lambda o: any(l.get("task", {}).get("slot") == 3 for l in lines(o)), timeout=30)
        msgs += read(ws, timeout=1.0)
        tasks = service_tasks(swarm_engine)
        new = next(t for t, s in tasks.items() if s == 3)
        # Scaled down again: the task list poll announces it `left`.
        swarm_engine.docker("service", "scale", "-d", "web=2")
        msgs += read(ws, lambda o: evs(o, "left", new), timeout=20)
    finally:
        ws.close()
        swarm_engine.docker("service", "scale", "-d", "web=2", check=False)
        wait_tasks(swarm_engine, "web", 2)
    joined = evs(msgs, "joined")
    assert [j["id"] for j in joined] == [new], f"joined events: {joined}"
    assert joined[0]["name"] == "web.3" and joined[0]["task"]["slot"] == 3 and joined[0]["task"]["node"], joined
    assert lines(msgs, new), "no line of the new task"
    left = evs(msgs, "left", new)
    assert left and left[0]["name"] == "web.3" and left[0]["task"]["slot"] == 3, evs(msgs)
    # The member is announced before its first line, and every line names its task's slot.
    first_line = index_of(msgs, lambda m: "ts" in m and m["id"] == new)
    assert index_of(msgs, lambda m: m.get("event") == "joined") < first_line, \
        f"a line of the new task came before its joined: {msgs[first_line]}"
    for l in lines(msgs):
        check_service_line(l, tasks)
