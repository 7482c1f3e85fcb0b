// The WebSocket side of a log pane: connects to /logs/{ref} (or /groups/{kind}/{name}),
// reconnects with backoff after a drop, and resumes from the last timestamp it received with
// no duplicate and no gap (the engine's `since` is inclusive, so lines at that stamp are
// counted and skipped).

/** A sortable form of an RFC 3339 stamp: the engine trims trailing zeros of the fraction. */
export function tsKey(ts) {
  const m = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d+))?Z$/.exec(ts);
  if (!m) return ts;
  return `${m[1]}.${((m[2] || '') + '000000000').slice(0, 9)}`;
}

/** `kind/name` of a group attribute (the name may hold slashes, e.g. a label's value). */
export function splitGroup(group) {
  const i = group.indexOf('/');
  return i < 0 ? null : { kind: group.slice(0, i), name: group.slice(i + 1) };
}

export class LogStream {
  /**
   * @param {object} o  {base, container | group ('kind/name'), host, tail, since, until, stdout,
   *                     stderr, grep, icase, token, onLine, onPartial, onEvent, onStatus}
   */
  constructor(o) {
    this.o = o;
    this.ws = null;
    this.delay = 500;
    // Per stream (stamps only grow within one stream; in a group, per member and stream): the
    // last stamp received, its sortable key, and how many lines carried it. On resume, lines at
    // or before these marks are skipped.
    this.last = new Map();
    this.skip = new Map();
    this.closed = false;
    this.ended = false;
    this.timer = null;
    // Refusals in a row that retrying will not fix by itself (an unknown container, a missing
    // token): after `maxRefusals` of them the stream stops and says so for good.
    this.refusals = 0;
    this.maxRefusals = o.maxRefusals ?? 3;
  }

  /** A range with an end (`until`) closes with 1000 once sent: that is not a drop. */
  get finite() { return Boolean(this.o.until); }

  path() {
    if (this.o.group) {
      const g = splitGroup(this.o.group);
      return `/groups/${encodeURIComponent(g.kind)}/${encodeURIComponent(g.name)}`;
    }
    return `/logs/${encodeURIComponent(this.o.container)}`;
  }

  url() {
    const o = this.o;
    const base = new URL(o.base || location.href);
    const u = new URL(this.path(), base);
    u.protocol = base.protocol === 'https:' ? 'wss:' : 'ws:';
    if (o.host) u.searchParams.set('host', o.host);
    const resume = this.resumeSince();
    if (resume) {
      u.searchParams.set('since', resume);
      u.searchParams.set('tail', 'all');
    } else {
      if (o.tail != null) u.searchParams.set('tail', String(o.tail));
      if (o.since) u.searchParams.set('since', o.since);
    }
    if (o.until) {
      u.searchParams.set('until', o.until);
      // A range already over is history only: without follow the server closes once it is sent
      // (with follow, an engine waits for a line after `until` that may never come).
      if (Date.parse(o.until) <= Date.now()) u.searchParams.set('follow', '0');
    }
    if (o.stdout === false) u.searchParams.set('stdout', '0');
    if (o.stderr === false) u.searchParams.set('stderr', '0');
    if (o.grep) {
      u.searchParams.set('grep', o.grep);
      if (o.icase) u.searchParams.set('icase', '1');
    }
    if (o.token) u.searchParams.set('token', o.token);
    return u.toString();
  }

  /** The oldest of the last stamps: `since` is inclusive, the rest is skipped. */
  resumeSince() {
    let oldest = null;
    for (const mark of this.last.values()) if (!oldest || mark.key < oldest.key) oldest = mark;
    return oldest ? oldest.ts : null;
  }

  start() {
    this.closed = false;
    this.connect();
  }

  connect() {
    if (this.closed) return;
    this.skip = new Map();
    for (const [k, v] of this.last) this.skip.set(k, { ...v });
    this.o.onStatus?.(this.resumeSince() ? 'reconnecting' : 'connecting');
    let ws;
    try {
      ws = new WebSocket(this.url());
    } catch (e) {
      this.o.onStatus?.('error', String(e));
      return;
    }
    this.ws = ws;
    let opened = false;
    ws.onopen = () => { opened = true; this.delay = 500; this.refusals = 0; };
    ws.onmessage = (ev) => this.message(ev.data);
    ws.onclose = (ev) => {
      this.ws = null;
      if (this.closed) return;
      if (ev.code === 1000 && this.ended) return; // removed
      if (ev.code === 1000 && opened && this.finite) { this.ended = true; this.o.onStatus?.('ended'); return; }
      if (!opened) { this.explainRefusal(); return; }
      this.o.onStatus?.('reconnecting');
      // Backoff: 0.5 s doubling to 10 s, with jitter so many panes do not reconnect in step.
      this.timer = setTimeout(() => this.connect(), this.delay * (0.8 + Math.random() * 0.4));
      this.delay = Math.min(this.delay * 2, 10000);
    };
  }

  /**
   * The handshake failed; browsers hide the status, so ask the API why (404, 401, 502…). An
   * unknown container or a refused token is retried a few times (a container may be starting),
   * then given up with `final` set; a server that cannot be reached is retried for ever, slowly.
   */
  async explainRefusal() {
    let state = 'reconnecting';
    let detail;
    try {
      const base = new URL(this.o.base || location.href);
      const u = this.o.group ? new URL('/api/groups', base) : new URL(`/api/containers/${encodeURIComponent(this.o.container)}`, base);
      if (this.o.host) u.searchParams.set('host', this.o.host);
      if (this.o.token) u.searchParams.set('token', this.o.token);
      const r = await fetch(u, { cache: 'no-store' });
      if (r.status === 404) { state = 'not found'; detail = (await r.json().catch(() => ({}))).error; }
      else if (r.status === 401) { state = 'unauthorized'; }
      else if (!r.ok) { state = 'error'; detail = (await r.json().catch(() => ({}))).error; }
      else if (this.o.group) { state = 'error'; detail = 'the server refused this group'; }
    } catch {
      state = 'unreachable';
    }
    if (this.closed) return;
    const hopeless = state === 'not found' || state === 'unauthorized';
    this.refusals = hopeless ? this.refusals + 1 : 0;
    const final = hopeless && this.refusals >= this.maxRefusals;
    this.o.onStatus?.(state, detail, { final, attempts: this.refusals });
    if (final) { this.closed = true; return; }
    // A container may appear later and a server may come back: try again, slowly.
    this.timer = setTimeout(() => this.connect(), this.delay);
    this.delay = Math.min(this.delay * 2, 10000);
  }

  message(data) {
    let m;
    try { m = JSON.parse(data); } catch { return; }
    if (m.event) {
      if (m.event === 'removed') this.ended = true;
      this.o.onEvent?.(m);
      return;
    }
    const stream = m.stream === 'stderr' ? 'stderr' : 'stdout';
    // A preview of an unfinished line: shown in place, never counted for resuming.
    if (m.partial) { this.o.onPartial?.(m); return; }
    const mark = m.id ? `${m.id}/${stream}` : stream;
    const key = tsKey(m.ts);
    const skip = this.skip.get(mark);
    if (skip) {
      if (key < skip.key) return;
      if (key === skip.key && skip.n > 0) { skip.n--; return; }
      this.skip.delete(mark);
    }
    const last = this.last.get(mark);
    if (last && last.key === key) last.n++; else this.last.set(mark, { ts: m.ts, key, n: 1 });
    this.o.onLine?.(m);
  }

  stop() {
    this.closed = true;
    clearTimeout(this.timer);
    if (this.ws) this.ws.close(1000);
    this.ws = null;
  }
}
