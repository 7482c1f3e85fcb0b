// <docktail-log>: a live Docker log pane, as a standard web component with a shadow DOM.
//
//   <script type="module" src="https://docktail.example:8080/docktail-log.js"></script>
//   <docktail-log server="https://docktail.example:8080" container="web" tail="200" theme="dark"></docktail-log>
//
// Attributes: server, container, host, tail, since, stdout="0", stderr="0", timestamps
// (off|local|relative), wrap ("0" to disable), max-lines, theme (light|dark), height, token,
// chrome ("none" hides the toolbar). Events: `line` (detail: the line), `status` (detail: {state, …}).
import { renderAnsi, stripAnsi } from './js/ansi.js';
import { detectLevel } from './js/levels.js';
import { LogStream } from './js/log-stream.js';
import { css } from './js/log-pane.css.js';

const TEMPLATE = `
<div class="bar" part="toolbar">
  <span class="title"></span><span class="state" role="status">connecting</span><span class="count">0 lines</span>
  <span class="spacer"></span>
  <input class="search" type="search" placeholder="Filter (text or /regex/)" aria-label="Filter">
  <span class="matches" aria-live="polite"></span>
  <button class="prev" title="Previous match (Shift+Enter)" aria-label="Previous match">↑</button>
  <button class="next" title="Next match (Enter)" aria-label="Next match">↓</button>
  <button class="only" aria-pressed="false" title="Show only matching lines">only</button>
  <button class="follow" aria-pressed="true" title="Follow new lines (End or f)">follow</button>
  <button class="more" aria-expanded="false" title="More controls">⋯</button>
  <span class="extra">
  <select class="tsmode" aria-label="Timestamps"><option value="off">no time</option><option value="local">local time</option><option value="relative">relative</option></select>
  <button class="wrap" aria-pressed="true" title="Wrap long lines">wrap</button>
  <button class="out" aria-pressed="true" title="Show stdout">stdout</button>
  <button class="err" aria-pressed="true" title="Show stderr">stderr</button>
  <button class="json" aria-pressed="false" title="Pretty-print JSON lines">{ }</button>
  <button class="clear" title="Clear the view">clear</button>
  <button class="copy" title="Copy the log">copy</button>
  <button class="download" title="Download the log (.log)">⤓</button>
  <button class="theme" title="Switch light/dark">◐</button>
  </span>
</div>
<div class="log" tabindex="0" role="log" aria-live="off"></div>
<button class="newlines" hidden></button>`;

/**
 * What a terminal shows of a line: a `\r` returns the cursor, so a progress bar that rewrites
 * its line shows only its last state (the text after the last `\r` that has text after it).
 */
function visibleText(text) {
  const cr = text.lastIndexOf('\r');
  if (cr < 0) return text;
  if (cr < text.length - 1) return text.slice(cr + 1);
  const before = text.lastIndexOf('\r', cr - 1);
  return text.slice(before + 1, cr);
}

export class DocktailLog extends HTMLElement {
  static get observedAttributes() { return ['container', 'server', 'host', 'tail', 'since', 'stdout', 'stderr', 'token', 'height', 'timestamps', 'wrap', 'theme']; }

  constructor() {
    super();
    const root = this.attachShadow({ mode: 'open' });
    const sheet = new CSSStyleSheet();
    sheet.replaceSync(css);
    root.adoptedStyleSheets = [sheet];
    const wrapper = document.createElement('template');
    wrapper.innerHTML = TEMPLATE; // a constant: no data ever goes through innerHTML
    root.appendChild(wrapper.content.cloneNode(true));
    const $ = (s) => root.querySelector(s);
    this.el = {
      title: $('.title'), state: $('.state'), count: $('.count'), search: $('.search'), matches: $('.matches'),
      prev: $('.prev'), next: $('.next'), only: $('.only'), tsmode: $('.tsmode'), wrap: $('.wrap'), out: $('.out'),
      err: $('.err'), json: $('.json'), follow: $('.follow'), clear: $('.clear'), copy: $('.copy'),
      download: $('.download'), theme: $('.theme'), log: $('.log'), newlines: $('.newlines'), more: $('.more'), bar: $('.bar'),
    };
    this.records = [];        // every line kept for search and download (bounded)
    this.recordChars = 0;     // characters held in `records`
    this.pending = [];        // lines waiting for the next animation frame (at most maxLines)
    this.skipped = 0;         // lines never drawn because a newer burst replaced them (hidden tab)
    this.matchCount = 0;      // records matching the filter, kept up to date line by line
    this.rendered = 0;        // line elements in the DOM
    this.total = 0;
    this.unseen = 0;
    this.following = true;
    this.filter = null;
    this.current = -1;
    this.firstTs = null;
    this.frame = 0;
    this.stream = null;
    this.bind();
  }

  // Bounds, whatever a page asks for: the DOM holds at most 100,000 lines, the buffer (search,
  // copy, download) at most 1,000,000 lines and 64 M characters.
  get maxLines() { return Math.min(Math.max(Number(this.getAttribute('max-lines')) || 10000, 100), 100000); }
  get maxBuffer() { return Math.min(Math.max(this.maxLines, Number(this.getAttribute('max-buffer')) || 100000), 1000000); }
  static get maxBufferChars() { return 64 * 1024 * 1024; }

  connectedCallback() {
    this.applyAttributes();
    this.restart();
  }

  disconnectedCallback() {
    this.stream?.stop();
    this.stream = null;
  }

  attributeChangedCallback(name, oldValue, value) {
    if (!this.isConnected || oldValue === value) return;
    this.applyAttributes();
    if (['container', 'server', 'host', 'tail', 'since', 'stdout', 'stderr', 'token'].includes(name)) this.restart();
  }

  applyAttributes() {
    const h = this.getAttribute('height');
    if (h) this.style.height = /^\d+$/.test(h) ? `${h}px` : h;
    this.el.tsmode.value = this.getAttribute('timestamps') || this.el.tsmode.value || 'off';
    this.el.log.classList.toggle('hide-ts', this.el.tsmode.value === 'off');
    const wrap = this.getAttribute('wrap') !== '0';
    this.el.wrap.setAttribute('aria-pressed', String(wrap));
    this.el.log.classList.toggle('nowrap', !wrap);
    this.el.title.textContent = this.getAttribute('container') || '';
  }

  restart() {
    this.stream?.stop();
    const container = this.getAttribute('container');
    if (!container) return;
    this.clearView(true);
    const tailAttr = this.getAttribute('tail');
    this.stream = new LogStream({
      base: this.getAttribute('server') || location.href,
      container,
      host: this.getAttribute('host') || undefined,
      tail: tailAttr == null ? undefined : tailAttr,
      since: this.getAttribute('since') || undefined,
      stdout: this.getAttribute('stdout') !== '0',
      stderr: this.getAttribute('stderr') !== '0',
      token: this.getAttribute('token') || undefined,
      onLine: (m) => this.addLine(m),
      onPartial: (m) => this.showPartial(m),
      onEvent: (e) => this.onEvent(e),
      onStatus: (s, detail) => this.setState(s, detail),
    });
    this.stream.start();
  }

  // MARK: events from the server

  onEvent(e) {
    switch (e.event) {
      case 'subscribed':
        this.el.title.textContent = e.name;
        this.el.title.title = `${e.name} · ${e.id.slice(0, 12)} · ${e.host}${e.tty ? ' · tty' : ''}`;
        this.setState(e.state === 'running' ? 'live' : e.state === 'exited' ? 'stopped' : e.state);
        break;
      case 'end':
        this.setState('stopped', `exit ${e.exitCode}`);
        this.addMarker(`container exited with code ${e.exitCode}`);
        break;
      case 'restart':
        this.setState('live');
        this.addMarker('container restarted');
        break;
      case 'removed':
        this.setState('removed');
        this.addMarker('container removed');
        break;
      case 'dropped':
        this.addMarker(`${e.count} lines dropped: this client fell behind`);
        break;
      case 'error':
        this.addMarker(`engine: ${e.message}`);
        break;
    }
    this.dispatchEvent(new CustomEvent('event', { detail: e, bubbles: true, composed: true }));
  }

  setState(state, detail) {
    this.state = state;
    this.el.state.className = `state ${state}`;
    this.el.state.textContent = detail ? `${state} (${detail})` : state;
    this.dispatchEvent(new CustomEvent('status', { detail: { state, detail, container: this.getAttribute('container') }, bubbles: true, composed: true }));
  }

  /** A line still being written: one row per stream, replaced by the next preview or line. */
  showPartial(m) {
    const stream = m.stream === 'stderr' ? 'stderr' : 'stdout';
    this.partialRows ||= {};
    const r = { ts: m.ts, stream, text: m.line, plain: stripAnsi(m.line), level: null, partial: true };
    const row = this.lineElement(r);
    row.classList.add('partial');
    row.title = 'still being written';
    const old = this.partialRows[stream];
    if (old?.isConnected) old.replaceWith(row); else this.el.log.appendChild(row);
    this.partialRows[stream] = row;
    if (this.following) this.el.log.scrollTop = this.el.log.scrollHeight;
  }

  dropPartial(stream) {
    const row = this.partialRows?.[stream];
    if (row) { row.remove(); this.partialRows[stream] = null; }
  }

  addLine(m) {
    this.dropPartial(m.stream === 'stderr' ? 'stderr' : 'stdout');
    const plain = stripAnsi(m.line);
    const r = { ts: m.ts, stream: m.stream, text: m.line, plain, level: detectLevel(plain) };
    if (this.firstTs === null) this.firstTs = Date.parse(m.ts);
    r.match = this.matches(r);
    if (r.match) this.matchCount++;
    this.records.push(r);
    this.recordChars += m.line.length;
    this.trimRecords();
    this.total++;
    this.pending.push(r);
    // A background tab gets no animation frames: only the newest `maxLines` could ever be drawn,
    // so older pending lines go (they stay in the buffer for search and download).
    if (this.pending.length > this.maxLines * 1.25) {
      const extra = this.pending.length - this.maxLines;
      this.pending.splice(0, extra);
      this.skipped += extra;
    }
    this.schedule();
    this.dispatchEvent(new CustomEvent('line', { detail: { ts: m.ts, stream: m.stream, line: m.line }, bubbles: true, composed: true }));
  }

  /** Keeps the buffer within its line and character budgets (amortised: trims in chunks). */
  trimRecords() {
    const maxLines = this.maxBuffer;
    if (this.records.length <= maxLines * 1.1 && this.recordChars <= DocktailLog.maxBufferChars) return;
    let drop = Math.max(0, this.records.length - maxLines);
    let chars = this.recordChars;
    for (let i = 0; i < drop; i++) chars -= this.records[i].text.length;
    while (chars > DocktailLog.maxBufferChars * 0.9 && drop < this.records.length - 1) chars -= this.records[drop++].text.length;
    for (let i = 0; i < drop; i++) if (this.records[i].match) this.matchCount--;
    this.records.splice(0, drop);
    this.recordChars = chars;
  }

  addMarker(text) {
    const r = { ts: new Date().toISOString(), stream: 'event', text, plain: text, level: null, marker: true };
    this.records.push(r);
    this.pending.push(r);
    this.schedule();
  }

  // MARK: rendering, batched per animation frame

  schedule() {
    if (this.frame) return;
    this.frame = requestAnimationFrame(() => { this.frame = 0; this.flush(); });
  }

  flush() {
    let batch = this.pending;
    this.pending = [];
    if (!batch.length) return;
    // Only the newest `maxLines` of a burst can be shown; the rest stay in the buffer.
    if (batch.length > this.maxLines) batch = batch.slice(batch.length - this.maxLines);
    const frag = document.createDocumentFragment();
    for (const r of batch) frag.appendChild(this.lineElement(r));
    this.el.log.appendChild(frag);
    this.rendered += batch.length;
    const excess = this.rendered - this.maxLines;
    if (excess > 0) {
      for (let i = 0; i < excess; i++) this.el.log.firstChild?.remove();
      this.rendered -= excess;
    }
    this.el.count.textContent = `${this.total.toLocaleString()} line${this.total === 1 ? '' : 's'}`;
    if (this.filter) this.showMatchCount();
    if (this.following) this.el.log.scrollTop = this.el.log.scrollHeight;
    else {
      this.unseen += batch.filter((r) => !r.marker).length;
      this.el.newlines.textContent = `${this.unseen.toLocaleString()} new lines ↓`;
      this.el.newlines.hidden = this.unseen === 0;
    }
  }

  lineElement(r) {
    const div = document.createElement('div');
    if (r.marker) {
      div.className = 'line event';
      div.textContent = `— ${r.text} —`;
      return div;
    }
    div.className = `line ${r.stream}${r.level ? ` lvl-${r.level}` : ''}`;
    const ts = document.createElement('span');
    ts.className = 'ts';
    ts.textContent = this.formatTs(r.ts);
    ts.title = r.ts;
    div.appendChild(ts);
    if (r.level) {
      const lvl = document.createElement('span');
      lvl.className = 'lvl';
      lvl.textContent = r.level;
      div.appendChild(lvl);
    }
    const matches = this.filter ? r.match : false;
    if (matches) div.classList.add('match');
    const highlight = matches ? this.filter : null;
    const json = this.jsonOf(r);
    if (json) {
      const toggle = document.createElement('button');
      toggle.className = 'json-toggle';
      toggle.textContent = '{ }';
      toggle.title = 'Expand or collapse this JSON line';
      div.appendChild(toggle);
      const body = document.createElement('span');
      body.className = 'text';
      div.appendChild(body);
      const show = (pretty) => {
        body.textContent = '';
        div.dataset.pretty = pretty ? '1' : '0';
        if (pretty) {
          const pre = document.createElement('pre');
          pre.className = 'json';
          renderAnsi(pre, JSON.stringify(json, null, 2), highlight);
          body.appendChild(pre);
        } else {
          renderAnsi(body, r.text, highlight);
        }
      };
      toggle.addEventListener('click', () => show(div.dataset.pretty !== '1'));
      show(this.el.json.getAttribute('aria-pressed') === 'true');
    } else {
      const text = document.createElement('span');
      text.className = 'text';
      renderAnsi(text, visibleText(r.text), highlight);
      div.appendChild(text);
    }
    return div;
  }

  jsonOf(r) {
    const t = r.plain;
    if (t.length < 2 || t[0] !== '{' || t[t.length - 1] !== '}') return null;
    try {
      const v = JSON.parse(t);
      return v && typeof v === 'object' && !Array.isArray(v) ? v : null;
    } catch { return null; }
  }

  formatTs(ts) {
    const mode = this.el.tsmode.value;
    const t = Date.parse(ts);
    if (mode === 'relative' && this.firstTs !== null) return `+${((t - this.firstTs) / 1000).toFixed(3)}s`;
    const d = new Date(t);
    const p = (n, w = 2) => String(n).padStart(w, '0');
    return `${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}.${p(d.getMilliseconds(), 3)}`;
  }

  /** Rebuilds the DOM from the buffer (after a filter or display change). */
  rerender() {
    this.el.log.textContent = '';
    const source = this.records;
    const start = Math.max(0, source.length - this.maxLines);
    const frag = document.createDocumentFragment();
    for (let i = start; i < source.length; i++) frag.appendChild(this.lineElement(source[i]));
    this.el.log.appendChild(frag);
    this.rendered = source.length - start;
    this.current = -1;
    this.showMatchCount();
    if (this.following) this.el.log.scrollTop = this.el.log.scrollHeight;
  }

  // MARK: search

  setFilter(text) {
    this.el.search.classList.remove('invalid');
    if (!text) { this.filter = null; this.el.matches.textContent = ''; this.updateMatchCount(); this.rerender(); return; }
    const m = /^\/(.+)\/([a-z]*)$/.exec(text);
    try {
      this.filter = m ? new RegExp(m[1], m[2].replace('g', '') + 'g') : new RegExp(text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'), 'gi');
    } catch {
      this.el.search.classList.add('invalid');
      return;
    }
    this.updateMatchCount();
    this.rerender();
  }

  matches(r) {
    if (!this.filter || r.marker) return false;
    this.filter.lastIndex = 0;
    return this.filter.test(r.plain);
  }

  /** Recounts once (a new filter); afterwards each new line updates the count. */
  updateMatchCount() {
    let n = 0;
    for (const r of this.records) { r.match = this.matches(r); if (r.match) n++; }
    this.matchCount = n;
    this.showMatchCount();
  }

  showMatchCount() {
    if (!this.filter) { this.el.matches.textContent = ''; return; }
    const n = this.matchCount;
    this.el.matches.textContent = `${n.toLocaleString()} match${n === 1 ? '' : 'es'}`;
  }

  step(direction) {
    const marks = [...this.el.log.querySelectorAll('.line.match')];
    if (!marks.length) return;
    this.setFollowing(false);
    this.el.log.querySelector('mark.current')?.classList.remove('current');
    this.current = (this.current + direction + marks.length) % marks.length;
    const line = marks[this.current];
    line.querySelector('mark')?.classList.add('current');
    line.scrollIntoView({ block: 'center' });
  }

  // MARK: follow mode

  setFollowing(on) {
    this.following = on;
    this.el.follow.setAttribute('aria-pressed', String(on));
    if (on) {
      this.unseen = 0;
      this.el.newlines.hidden = true;
      this.el.log.scrollTop = this.el.log.scrollHeight;
    }
  }

  // MARK: actions

  clearView(all) {
    this.el.log.textContent = '';
    this.rendered = 0;
    this.records = [];
    this.recordChars = 0;
    this.pending = [];
    this.matchCount = 0;
    if (all) { this.total = 0; this.firstTs = null; }
    this.el.count.textContent = `${this.total.toLocaleString()} line${this.total === 1 ? '' : 's'}`;
    this.updateMatchCount();
  }

  logText() {
    return this.records.filter((r) => !r.marker).map((r) => `${r.ts} ${r.stream === 'stderr' ? 'E' : 'O'} ${r.plain}`).join('\n') + '\n';
  }

  async copy() {
    const text = this.logText();
    try {
      await navigator.clipboard.writeText(text);
    } catch {
      const ta = document.createElement('textarea');
      ta.value = text;
      this.shadowRoot.appendChild(ta);
      ta.select();
      document.execCommand('copy');
      ta.remove();
    }
    this.el.copy.textContent = 'copied';
    setTimeout(() => { this.el.copy.textContent = 'copy'; }, 1200);
  }

  download() {
    const blob = new Blob([this.logText()], { type: 'text/plain' });
    const a = document.createElement('a');
    a.href = URL.createObjectURL(blob);
    a.download = `${(this.el.title.textContent || 'container').replace(/[^\w.-]+/g, '_')}.log`;
    this.shadowRoot.appendChild(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(a.href), 10000);
  }

  /** Keyboard: `/` search, End or `f` follow, Esc clears the search. */
  handleKey(e) {
    const inSearch = e.composedPath().includes(this.el.search);
    if (e.key === 'Escape') { this.el.search.value = ''; this.setFilter(''); this.el.log.focus(); e.preventDefault(); return true; }
    if (inSearch) {
      if (e.key === 'Enter') { this.step(e.shiftKey ? -1 : 1); e.preventDefault(); return true; }
      return false;
    }
    if (e.key === '/') { this.el.search.focus(); e.preventDefault(); return true; }
    if (e.key === 'End' || e.key === 'f') { this.setFollowing(true); e.preventDefault(); return true; }
    return false;
  }

  bind() {
    const el = this.el;
    let searchTimer = 0;
    el.search.addEventListener('input', () => { clearTimeout(searchTimer); searchTimer = setTimeout(() => this.setFilter(el.search.value), 120); });
    el.next.addEventListener('click', () => this.step(1));
    el.prev.addEventListener('click', () => this.step(-1));
    const toggle = (btn, fn) => btn.addEventListener('click', () => {
      const on = btn.getAttribute('aria-pressed') !== 'true';
      btn.setAttribute('aria-pressed', String(on));
      fn(on);
    });
    toggle(el.only, (on) => el.log.classList.toggle('only-matches', on));
    toggle(el.wrap, (on) => el.log.classList.toggle('nowrap', !on));
    toggle(el.out, (on) => el.log.classList.toggle('hide-stdout', !on));
    toggle(el.err, (on) => el.log.classList.toggle('hide-stderr', !on));
    toggle(el.json, () => this.rerender());
    el.follow.addEventListener('click', () => this.setFollowing(!this.following));
    el.tsmode.addEventListener('change', () => { el.log.classList.toggle('hide-ts', el.tsmode.value === 'off'); this.rerender(); });
    el.clear.addEventListener('click', () => this.clearView(false));
    el.copy.addEventListener('click', () => this.copy());
    el.download.addEventListener('click', () => this.download());
    el.theme.addEventListener('click', () => {
      const dark = this.getAttribute('theme') === 'dark' || (!this.hasAttribute('theme') && matchMedia('(prefers-color-scheme: dark)').matches);
      this.setAttribute('theme', dark ? 'light' : 'dark');
      this.dispatchEvent(new CustomEvent('themechange', { detail: { theme: this.getAttribute('theme') }, bubbles: true, composed: true }));
    });
    el.newlines.addEventListener('click', () => this.setFollowing(true));
    el.more.addEventListener('click', () => {
      const open = el.more.getAttribute('aria-expanded') !== 'true';
      el.more.setAttribute('aria-expanded', String(open));
      el.bar.classList.toggle('expanded', open);
    });
    // Scrolling up pauses follow; reaching the bottom again resumes it.
    let lastTop = 0;
    el.log.addEventListener('scroll', () => {
      const atBottom = el.log.scrollHeight - el.log.scrollTop - el.log.clientHeight < 4;
      if (el.log.scrollTop < lastTop && !atBottom && this.following) this.setFollowing(false);
      else if (atBottom && !this.following) this.setFollowing(true);
      lastTop = el.log.scrollTop;
    }, { passive: true });
    this.shadowRoot.addEventListener('keydown', (e) => { if (this.handleKey(e)) e.stopPropagation(); });
  }
}

if (!customElements.get('docktail-log')) customElements.define('docktail-log', DocktailLog);
