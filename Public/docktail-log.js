// <docktail-log>: a live Docker log pane, as a standard web component with a shadow DOM.
//
//   <script type="module" src="https://docktail.example:8080/docktail-log.js"></script>
//   <docktail-log server="https://docktail.example:8080" container="web" tail="200" theme="dark"></docktail-log>
//   <docktail-log group="project/shop"></docktail-log>      (a compose project, merged)
//
// Attributes: server, container, group (kind/name: project/NAME, stack/NAME, label/KEY=VALUE,
// host/ENGINE, service/NAME), host, tail, since, until, stdout="0", stderr="0", timestamps
// (off|local|relative), wrap ("0" to disable), max-lines, max-buffer, theme (light|dark),
// height, token, chrome ("none" hides the toolbar).
// Events: `line` (detail: the line), `status` (detail: {state, …}), `event` (server events).
//
// The DOM holds a window of at most `max-lines` line elements over the lines kept in memory
// (`max-buffer` lines and 64 M characters): scrolling moves the window, releasing elements far
// above or below the viewport and bringing them back from memory. Scrolling to the top of a
// container pane pages older lines in from the server's history API, up to the log's first line.
import { renderAnsi, stripAnsi } from './js/ansi.js';
import { detectLevel } from './js/levels.js';
import { LogStream, splitGroup, tsKey } from './js/log-stream.js';
import { anchorOf, checkPattern, fetchOlder, grepOf } from './js/history.js';
import { Members } from './js/members.js';
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
  <button class="grep" title="Search the whole history on the server (Ctrl+Enter)">whole history</button>
  <button class="follow" aria-pressed="true" title="Follow new lines (End or f)">follow</button>
  <button class="more" aria-expanded="false" title="More controls">⋯</button>
  <span class="extra">
  <select class="tsmode" aria-label="Timestamps"><option value="off">no time</option><option value="local">local time</option><option value="relative">relative</option></select>
  <button class="wrap" aria-pressed="true" title="Wrap long lines">wrap</button>
  <button class="out" aria-pressed="true" title="Show stdout">stdout</button>
  <button class="err" aria-pressed="true" title="Show stderr">stderr</button>
  <button class="json" aria-pressed="false" title="Pretty-print JSON lines">{ }</button>
  <button class="jumpbtn" aria-expanded="false" title="Jump to a moment (since / until)">jump…</button>
  <button class="clear" title="Clear the view">clear</button>
  <button class="copy" title="Copy the lines held in the pane">copy</button>
  <button class="download" title="Download the lines held in the pane (.log)">⤓</button>
  <button class="download-all" title="Download the whole log from the server (.log)">⤓ all</button>
  <button class="theme" title="Switch light/dark">◐</button>
  </span>
</div>
<div class="jumpbar" hidden><label>from <input class="jump-at" type="datetime-local" step="1" title="Show the log from this moment (local time)"></label>
  <label>until <input class="jump-until" type="datetime-local" step="1" title="Optional: the end of the range"></label>
  <button class="jump" title="Reopen the pane at this moment">show</button></div>
<div class="notice" role="status" hidden></div>
<div class="members" role="group" aria-label="Members" hidden></div>
<div class="log" tabindex="0" role="log" aria-live="off"><div class="older" hidden></div><div class="rows"></div><div class="partials"></div></div>
<button class="newlines" hidden></button>`;

/** Matching lines a whole-history search walks back for (then it goes on live). */
const GREP_TAIL = 500;

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

/** A stamp for people: 14:02:11, with the date when it is not today. */
function shortTime(ts) {
  const d = new Date(Date.parse(ts));
  if (Number.isNaN(d.getTime())) return ts;
  const p = (n) => String(n).padStart(2, '0');
  const time = `${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
  const today = new Date();
  return d.toDateString() === today.toDateString() ? time : `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${time}`;
}

/** `datetime-local` value (local time) → RFC 3339 in UTC, or null. */
function fromLocalInput(value) {
  if (!value) return null;
  const t = new Date(value).getTime();
  return Number.isNaN(t) ? null : new Date(t).toISOString();
}

export class DocktailLog extends HTMLElement {
  static get observedAttributes() { return ['container', 'group', 'server', 'host', 'tail', 'since', 'until', 'stdout', 'stderr', 'token', 'height', 'timestamps', 'wrap', 'theme']; }

  constructor() {
    super();
    const root = this.attachShadow({ mode: 'open' });
    const sheet = new CSSStyleSheet();
    sheet.replaceSync(css);
    // A second constructed sheet holds the member filter's rules (no inline styles: CSP).
    this.memberSheet = new CSSStyleSheet();
    root.adoptedStyleSheets = [sheet, this.memberSheet];
    const wrapper = document.createElement('template');
    wrapper.innerHTML = TEMPLATE; // a constant: no data ever goes through innerHTML
    root.appendChild(wrapper.content.cloneNode(true));
    const $ = (s) => root.querySelector(s);
    this.el = {
      title: $('.title'), state: $('.state'), count: $('.count'), search: $('.search'), matches: $('.matches'),
      prev: $('.prev'), next: $('.next'), only: $('.only'), grep: $('.grep'), tsmode: $('.tsmode'), wrap: $('.wrap'), out: $('.out'),
      err: $('.err'), json: $('.json'), follow: $('.follow'), clear: $('.clear'), copy: $('.copy'),
      download: $('.download'), downloadAll: $('.download-all'), theme: $('.theme'), log: $('.log'), rows: $('.rows'),
      partials: $('.partials'), older: $('.older'), notice: $('.notice'), members: $('.members'),
      newlines: $('.newlines'), more: $('.more'), bar: $('.bar'),
      jumpAt: $('.jump-at'), jumpUntil: $('.jump-until'), jump: $('.jump'), jumpBtn: $('.jumpbtn'), jumpBar: $('.jumpbar'),
    };
    this.records = [];        // the lines kept in memory, oldest first (search, copy, the DOM window)
    this.recordChars = 0;     // characters held in `records`
    this.pending = [];        // lines waiting for the next animation frame (at most maxLines)
    this.skipped = 0;         // lines never drawn because a newer burst replaced them (hidden tab)
    this.matchCount = 0;      // records matching the filter, kept up to date line by line
    this.total = 0;
    this.unseen = 0;
    this.following = true;
    this.filter = null;
    this.current = -1;
    this.firstTs = null;
    this.frame = 0;
    this.stream = null;
    // Records carry a sequence number: live lines count up from 0, older pages count down, so
    // record i has seq records[0].seq + i. The DOM shows the records with seq in [loSeq, hiSeq).
    this.nextSeq = 0;
    this.loSeq = 0;
    this.hiSeq = 0;
    this.detached = false;    // newer lines were released from memory (see trimRecords)
    this.olderCursor = null;  // the history API's cursor for the page before the oldest record
    this.atStart = false;     // the oldest record is the log's first line
    this.loadingOlder = false;
    this.olderError = null;
    this.olderAbort = null;
    this.generation = 0;
    this.jump = null;         // {since, until}: the pane was reopened at a moment
    this.grepMode = null;     // {pattern, icase, label}: the stream was reopened with grep
    this.searchProgress = new Map();
    this.notices = {};        // what the notice bar says: {jump, search, error}
    this.members = new Members();
    this.subscribed = null;   // the container the server resolved: {id, host}
    this.programmaticTop = null;
    this.lastTop = 0;
    this.bind();
  }

  // Bounds, whatever a page asks for: the DOM holds at most 100,000 lines, the buffer (search,
  // copy, download, scrolling back) at most 1,000,000 lines and 64 M characters.
  get maxLines() { return Math.min(Math.max(Number(this.getAttribute('max-lines')) || 10000, 100), 100000); }
  // The buffer holds at least two windows, so a page of older lines always fits beside the window.
  get maxBuffer() { return Math.min(Math.max(this.maxLines * 2, Number(this.getAttribute('max-buffer')) || 100000), 1000000); }
  static get maxBufferChars() { return 64 * 1024 * 1024; }
  /** Lines the window moves by, and lines per page of older history (a page fits in the window twice). */
  get chunk() { return Math.max(25, Math.min(1000, Math.floor(this.maxLines / 4))); }
  get pageLimit() { return Math.max(50, Math.min(2000, Math.floor(this.maxLines / 2))); }

  get isGroup() { return !this.getAttribute('container') && Boolean(this.getAttribute('group')); }
  get baseSeq() { return this.records.length ? this.records[0].seq : this.nextSeq; }
  get endSeq() { return this.records.length ? this.records[this.records.length - 1].seq + 1 : this.nextSeq; }

  connectedCallback() {
    this.applyAttributes();
    this.restart();
  }

  disconnectedCallback() {
    this.stream?.stop();
    this.stream = null;
    this.olderAbort?.abort();
  }

  attributeChangedCallback(name, oldValue, value) {
    if (!this.isConnected || oldValue === value) return;
    this.applyAttributes();
    if (['container', 'group', 'server', 'host', 'tail', 'since', 'until', 'stdout', 'stderr', 'token'].includes(name)) this.restart();
  }

  applyAttributes() {
    const h = this.getAttribute('height');
    if (h) this.style.height = /^\d+$/.test(h) ? `${h}px` : h;
    this.el.tsmode.value = this.getAttribute('timestamps') || this.el.tsmode.value || 'off';
    this.el.log.classList.toggle('hide-ts', this.el.tsmode.value === 'off');
    const wrap = this.getAttribute('wrap') !== '0';
    this.el.wrap.setAttribute('aria-pressed', String(wrap));
    this.el.log.classList.toggle('nowrap', !wrap);
    const group = this.isGroup ? splitGroup(this.getAttribute('group')) : null;
    this.el.title.textContent = group ? `${group.kind} ${group.name}` : this.getAttribute('container') || '';
    this.el.downloadAll.hidden = this.isGroup;
  }

  restart() {
    this.stream?.stop();
    this.stream = null;
    const container = this.getAttribute('container');
    const group = this.getAttribute('group');
    if (!container && !(group && splitGroup(group))) return;
    this.clearView(true);
    this.generation++;
    this.olderAbort?.abort();
    this.loadingOlder = false;
    this.olderError = null;
    this.olderCursor = null;
    this.atStart = false;
    this.cleared = false;
    this.detached = false;
    this.subscribed = null;
    // The same group reopened (a search, a jump, a reconnect of the page) keeps its switches.
    this.members.clear(this.lastGroup === group);
    this.lastGroup = group;
    this.renderMembers();
    this.searchProgress = new Map();
    const tailAttr = this.getAttribute('tail');
    let tail = tailAttr == null ? undefined : tailAttr;
    if (this.grepMode) tail = GREP_TAIL;
    if (this.jump) tail = 'all';
    const since = this.jump ? this.jump.since : this.getAttribute('since') || undefined;
    const until = this.jump ? this.jump.until || undefined : this.getAttribute('until') || undefined;
    // Without a `since`, `tail=all` starts at the log's first line: nothing older to page in.
    this.startsAtFirstLine = tail === 'all' && !since;
    this.stream = new LogStream({
      base: this.getAttribute('server') || location.href,
      container: container || undefined,
      group: container ? undefined : group,
      host: this.getAttribute('host') || undefined,
      tail,
      since,
      until,
      stdout: this.getAttribute('stdout') !== '0',
      stderr: this.getAttribute('stderr') !== '0',
      grep: this.grepMode?.pattern,
      icase: this.grepMode?.icase,
      token: this.getAttribute('token') || undefined,
      onLine: (m) => this.addLine(m),
      onPartial: (m) => this.showPartial(m),
      onEvent: (e) => this.onEvent(e),
      onStatus: (s, detail) => this.setState(s, detail),
    });
    this.renderNotice();
    this.renderOlder();
    this.stream.start();
  }

  // MARK: events from the server

  onEvent(e) {
    const member = this.isGroup && e.id ? this.members.get(e.id, e.name, e.host ? { host: e.host } : {}) : null;
    const who = member ? `${member.name} ` : '';
    switch (e.event) {
      case 'subscribed':
        if (e.group) {
          this.el.title.textContent = `${e.group.kind} ${e.group.name}`;
          for (const m of e.members || []) this.members.get(m.id, m.name, { host: m.host, state: m.state, task: m.task });
          this.el.title.title = `${e.group.kind} ${e.group.name} · ${(e.members || []).length} members`;
          this.renderMembers();
          this.setState('live');
        } else {
          this.subscribed = { id: e.id, host: e.host };
          this.el.title.textContent = e.name;
          this.el.title.title = `${e.name} · ${e.id.slice(0, 12)} · ${e.host}${e.tty ? ' · tty' : ''}`;
          this.setState(e.state === 'running' ? 'live' : e.state === 'exited' ? 'stopped' : e.state);
        }
        break;
      case 'joined':
        if (member) { member.gone = false; member.state = 'running'; this.renderMembers(); }
        this.addMarker(`${who}joined`, member);
        break;
      case 'left':
        if (member) { member.gone = true; member.state = e.reason || 'gone'; this.renderMembers(); }
        this.addMarker(`${who}left${e.reason ? ` (${e.reason})` : ''}`, member);
        break;
      case 'end':
        if (member) { member.state = 'exited'; this.renderMembers(); } else this.setState('stopped', `exit ${e.exitCode}`);
        this.addMarker(`${member ? who : 'container '}exited with code ${e.exitCode}`, member);
        break;
      case 'restart':
        if (member) { member.state = 'running'; this.renderMembers(); } else this.setState('live');
        this.addMarker(`${member ? who : 'container '}restarted`, member);
        break;
      case 'removed':
        // (A member's removal is told by the `left` that follows it.)
        if (!member) { this.setState('removed'); this.addMarker('container removed'); }
        break;
      case 'dropped':
        this.addMarker(`${e.count} lines${member ? ` of ${member.name}` : ''} dropped: this client fell behind`, member);
        break;
      case 'error':
        this.addMarker(`${member ? `${member.name}: ` : ''}engine: ${e.message}`, member);
        break;
      case 'search':
        this.searchProgress.set(e.id || '', { scannedTo: e.scannedTo, matches: e.matches, done: e.done });
        this.renderNotice();
        break;
    }
    this.dispatchEvent(new CustomEvent('event', { detail: e, bubbles: true, composed: true }));
  }

  setState(state, detail) {
    this.state = state;
    this.el.state.className = `state ${state}`;
    this.el.state.textContent = detail ? `${state} (${detail})` : state;
    this.dispatchEvent(new CustomEvent('status', { detail: { state, detail, container: this.getAttribute('container'), group: this.getAttribute('group') }, bubbles: true, composed: true }));
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
    if (old?.isConnected) old.replaceWith(row); else this.el.partials.appendChild(row);
    this.partialRows[stream] = row;
    if (this.following) this.setScrollTop(this.el.log.scrollHeight);
  }

  dropPartial(stream) {
    const row = this.partialRows?.[stream];
    if (row) { row.remove(); this.partialRows[stream] = null; }
  }

  // The hot path: keep it lean (a burst can bring 50,000 lines in a second).
  addLine(m) {
    this.dropPartial(m.stream === 'stderr' ? 'stderr' : 'stdout');
    this.total++;
    if (this.detached) {
      // Newer lines were released from memory to keep what the user reads: count, do not keep.
      this.unseen++;
      this.schedule();
    } else {
      const plain = stripAnsi(m.line);
      const r = { ts: m.ts, stream: m.stream, text: m.line, plain, level: detectLevel(plain), seq: this.nextSeq++ };
      if (m.id) r.member = this.members.get(m.id, m.name);
      if (this.firstTs === null) this.firstTs = Date.parse(m.ts);
      r.match = this.matches(r);
      if (r.match) this.matchCount++;
      this.records.push(r);
      this.recordChars += m.line.length;
      this.trimRecords();
      if (this.detached) this.unseen++; else this.pending.push(r);
      // A background tab gets no animation frames: only the newest `maxLines` could ever be drawn,
      // so older pending lines go (they stay in the buffer for search and download).
      if (this.pending.length > this.maxLines * 1.25) {
        const extra = this.pending.length - this.maxLines;
        this.pending.splice(0, extra);
        this.skipped += extra;
      }
      this.schedule();
    }
    const detail = { ts: m.ts, stream: m.stream, line: m.line };
    if (m.id) { detail.id = m.id; detail.name = m.name; }
    this.dispatchEvent(new CustomEvent('line', { detail, bubbles: true, composed: true }));
  }

  /**
   * Keeps the buffer within its line and character budgets (amortised: trims in chunks). Lines
   * go from the end farther from what the user reads: the oldest, unless the user is reading
   * older lines and is nearer to the oldest end than to the newest; then the newest go and the
   * pane is "detached" from the live end (new lines are counted, and "load newer" reopens the
   * pane from the last line held).
   */
  trimRecords(prefer) {
    const maxLines = this.maxBuffer;
    if (this.records.length <= maxLines * 1.1 && this.recordChars <= DocktailLog.maxBufferChars) return;
    const newest = prefer === 'newest' || (prefer !== 'oldest' && !this.following && this.hiSeq < this.endSeq
      && (this.loSeq - this.baseSeq) < (this.endSeq - this.hiSeq));
    if (newest) this.dropNewest(); else this.dropOldest();
  }

  dropOldest() {
    const maxLines = this.maxBuffer;
    let drop = Math.max(0, this.records.length - maxLines);
    let chars = this.recordChars;
    for (let i = 0; i < drop; i++) chars -= this.records[i].text.length;
    while (chars > DocktailLog.maxBufferChars * 0.9 && drop < this.records.length - 1) chars -= this.records[drop++].text.length;
    for (let i = 0; i < drop; i++) if (this.records[i].match) this.matchCount--;
    const newBase = this.baseSeq + drop;
    this.records.splice(0, drop);
    this.recordChars = chars;
    // Elements of released records leave the DOM; the next page of older lines is asked for
    // from the new oldest line.
    if (this.loSeq < newBase) {
      this.releaseTop(Math.min(this.hiSeq, newBase) - this.loSeq, !this.following);
      this.loSeq = Math.max(this.loSeq, newBase);
      this.hiSeq = Math.max(this.hiSeq, newBase);
    }
    if (drop) { this.olderCursor = null; this.atStart = false; this.startsAtFirstLine = false; this.renderOlder(); }
  }

  dropNewest() {
    const maxLines = this.maxBuffer;
    let keep = this.records.length;
    let chars = this.recordChars;
    const floor = this.hiSeq - this.baseSeq; // never the window's own records
    while (keep > floor && (keep > maxLines || chars > DocktailLog.maxBufferChars * 0.9)) {
      const r = this.records[--keep];
      chars -= r.text.length;
      if (r.match) this.matchCount--;
    }
    if (keep === this.records.length) { this.dropOldest(); return; }
    this.records.length = keep;
    this.recordChars = chars;
    this.pending = this.pending.filter((r) => r.seq < this.endSeq);
    this.detached = true;
    if (this.records.length > maxLines * 1.1 || chars > DocktailLog.maxBufferChars) this.dropOldest();
  }

  addMarker(text, member) {
    if (this.detached) return;
    const r = { ts: new Date().toISOString(), stream: 'event', text, plain: text, level: null, marker: true, seq: this.nextSeq++ };
    if (member) r.member = member;
    if (member && text.startsWith(member.name)) r.after = text.slice(member.name.length);
    this.records.push(r);
    this.pending.push(r);
    this.schedule();
  }

  // MARK: the DOM window

  /** Element for record `seq`… (the records between `from` and `to`, as a fragment). */
  fragment(from, to) {
    const frag = document.createDocumentFragment();
    const base = this.baseSeq;
    for (let s = from; s < to; s++) frag.appendChild(this.lineElement(this.records[s - base]));
    return frag;
  }

  get windowSize() { return this.hiSeq - this.loSeq; }

  /** Sets scrollTop and remembers it, so the scroll event it causes is not taken for the user's. */
  setScrollTop(top) {
    const log = this.el.log;
    log.scrollTop = top;
    this.programmaticTop = log.scrollTop;
  }

  /** Removes `n` elements from the top; `keepView` keeps what is on screen where it is. */
  releaseTop(n, keepView) {
    if (n <= 0) return;
    const rows = this.el.rows;
    const log = this.el.log;
    const before = keepView ? log.scrollHeight : 0;
    if (n >= rows.childElementCount) rows.textContent = '';
    else for (let i = 0; i < n; i++) rows.firstElementChild.remove();
    this.loSeq += n;
    if (keepView) this.setScrollTop(log.scrollTop - (before - log.scrollHeight));
  }

  releaseBottom(n) {
    if (n <= 0) return;
    const rows = this.el.rows;
    if (n >= rows.childElementCount) rows.textContent = '';
    else for (let i = 0; i < n; i++) rows.lastElementChild.remove();
    this.hiSeq -= n;
  }

  /** Shows `n` more records above the window (from memory), keeping the view still. */
  extendUp(n) {
    const from = Math.max(this.baseSeq, this.loSeq - n);
    const count = this.loSeq - from;
    if (count <= 0) return 0;
    this.releaseBottom(this.windowSize + count - this.maxLines);
    const log = this.el.log;
    const before = log.scrollHeight;
    const top = log.scrollTop;
    this.el.rows.insertBefore(this.fragment(from, this.loSeq), this.el.rows.firstChild);
    this.loSeq = from;
    this.setScrollTop(top + (log.scrollHeight - before));
    this.renderOlder();
    return count;
  }

  /** Shows `n` more records below the window (from memory), releasing far-above ones. */
  extendDown(n) {
    const to = Math.min(this.endSeq, this.hiSeq + n);
    const count = to - this.hiSeq;
    if (count <= 0) return 0;
    this.releaseTop(this.windowSize + count - this.maxLines, true);
    this.el.rows.appendChild(this.fragment(this.hiSeq, to));
    this.hiSeq = to;
    this.renderOlder();
    return count;
  }

  /** The window as the newest `maxLines` records, appended to when it is contiguous. */
  showNewest() {
    const end = this.endSeq;
    const lo = Math.max(this.baseSeq, end - this.maxLines);
    if (this.hiSeq >= lo && this.hiSeq <= end && this.loSeq >= this.baseSeq) {
      this.releaseTop(Math.max(this.loSeq, lo) - this.loSeq, false);
      if (this.hiSeq < end) this.el.rows.appendChild(this.fragment(this.hiSeq, end));
      this.hiSeq = end;
    } else {
      this.rebuild(lo, end);
    }
    this.renderOlder();
  }

  rebuild(lo, hi) {
    this.el.rows.textContent = '';
    this.loSeq = lo;
    this.hiSeq = lo;
    if (hi > lo) this.el.rows.appendChild(this.fragment(lo, hi));
    this.hiSeq = hi;
  }

  // MARK: rendering, batched per animation frame

  schedule() {
    if (this.frame) return;
    this.frame = requestAnimationFrame(() => { this.frame = 0; this.flush(); });
  }

  flush() {
    const batch = this.pending;
    this.pending = [];
    if (batch.length) {
      if (this.following) {
        this.showNewest();
        this.setScrollTop(this.el.log.scrollHeight);
      } else {
        // Reading above: the window grows downwards up to its bound; later lines wait in memory
        // and come in as the user scrolls down.
        const room = this.maxLines - this.windowSize;
        if (room > 0 && this.hiSeq < this.endSeq && this.hiSeq >= this.baseSeq) {
          const to = Math.min(this.endSeq, this.hiSeq + room);
          this.el.rows.appendChild(this.fragment(this.hiSeq, to));
          this.hiSeq = to;
        }
        let n = 0;
        for (const r of batch) if (!r.marker) n++;
        this.unseen += n;
        this.renderOlder();
      }
    }
    if (!this.following || this.detached) this.showUnseen();
    if (this.grepMode && this.searchProgress.size && this.noticeTotal !== this.total) this.renderNotice();
    this.el.count.textContent = `${this.total.toLocaleString()} line${this.total === 1 ? '' : 's'}`;
    if (this.filter) this.showMatchCount();
    if (this.members.added) this.renderMembers(); // a line from a member not announced before
  }

  showUnseen() {
    const b = this.el.newlines;
    if (this.detached) {
      b.textContent = `${this.unseen.toLocaleString()} newer lines · load ↓`;
      b.title = 'Newer lines were released from memory: reopen the pane from the last line held';
      b.hidden = false;
    } else {
      b.textContent = `${this.unseen.toLocaleString()} new lines ↓`;
      b.title = 'Show the newest lines and follow';
      b.hidden = this.unseen === 0;
    }
  }

  lineElement(r) {
    const div = document.createElement('div');
    const member = r.member;
    if (r.marker) {
      div.className = member ? `line event ${member.cls}` : 'line event';
      if (member && r.after != null) {
        div.appendChild(document.createTextNode('— '));
        div.appendChild(this.memberLabel(member));
        div.appendChild(document.createTextNode(`${r.after} —`));
      } else {
        div.textContent = `— ${r.text} —`;
      }
      return div;
    }
    div.className = `line ${r.stream}${r.level ? ` lvl-${r.level}` : ''}${member ? ` ${member.cls}` : ''}`;
    const ts = document.createElement('span');
    ts.className = 'ts';
    ts.textContent = this.formatTs(r.ts);
    ts.title = r.ts;
    div.appendChild(ts);
    if (member) div.appendChild(this.memberLabel(member));
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

  memberLabel(member) {
    const span = document.createElement('span');
    span.className = `member mc-${member.colour}`;
    span.textContent = member.name;
    return span;
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

  /** Rebuilds the DOM window from memory (after a filter or display change). */
  rerender() {
    this.pending = [];
    if (this.following) {
      this.rebuild(Math.max(this.baseSeq, this.endSeq - this.maxLines), this.endSeq);
      this.setScrollTop(this.el.log.scrollHeight);
    } else {
      const top = this.el.log.scrollTop;
      const lo = Math.min(Math.max(this.loSeq, this.baseSeq), this.endSeq);
      this.rebuild(lo, Math.min(Math.max(this.hiSeq, lo), this.endSeq, lo + this.maxLines));
      this.setScrollTop(top);
    }
    this.current = -1;
    this.showMatchCount();
    this.renderOlder();
  }

  // MARK: older lines (scrolling back) and the window when scrolling

  /** The user scrolled near the top: older lines from memory, else from the server. */
  nearTop(retry = false) {
    const log = this.el.log;
    if (this.following && log.scrollHeight > log.clientHeight + 4) this.setFollowing(false);
    if (this.loSeq > this.baseSeq) this.extendUp(this.chunk);
    else if (retry || !this.olderError) this.loadOlder(); // after an error, only "retry" asks again
  }

  nearBottom() {
    if (this.hiSeq < this.endSeq) this.extendDown(this.chunk);
    else if (this.detached) this.showUnseen();
  }

  get canPage() { return !this.isGroup && Boolean(this.getAttribute('container')); }

  /** One page of history before the oldest line held, prepended without moving the view. */
  async loadOlder() {
    if (!this.canPage || this.loadingOlder || this.atStart || this.cleared || this.loSeq > this.baseSeq) return;
    if (this.startsAtFirstLine && this.records.some((r) => !r.marker)) { this.atStart = true; this.renderOlder(); return; }
    const anchor = this.olderCursor ? null : anchorOf(this.records);
    if (!this.olderCursor && !anchor) { this.renderOlder(); return; }
    const generation = this.generation;
    this.loadingOlder = true;
    this.olderError = null;
    this.renderOlder();
    const abort = new AbortController();
    this.olderAbort = abort;
    let page;
    try {
      page = await fetchOlder({
        base: this.getAttribute('server') || location.href,
        ref: this.subscribed?.id || this.getAttribute('container'),
        host: this.subscribed?.host || this.getAttribute('host') || undefined,
        token: this.getAttribute('token') || undefined,
        limit: this.pageLimit,
        cursor: this.olderCursor,
        anchor,
        stdout: this.getAttribute('stdout') !== '0',
        stderr: this.getAttribute('stderr') !== '0',
        grep: this.grepMode?.pattern,
        icase: this.grepMode?.icase,
        signal: abort.signal,
      });
    } catch (e) {
      if (generation !== this.generation) return;
      this.loadingOlder = false;
      this.olderError = e.name === 'AbortError' ? null : e.message;
      this.renderOlder();
      return;
    }
    if (generation !== this.generation) return;
    this.loadingOlder = false;
    this.prependPage(page);
  }

  prependPage(page) {
    const oldBase = this.baseSeq;
    const windowAtOldest = this.loSeq === oldBase;
    const recs = [];
    let seq = oldBase - page.lines.length;
    let chars = 0;
    for (const m of page.lines) {
      const plain = stripAnsi(m.line);
      const r = { ts: m.ts, stream: m.stream, text: m.line, plain, level: detectLevel(plain), seq: seq++ };
      r.match = this.matches(r);
      if (r.match) this.matchCount++;
      chars += m.line.length;
      recs.push(r);
    }
    this.olderCursor = page.cursor;
    if (page.cursor === null || !recs.length) this.atStart = true;
    if (recs.length) {
      this.records = recs.concat(this.records);
      this.recordChars += chars;
      this.total += recs.length;
      // Over budget, the newest lines go (beyond the window): the user is reading back.
      this.trimRecords('newest');
      if (windowAtOldest) this.extendUp(recs.length);
    }
    this.el.count.textContent = `${this.total.toLocaleString()} line${this.total === 1 ? '' : 's'}`;
    if (this.filter) this.showMatchCount();
    this.renderOlder();
    // A short page (or few lines matching) may not fill the pane: nothing to scroll, so go on.
    const log = this.el.log;
    if (!this.atStart && log.scrollHeight <= log.clientHeight + 4) this.loadOlder();
  }

  /** The row above the first line: what lies before it (rebuilt only when that changes). */
  renderOlder() {
    const o = this.el.older;
    const hasLines = this.records.length > 0 && (!this.records[0].marker || this.records.some((r) => !r.marker));
    let state;
    let text = '';
    if (!this.canPage) state = 'none';
    else if (this.loSeq > this.baseSeq) { state = 'memory'; text = `↑ ${(this.loSeq - this.baseSeq).toLocaleString()} older lines`; }
    else if (this.loadingOlder) { state = 'loading'; text = 'loading older lines…'; }
    else if (this.olderError) { state = 'error'; text = `older lines: ${this.olderError}`; }
    else if (this.cleared) { state = 'cleared'; text = 'view cleared'; }
    else if (this.atStart || (this.startsAtFirstLine && hasLines)) { state = 'start'; text = this.grepMode ? 'start of log (no older matches)' : 'start of log'; }
    else if (hasLines) { state = 'more'; text = '↑ older lines'; }
    else state = 'none';
    if (state === this.olderState && text === this.olderText) return;
    if (state === this.olderState && state === 'memory') { o.firstChild.textContent = text; this.olderText = text; return; }
    this.olderState = state;
    this.olderText = text;
    o.textContent = '';
    o.className = `older ${state}`;
    o.hidden = state === 'none';
    if (state === 'memory' || state === 'more') o.appendChild(this.olderButton(text));
    else if (state === 'error') { o.appendChild(document.createTextNode(`${text} `)); o.appendChild(this.olderButton('retry')); }
    else o.textContent = text;
  }

  olderButton(text) {
    const b = document.createElement('button');
    b.className = 'older-button';
    b.textContent = text;
    b.addEventListener('click', () => this.nearTop(true));
    return b;
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
    const marks = [...this.el.rows.querySelectorAll('.line.match')];
    if (!marks.length) return;
    this.setFollowing(false);
    this.el.rows.querySelector('mark.current')?.classList.remove('current');
    this.current = (this.current + direction + marks.length) % marks.length;
    const line = marks[this.current];
    line.querySelector('mark')?.classList.add('current');
    line.scrollIntoView({ block: 'center' });
  }

  /**
   * "Search the whole history": the stream is reopened with `grep` (the server walks back
   * through the log for the last matching lines, then sends matching live lines), after the
   * server has accepted the pattern; a refused pattern's message is shown instead.
   */
  async searchHistory(text = this.el.search.value) {
    const g = grepOf(text);
    if (!g) { this.notices.search = { error: 'type a text or a /regex/ to search the whole history' }; this.renderNotice(); return; }
    let ref = this.subscribed?.id || this.getAttribute('container');
    let host = this.subscribed?.host || this.getAttribute('host') || undefined;
    if (this.isGroup) {
      const m = this.members.list.find((x) => !x.gone) || this.members.list[0];
      ref = m?.id;
      host = m?.host;
    }
    this.notices.search = { checking: g.label };
    this.renderNotice();
    const problem = await checkPattern({ base: this.getAttribute('server') || location.href, ref, host, token: this.getAttribute('token') || undefined, grep: g.pattern, icase: g.icase });
    if (problem) {
      this.notices.search = { error: problem };
      this.el.search.classList.add('invalid');
      this.renderNotice();
      return;
    }
    this.notices.search = null;
    this.el.search.classList.remove('invalid');
    this.grepMode = g;
    this.setFollowing(true, true);
    this.restart();
  }

  exitSearch() {
    this.grepMode = null;
    this.notices.search = null;
    this.restart();
  }

  // MARK: jump to time

  /** Reopens the pane at `since` (RFC 3339), up to `until` when given, not following. */
  jumpTo(since, until) {
    if (!since) return;
    this.jump = { since, until: until || null };
    this.setFollowing(false, true);
    this.restart();
  }

  /** Back to the newest lines, following (leaves a jump; a search stays). */
  goLive() {
    this.jump = null;
    this.setFollowing(true, true);
    this.restart();
  }

  /** The notice bar: the moment the pane was reopened at, the whole-history search, errors. */
  renderNotice() {
    const n = this.el.notice;
    this.noticeTotal = this.total;
    n.textContent = '';
    const item = (cls, text, button, onClick) => {
      const span = document.createElement('span');
      span.className = `item ${cls}`;
      span.textContent = text;
      if (button) {
        const b = document.createElement('button');
        b.className = `${cls}-close`;
        b.textContent = button;
        b.addEventListener('click', onClick);
        span.appendChild(document.createTextNode(' '));
        span.appendChild(b);
      }
      n.appendChild(span);
    };
    if (this.jump) {
      item('jump-info', `from ${shortTime(this.jump.since)}${this.jump.until ? ` until ${shortTime(this.jump.until)}` : ''}`, 'back to live', () => this.goLive());
    }
    if (this.grepMode) {
      let progress = '';
      if (this.searchProgress.size) {
        let matches = 0;
        let done = true;
        let reached = null;
        for (const p of this.searchProgress.values()) {
          matches += p.matches || 0;
          if (!p.done) done = false;
          if (p.scannedTo && (!reached || tsKey(p.scannedTo) > tsKey(reached))) reached = p.scannedTo;
        }
        // Once done, the lines received are the matches (the server's count can leave out the
        // log's very first line, whose start it cannot be sure of while walking back).
        if (done) matches = Math.max(matches, this.total);
        progress = ` · ${done ? 'searched' : 'searching… searched'} back to ${reached ? shortTime(reached) : 'the start'} · ${matches.toLocaleString()} match${matches === 1 ? '' : 'es'}`;
      }
      item('search-info', `whole history: ${this.grepMode.label}${this.grepMode.icase ? ' (any case)' : ''}${progress}`, 'exit search', () => this.exitSearch());
    }
    const s = this.notices.search;
    if (s?.checking) item('search-info', `checking ${s.checking}…`);
    if (s?.error) item('search-error error', s.error, '×', () => { this.notices.search = null; this.renderNotice(); });
    n.hidden = !n.firstChild;
  }

  // MARK: members (group panes)

  renderMembers() {
    const box = this.el.members;
    this.members.added = false;
    this.memberSheet.replaceSync(this.members.hidingRules());
    box.textContent = '';
    if (!this.isGroup || !this.members.list.length) { box.hidden = true; return; }
    box.hidden = false;
    const label = document.createElement('span');
    label.className = 'members-label';
    label.textContent = `${this.members.list.length} member${this.members.list.length === 1 ? '' : 's'}:`;
    box.appendChild(label);
    for (const m of this.members.list) {
      const chip = document.createElement('button');
      chip.className = `chip mc-${m.colour}${m.gone ? ' gone' : ''}`;
      chip.dataset.member = m.name;
      chip.setAttribute('aria-pressed', String(!this.members.hidden.has(m.index)));
      chip.textContent = m.name;
      const where = m.task ? `task ${m.task.slot ?? m.task.id?.slice(0, 12)} on node ${m.task.node}` : m.host || '';
      chip.title = `${m.name}${where ? ` · ${where}` : ''} · ${m.state}\nclick: show/hide its lines · shift+click: only this one`;
      chip.addEventListener('click', (e) => this.toggleMember(m, e.shiftKey));
      box.appendChild(chip);
    }
  }

  /** Hides or shows a member's lines (client-side; the stream is unchanged). */
  toggleMember(member, solo) {
    const hidden = this.members.hidden;
    if (solo) {
      const alone = this.members.list.every((m) => m === member || hidden.has(m.index)) && !hidden.has(member.index);
      hidden.clear();
      if (!alone) for (const m of this.members.list) if (m !== member) hidden.add(m.index);
    } else if (hidden.has(member.index)) hidden.delete(member.index);
    else hidden.add(member.index);
    this.renderMembers();
    if (this.following) this.setScrollTop(this.el.log.scrollHeight);
  }

  // MARK: follow mode

  /**
   * Follow on or off. Turning it on (button, End, f) shows the newest lines; when the pane was
   * reopened at a moment, or newer lines were released from memory, it reopens at the live end.
   * `quiet`: only the mode changes (the scroll handler at the live end; before a reopen).
   */
  setFollowing(on, quiet = false) {
    if (on && !quiet && (this.detached || this.jump)) { this.goLive(); return; }
    this.following = on;
    this.el.follow.setAttribute('aria-pressed', String(on));
    if (on) {
      this.unseen = 0;
      this.el.newlines.hidden = true;
      if (!quiet) {
        this.showNewest();
        this.setScrollTop(this.el.log.scrollHeight);
      }
    }
  }

  /** "N newer lines · load": reopens the pane from the last line held (detached), else follows. */
  newLinesClicked() {
    if (this.detached) {
      const last = [...this.records].reverse().find((r) => !r.marker);
      this.jumpTo(last ? last.ts : new Date().toISOString(), this.jump?.until);
      return;
    }
    this.setFollowing(true);
  }

  // MARK: actions

  clearView(all) {
    this.el.rows.textContent = '';
    this.el.partials.textContent = '';
    this.partialRows = {};
    this.records = [];
    this.recordChars = 0;
    this.pending = [];
    this.matchCount = 0;
    this.loSeq = this.hiSeq = this.nextSeq;
    this.unseen = 0;
    this.el.newlines.hidden = true;
    if (all) { this.total = 0; this.firstTs = null; }
    else { this.olderAbort?.abort(); this.generation++; this.loadingOlder = false; this.cleared = true; this.detached = false; }
    this.el.count.textContent = `${this.total.toLocaleString()} line${this.total === 1 ? '' : 's'}`;
    this.updateMatchCount();
    this.renderOlder();
  }

  logText() {
    return this.records.filter((r) => !r.marker).map((r) => `${r.ts} ${r.stream === 'stderr' ? 'E' : 'O'} ${r.member ? `[${r.member.name}] ` : ''}${r.plain}`).join('\n') + '\n';
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

  saveAs(href, name) {
    const a = document.createElement('a');
    a.href = href;
    a.download = name;
    this.shadowRoot.appendChild(a);
    a.click();
    a.remove();
  }

  download() {
    const href = URL.createObjectURL(new Blob([this.logText()], { type: 'text/plain' }));
    this.saveAs(href, `${(this.el.title.textContent || 'container').replace(/[^\w.-]+/g, '_')}.log`);
    setTimeout(() => URL.revokeObjectURL(href), 10000);
  }

  /** The whole log from the server, streamed as a file (with stamps, the pane's streams). */
  downloadAll() {
    const ref = this.subscribed?.id || this.getAttribute('container');
    if (!ref) return;
    const u = new URL(`/api/containers/${encodeURIComponent(ref)}/logs.txt`, new URL(this.getAttribute('server') || location.href));
    u.searchParams.set('timestamps', '1');
    const host = this.subscribed?.host || this.getAttribute('host');
    if (host) u.searchParams.set('host', host);
    if (this.getAttribute('stdout') === '0') u.searchParams.set('stdout', '0');
    if (this.getAttribute('stderr') === '0') u.searchParams.set('stderr', '0');
    const token = this.getAttribute('token');
    if (token) u.searchParams.set('token', token);
    this.saveAs(u.toString(), `${(this.el.title.textContent || 'container').replace(/[^\w.-]+/g, '_')}.log`);
  }

  /** Keyboard: `/` search, End or `f` follow, Esc clears the search, Ctrl+Enter searches the history. */
  handleKey(e) {
    const inSearch = e.composedPath().includes(this.el.search);
    if (e.key === 'Escape') { this.el.search.value = ''; this.setFilter(''); this.el.log.focus(); e.preventDefault(); return true; }
    if (inSearch) {
      if (e.key === 'Enter' && (e.ctrlKey || e.metaKey)) { this.searchHistory(); e.preventDefault(); return true; }
      if (e.key === 'Enter') { this.step(e.shiftKey ? -1 : 1); e.preventDefault(); return true; }
      return false;
    }
    if (e.composedPath().some((n) => n instanceof HTMLInputElement)) return false;
    if (e.key === '/') { this.el.search.focus(); e.preventDefault(); return true; }
    if (e.key === 'End' || e.key === 'f') { this.setFollowing(true); e.preventDefault(); return true; }
    return false;
  }

  /** Scrolling: follow pauses when going up and resumes at the live end; the window moves. */
  onScroll() {
    const log = this.el.log;
    const top = log.scrollTop;
    if (this.programmaticTop !== null && Math.abs(top - this.programmaticTop) < 1) {
      this.programmaticTop = null;
      this.lastTop = top;
      return;
    }
    this.programmaticTop = null;
    const height = log.clientHeight;
    const below = log.scrollHeight - top - height;
    const atBottom = below < 4;
    const up = top < this.lastTop;
    this.lastTop = top;
    // Nothing to scroll (the pane was just emptied, or holds a few lines): no user scrolled.
    if (log.scrollHeight <= height + 4) return;
    if (up && !atBottom && this.following) this.setFollowing(false);
    else if (atBottom && !this.following && this.hiSeq === this.endSeq && !this.detached) this.setFollowing(true, true);
    if (top < height && (up || top === 0)) this.nearTop();
    else if (below < height && !up) this.nearBottom();
  }

  bind() {
    const el = this.el;
    let searchTimer = 0;
    el.search.addEventListener('input', () => { clearTimeout(searchTimer); searchTimer = setTimeout(() => this.setFilter(el.search.value), 120); });
    el.next.addEventListener('click', () => this.step(1));
    el.prev.addEventListener('click', () => this.step(-1));
    el.grep.addEventListener('click', () => this.searchHistory());
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
    el.downloadAll.addEventListener('click', () => this.downloadAll());
    el.jumpBtn.addEventListener('click', () => {
      const open = el.jumpBar.hidden;
      el.jumpBar.hidden = !open;
      el.jumpBtn.setAttribute('aria-expanded', String(open));
      if (open) el.jumpAt.focus();
    });
    el.jumpBar.addEventListener('keydown', (e) => { if (e.key === 'Enter') el.jump.click(); });
    el.jump.addEventListener('click', () => {
      const since = fromLocalInput(el.jumpAt.value);
      if (!since) { el.jumpAt.focus(); return; }
      this.jumpTo(since, fromLocalInput(el.jumpUntil.value));
    });
    el.theme.addEventListener('click', () => {
      const dark = this.getAttribute('theme') === 'dark' || (!this.hasAttribute('theme') && matchMedia('(prefers-color-scheme: dark)').matches);
      this.setAttribute('theme', dark ? 'light' : 'dark');
      this.dispatchEvent(new CustomEvent('themechange', { detail: { theme: this.getAttribute('theme') }, bubbles: true, composed: true }));
    });
    el.newlines.addEventListener('click', () => this.newLinesClicked());
    el.more.addEventListener('click', () => {
      const open = el.more.getAttribute('aria-expanded') !== 'true';
      el.more.setAttribute('aria-expanded', String(open));
      el.bar.classList.toggle('expanded', open);
    });
    el.log.addEventListener('scroll', () => this.onScroll(), { passive: true });
    // At the very top a wheel turn moves nothing, so no scroll event comes: ask for older lines.
    el.log.addEventListener('wheel', (e) => { if (e.deltaY < 0 && el.log.scrollTop === 0) this.nearTop(); }, { passive: true });
    this.shadowRoot.addEventListener('keydown', (e) => { if (this.handleKey(e)) e.stopPropagation(); });
  }
}

if (!customElements.get('docktail-log')) customElements.define('docktail-log', DocktailLog);
