// The WebSocket side of a log pane: connects to /logs/{ref}, reconnects with backoff after a
// drop, and resumes from the last timestamp it received with no duplicate and no gap (the
// engine's `since` is inclusive, so lines at that stamp are counted and skipped).

/** A sortable form of an RFC 3339 stamp: the engine trims trailing zeros of the fraction. */
export function tsKey(ts) {
  const m = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d+))?Z$/.exec(ts);
  if (!m) return ts;
  return `${m[1]}.${((m[2] || '') + '000000000').slice(0, 9)}`;
}

export class LogStream {
  /**
   * @param {object} o  {base, container, host, tail, since, stdout, stderr, token, onLine, onEvent, onStatus}
   */
  constructor(o) {
    this.o = o;
    this.ws = null;
    this.delay = 500;
    // Per stream (stamps only grow within one stream): the last stamp received, its sortable
    // key, and how many lines carried it. On resume, lines at or before these marks are skipped.
    this.last = { stdout: null, stderr: null };
    this.skip = { stdout: null, stderr: null };
    this.closed = false;
    this.ended = false;
    this.timer = null;
  }

  url() {
    const o = this.o;
    const base = new URL(o.base || location.href);
    const u = new URL(`/logs/${encodeURIComponent(o.container)}`, base);
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
    if (o.stdout === false) u.searchParams.set('stdout', '0');
    if (o.stderr === false) u.searchParams.set('stderr', '0');
    if (o.token) u.searchParams.set('token', o.token);
    return u.toString();
  }

  /** The older of the two streams' last stamps: `since` is inclusive, the rest is skipped. */
  resumeSince() {
    const marks = [this.last.stdout, this.last.stderr].filter(Boolean);
    if (!marks.length) return null;
    return marks.reduce((a, b) => (a.key <= b.key ? a : b)).ts;
  }

  start() {
    this.closed = false;
    this.connect();
  }

  connect() {
    if (this.closed) return;
    this.skip = { stdout: this.last.stdout && { ...this.last.stdout }, stderr: this.last.stderr && { ...this.last.stderr } };
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
    ws.onopen = () => { opened = true; this.delay = 500; };
    ws.onmessage = (ev) => this.message(ev.data);
    ws.onclose = (ev) => {
      this.ws = null;
      if (this.closed) return;
      if (ev.code === 1000 && this.ended) return; // removed, or end of a follow=0 history
      if (!opened) { this.explainRefusal(); return; }
      this.o.onStatus?.('reconnecting');
      // Backoff: 0.5 s doubling to 10 s, with jitter so many panes do not reconnect in step.
      this.timer = setTimeout(() => this.connect(), this.delay * (0.8 + Math.random() * 0.4));
      this.delay = Math.min(this.delay * 2, 10000);
    };
  }

  /** The handshake failed; browsers hide the status, so ask the API why (404, 401, 502…). */
  async explainRefusal() {
    let state = 'reconnecting';
    let detail;
    try {
      const base = new URL(this.o.base || location.href);
      const u = new URL(`/api/containers/${encodeURIComponent(this.o.container)}`, base);
      if (this.o.host) u.searchParams.set('host', this.o.host);
      if (this.o.token) u.searchParams.set('token', this.o.token);
      const r = await fetch(u, { cache: 'no-store' });
      if (r.status === 404) { state = 'not found'; }
      else if (r.status === 401) { state = 'unauthorized'; }
      else if (!r.ok) { state = 'error'; detail = (await r.json().catch(() => ({}))).error; }
    } catch {
      state = 'unreachable';
    }
    if (this.closed) return;
    this.o.onStatus?.(state, detail);
    // A container may appear later and a server may come back: keep trying, slowly.
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
    const key = tsKey(m.ts);
    const skip = this.skip[stream];
    if (skip) {
      if (key < skip.key) return;
      if (key === skip.key && skip.n > 0) { skip.n--; return; }
      this.skip[stream] = null;
    }
    const last = this.last[stream];
    if (last && last.key === key) last.n++; else this.last[stream] = { ts: m.ts, key, n: 1 };
    this.o.onLine?.(m);
  }

  stop() {
    this.closed = true;
    clearTimeout(this.timer);
    if (this.ws) this.ws.close(1000);
    this.ws = null;
  }
}
