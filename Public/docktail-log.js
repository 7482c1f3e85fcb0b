// <docktail-log>: a live Docker log pane, as a standard web component with a shadow DOM.
//
//   <script type="module" src="https://docktail.example:8080/docktail-log.js"></script>
//   <docktail-log server="https://docktail.example:8080" container="web" tail="200" theme="dark"></docktail-log>
//   <docktail-log group="project/shop"></docktail-log>      (a compose project, merged)
//
// Attributes: server, container, group (kind/name: project/NAME, stack/NAME, label/KEY=VALUE,
// host/ENGINE, service/NAME), host, tail, since, until, stdout="0", stderr="0", timestamps
// (local|utc|relative|off; local by default), wrap ("0" to disable), levels (the levels shown,
// e.g. "error,warn"; all when absent), at (an RFC 3339 stamp: open there, scrolled to that line
// and highlighted; at-stream="stderr" picks the stream), max-lines, max-buffer, theme
// (light|dark), height, token, chrome ("none" hides the toolbar), show-name ("0" hides the name:
// the page shows it), pane-controls ("none" hides maximise and close), maximized (set by the page
// that maximised the pane; the pane shows its control pressed).
// Events: `line` (detail: the line), `status` (detail: {state, …}), `event` (server events),
// `docktail-levels` (detail: {levels}: the level chips changed; the attribute is updated too),
// `docktail-maximize` and `docktail-close` (the pane's own buttons; bubbling, composed,
// cancelable: a page that does not handle them gets a full-window overlay and a removed pane).
//
// Lines are grouped into entries: continuation lines (a stack trace, a Python traceback, an
// indented block; see js/entries.js) join the entry before them, which has one timestamp and one
// level, and is shown collapsed to its first line when long. Search, copy, download and "only
// matching" work on entries.
//
// The DOM holds a window of at most `max-lines` entry elements over the entries kept in memory
// (`max-buffer` and 64 M characters): scrolling moves the window, releasing elements far above
// or below the viewport and bringing them back from memory. Scrolling to the top of a container
// pane pages older lines in from the server's history API, up to the log's first line.
import { renderAnsi, stripAnsi } from './js/ansi.js';
import { detectLevel, LEVELS } from './js/levels.js';
import { LogStream, splitGroup, tsKey } from './js/log-stream.js';
import { anchorOf, checkPattern, fetchOlder, grepOf } from './js/history.js';
import { Members } from './js/members.js';
import { css } from './js/log-pane.css.js';
import { COLLAPSE_OVER, continues, tsMillis } from './js/entries.js';
import { Clock, fromLocalInput, fullTime, offsetLabel, shortTime, toLocalInput, zoneName } from './js/timefmt.js';
import { parseJsonLine, renderJsonSummary, renderJsonTree } from './js/json-view.js';
import { icon, iconElement } from './js/icons.js';

const iconButton = (cls, ic, label, extra = '') =>
  `<button type="button" class="${cls} icon" title="${label}" aria-label="${label}"${extra}>${icon(ic)}</button>`;
// Secondary controls: icons in a wide pane, icon and label in the "more" menu of a narrow one.
const menuButton = (cls, ic, label, title, extra = '') =>
  `<button type="button" class="${cls} item" title="${title}" aria-label="${label}"${extra}>${icon(ic)}<span class="label">${label}</span></button>`;

const TEMPLATE = `
<div class="bar" part="toolbar">
  <span class="title"></span><span class="state" role="status">connecting</span><span class="count" title="Lines received (clear resets it)">0 lines</span>
  <span class="levels" role="group" aria-label="Levels shown">${LEVELS.map((l) => `<button type="button" class="lvchip lv-${l}" data-level="${l}" aria-pressed="true"><span class="dot"></span><span class="lvname">${l}</span><span class="n">0</span></button>`).join('')}</span>
  <span class="spacer"></span>
  <span class="find"><input class="search" type="search" placeholder="Filter (text or /regex/)" aria-label="Filter: text or /regex/ (Enter: next, Shift+Enter: previous, Ctrl+Enter: whole history, Esc: clear)" title="Filter: text or /regex/ · Enter next · Shift+Enter previous · Ctrl+Enter whole history · Esc clear"><span class="matches" aria-live="polite"></span></span>
  ${iconButton('prev', 'up', 'Previous match (Shift+Enter)')}
  ${iconButton('next', 'down', 'Next match (Enter)')}
  ${iconButton('only', 'filter', 'Show only matching entries', ' aria-pressed="false"')}
  ${iconButton('grep', 'history', 'Search the whole history on the server (Ctrl+Enter)')}
  ${iconButton('follow', 'follow', 'Follow new lines (End or f)', ' aria-pressed="true"')}
  <span class="extra" role="group" aria-label="More controls">
  <label class="item tsbox" title="Timestamps (hover a time for its full date and UTC offset)">${icon('clock')}<select class="tsmode" aria-label="Timestamps"><option value="local">local time</option><option value="utc">UTC</option><option value="relative">relative</option><option value="off">no time</option></select></label>
  ${menuButton('wrap', 'wrap', 'Wrap long lines', 'Wrap long lines', ' aria-pressed="true"')}
  ${menuButton('out', 'stdout', 'stdout', 'Show stdout', ' aria-pressed="true"')}
  ${menuButton('err', 'stderr', 'stderr', 'Show stderr', ' aria-pressed="true"')}
  ${menuButton('json', 'braces', 'Expand JSON', 'Expand every JSON line as a tree', ' aria-pressed="false"')}
  ${menuButton('jumpbtn', 'calendar', 'Jump to time…', 'Jump to a moment (since / until)', ' aria-expanded="false"')}
  ${menuButton('clear', 'clear', 'Clear', 'Clear the view and the line counter')}
  ${menuButton('copy', 'copy', 'Copy', 'Copy the entries shown (filters applied)')}
  ${menuButton('download', 'download', 'Download', 'Download the entries shown (.log, filters applied)')}
  ${menuButton('download-all', 'downloadAll', 'Download all', 'Download the whole log from the server (.log)')}
  ${menuButton('theme', 'theme', 'Theme', 'Switch light/dark')}
  </span>
  ${iconButton('more', 'more', 'More controls', ' aria-expanded="false" aria-haspopup="true"')}
  ${iconButton('maximize', 'maximize', 'Maximise', ' aria-pressed="false"')}
  ${iconButton('close-pane', 'close', 'Close')}
</div>
<div class="jumpbar" hidden><label>from <input class="jump-at" type="datetime-local" step="1" title="Show the log from this moment (local time)"></label>
  <label>until <input class="jump-until" type="datetime-local" step="1" title="Optional: the end of the range"></label>
  <button type="button" class="jump" title="Reopen the pane at this moment">show</button><span class="jump-zone"></span></div>
<div class="notice" role="status" hidden></div>
<div class="members" role="group" aria-label="Members" hidden></div>
<div class="log" tabindex="0" role="log" aria-live="off"><div class="older" hidden></div><div class="rows"></div><div class="partials"></div></div>
<button type="button" class="newlines" hidden></button>`;

/** Matching lines a whole-history search walks back for (then it goes on live). */
const GREP_TAIL = 500;
/** Entries drawn at most per frame while following a burst. */
const BURST_WINDOW = 500;
/** Entries shown around a match by "show context". */
const CONTEXT = 5;
/** Restarts within this long of each other make a container "restarting" (a crash loop). */
const LOOP_WINDOW_MS = 60000;
/** …and it is "live" again once it has run this long without exiting. */
const SETTLE_MS = 30000;
/** Events this soon after `subscribed` may be history replayed (their receive time says nothing). */
const REPLAY_MS = 1500;

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

/** 12, 1.2k, 12k, 1.2M: a chip's count in a few characters. */
function compact(n) {
  if (n < 1000) return String(n);
  if (n < 10000) return `${(n / 1000).toFixed(1)}k`;
  if (n < 1e6) return `${Math.round(n / 1000)}k`;
  return `${(n / 1e6).toFixed(1)}M`;
}

/** An event's own time (RFC 3339, Unix seconds or nanoseconds), as RFC 3339, or null. */
function eventTime(e) {
  const t = e.time ?? e.timeNano;
  if (t == null) return null;
  if (typeof t === 'string' && !/^\d+(\.\d+)?$/.test(t)) return Number.isNaN(tsMillis(t)) ? null : t;
  const n = Number(t);
  if (!Number.isFinite(n)) return null;
  const ms = n > 1e17 ? n / 1e6 : n > 1e11 ? n : n * 1000;
  return new Date(ms).toISOString();
}

const sizeOf = (r) => r.len ?? r.text.length;
const levelOf = (r) => r.level || 'other';
const newCounts = () => Object.fromEntries(LEVELS.map((l) => [l, 0]));

export class DocktailLog extends HTMLElement {
  static get observedAttributes() {
    return ['container', 'group', 'server', 'host', 'tail', 'since', 'until', 'stdout', 'stderr', 'token', 'height', 'timestamps',
      'wrap', 'theme', 'levels', 'at', 'at-stream', 'show-name', 'pane-controls', 'maximized'];
  }

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
      newlines: $('.newlines'), more: $('.more'), bar: $('.bar'), extra: $('.extra'), levels: $('.levels'),
      maximize: $('.maximize'), close: $('.close-pane'),
      jumpAt: $('.jump-at'), jumpUntil: $('.jump-until'), jump: $('.jump'), jumpBtn: $('.jumpbtn'), jumpBar: $('.jumpbar'), jumpZone: $('.jump-zone'),
    };
    this.chips = Object.fromEntries([...root.querySelectorAll('.lvchip')].map((c) => [c.dataset.level, c]));
    this.el.tsmode.options[0].textContent = `local ${offsetLabel()}`;
    this.actions = this.makeActions();
    this.clock = new Clock();
    this.records = [];        // the entries kept in memory, oldest first (search, copy, the DOM window)
    this.recordChars = 0;     // characters held in `records`
    this.pending = [];        // entries waiting for the next animation frame (at most maxLines)
    this.dirty = new Set();   // entries shown already that changed (a continuation line joined)
    this.skipped = 0;         // entries never drawn because a newer burst replaced them (hidden tab)
    this.matchCount = 0;      // entries matching the filter, kept up to date line by line
    this.levelCounts = newCounts();   // entries held, per level
    this.levelMatches = newCounts();  // matching entries held, per level
    this.shownCounts = null;  // what the chips show (redrawn only when it changes)
    this.hiddenLevels = new Set();
    this.hiddenStreams = new Set();
    this.total = 0;
    this.unseen = 0;
    this.following = true;
    this.filter = null;
    this.currentSeq = null;   // the entry the search stepped to
    this.contexts = new Set(); // entries whose context is shown ("show context")
    this.jsonAll = false;
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
    this.target = null;       // {ts, key, stream}: the line a permalink (`at`) opens at
    this.atApplied = null;
    this.grepMode = null;     // {pattern, icase, label}: the stream was reopened with grep
    this.searchProgress = new Map();
    this.notices = {};        // what the notice bar says: {search, filter, refused}
    this.members = new Members();
    this.subscribed = null;   // the container the server resolved: {id, host, name}
    this.exitCode = null;
    this.restartTimes = [];
    this.stateSerial = 0;
    this.programmaticTop = null;
    this.lastTop = 0;
    this.onOutside = (e) => { if (!e.composedPath().some((n) => n === this.el.extra || n === this.el.more)) this.setMenu(false); };
    this.bind();
  }

  // Bounds, whatever a page asks for: the DOM holds at most 100,000 entries, the buffer (search,
  // copy, download, scrolling back) at most 1,000,000 entries and 64 M characters.
  get maxLines() { return Math.min(Math.max(Number(this.getAttribute('max-lines')) || 10000, 100), 100000); }
  // The buffer holds at least two windows, so a page of older lines always fits beside the window.
  get maxBuffer() { return Math.min(Math.max(this.maxLines * 2, Number(this.getAttribute('max-buffer')) || 100000), 1000000); }
  static get maxBufferChars() { return 64 * 1024 * 1024; }
  /** Entries the window moves by, and lines per page of older history (a page fits in the window twice). */
  get chunk() { return Math.max(25, Math.min(1000, Math.floor(this.maxLines / 4))); }
  get pageLimit() { return Math.max(50, Math.min(2000, Math.floor(this.maxLines / 2))); }

  get isGroup() { return !this.getAttribute('container') && Boolean(this.getAttribute('group')); }
  get baseSeq() { return this.records.length ? this.records[0].seq : this.nextSeq; }
  get endSeq() { return this.records.length ? this.records[this.records.length - 1].seq + 1 : this.nextSeq; }
  get onlyMatching() { return this.el.only.getAttribute('aria-pressed') === 'true'; }
  get tsMode() { return this.tsModeValue ??= this.el.tsmode.value; }

  connectedCallback() {
    for (const name of DocktailLog.observedAttributes) this.applyAttribute(name);
    document.addEventListener('pointerdown', this.onOutside, true);
    this.restart();
  }

  disconnectedCallback() {
    this.stream?.stop();
    this.stream = null;
    this.olderAbort?.abort();
    clearTimeout(this.settleTimer);
    document.removeEventListener('pointerdown', this.onOutside, true);
  }

  attributeChangedCallback(name, oldValue, value) {
    if (!this.isConnected || oldValue === value) return;
    this.applyAttribute(name);
    if (['container', 'group', 'server', 'host', 'tail', 'since', 'until', 'stdout', 'stderr', 'token', 'at', 'at-stream'].includes(name)) this.restart();
  }

  /** Applies one attribute (only that one: a theme change does not reset the user's choices). */
  applyAttribute(name) {
    const v = this.getAttribute(name);
    switch (name) {
      case 'height':
        if (v) this.style.height = /^\d+$/.test(v) ? `${v}px` : v;
        break;
      case 'timestamps': {
        const mode = { on: 'local', 1: 'local', 0: 'off', local: 'local', utc: 'utc', relative: 'relative', off: 'off' }[v];
        if (mode && mode !== this.el.tsmode.value) { this.el.tsmode.value = mode; this.applyTsMode(); }
        break;
      }
      case 'wrap': {
        const wrap = v !== '0';
        this.el.wrap.setAttribute('aria-pressed', String(wrap));
        this.el.log.classList.toggle('nowrap', !wrap);
        break;
      }
      case 'container': case 'group': {
        const group = this.isGroup ? splitGroup(this.getAttribute('group')) : null;
        this.el.title.textContent = group ? `${group.kind} ${group.name}` : this.getAttribute('container') || '';
        this.el.downloadAll.hidden = this.isGroup;
        break;
      }
      case 'levels': this.readLevels(); break;
      case 'show-name': this.el.title.hidden = v === '0'; break;
      case 'pane-controls': this.el.maximize.hidden = this.el.close.hidden = v === 'none'; break;
      case 'maximized': {
        const on = v !== null;
        this.el.maximize.setAttribute('aria-pressed', String(on));
        const label = on ? 'Restore' : 'Maximise';
        this.el.maximize.title = label;
        this.el.maximize.setAttribute('aria-label', label);
        this.el.maximize.replaceChildren(iconElement(on ? 'restore' : 'maximize'));
        break;
      }
      default:
    }
  }

  applyTsMode() {
    this.tsModeValue = this.el.tsmode.value;
    this.el.log.classList.toggle('hide-ts', this.tsMode === 'off');
    this.rerender();
  }

  restart() {
    this.stream?.stop();
    this.stream = null;
    const container = this.getAttribute('container');
    const group = this.getAttribute('group');
    if (!container && !(group && splitGroup(group))) return;
    // A permalink's moment (`at`): open there, with the line scrolled to and highlighted.
    const at = this.getAttribute('at');
    if (at && at !== this.atApplied && !Number.isNaN(tsMillis(at))) {
      this.atApplied = at;
      const since = this.isGroup ? new Date(tsMillis(at) - 10000).toISOString() : at;
      this.jump = { since, until: null, linked: at };
      this.target = { ts: at, key: tsKey(at), stream: this.getAttribute('at-stream') || null, done: false };
      this.setFollowing(false, true);
    }
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
    this.subscribedAt = 0;
    this.exitCode = null;
    this.restartTimes = [];
    this.policyRestart = false;
    clearTimeout(this.settleTimer);
    this.notices.refused = null;
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
      onStatus: (s, detail, info) => this.setState(s, detail, info),
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
        this.subscribedAt = Date.now();
        if (e.group) {
          this.el.title.textContent = `${e.group.kind} ${e.group.name}`;
          for (const m of e.members || []) this.members.get(m.id, m.name, { host: m.host, state: m.state, task: m.task });
          this.el.title.title = `${e.group.kind} ${e.group.name} · ${(e.members || []).length} members`;
          this.renderMembers();
          this.setState('live');
        } else {
          this.subscribed = { id: e.id, host: e.host, name: e.name };
          this.el.title.textContent = e.name;
          this.el.title.title = `${e.name} · ${e.id.slice(0, 12)} · ${e.host}${e.tty ? ' · tty' : ''}`;
          // Between two runs of a restart policy: its next start is part of the same cycle.
          if (e.state === 'restarting') this.policyRestart = true;
          this.setState(e.state === 'running' ? 'live' : e.state === 'exited' || e.state === 'dead' ? 'stopped' : e.state);
          if (this.state === 'stopped') this.findExitCode();
        }
        break;
      case 'joined':
        if (member) { member.gone = false; member.state = 'running'; this.renderMembers(); }
        this.addMarker(`${who}joined`, member, { ts: eventTime(e) });
        break;
      case 'left':
        if (member) { member.gone = true; member.state = e.reason || 'gone'; this.renderMembers(); }
        this.addMarker(`${who}left${e.reason ? ` (${e.reason})` : ''}`, member, { ts: eventTime(e) });
        break;
      case 'end': {
        const code = e.exitCode;
        if (member) { member.state = 'exited'; this.renderMembers(); }
        else {
          this.exitCode = code;
          // An end soon after a restart is a crash loop: the engine will start it again.
          this.setState(this.recentRestarts() >= 1 ? 'restarting' : 'stopped', `exit ${code}`);
          this.confirmState();
        }
        this.addMarker(`${member ? who : 'container '}exited with code ${code}`, member, { ts: eventTime(e), kind: code === 0 ? 'end-ok' : 'end-fail', estimate: 'before' });
        break;
      }
      case 'restart':
        if (member) { member.state = 'running'; this.renderMembers(); }
        else {
          // A restart policy at work (the engine said "restarting"), or a crash loop, stays
          // "restarting" until the container has run for a while; a one-off restart is live.
          this.restartTimes.push(Date.now());
          const n = this.recentRestarts();
          const cycling = n >= 2 || this.policyRestart;
          this.policyRestart = false;
          this.setState(cycling ? 'restarting' : 'live', cycling ? `${n} restart${n === 1 ? '' : 's'} in the last minute` : undefined);
          clearTimeout(this.settleTimer);
          this.settleTimer = setTimeout(() => { if (this.state === 'restarting') this.setState('live'); }, SETTLE_MS);
        }
        this.addMarker(`${member ? who : 'container '}restarted`, member, { ts: eventTime(e), kind: 'restart', estimate: 'after' });
        break;
      case 'removed':
        // (A member's removal is told by the `left` that follows it.)
        if (!member) { this.setState('removed'); this.addMarker('container removed', null, { ts: eventTime(e), kind: 'removed' }); }
        break;
      case 'dropped':
        this.addMarker(`${e.count} lines${member ? ` of ${member.name}` : ''} dropped: this client fell behind`, member, { kind: 'dropped' });
        break;
      case 'error':
        this.addMarker(`${member ? `${member.name}: ` : ''}engine: ${e.message}`, member, { kind: 'error' });
        break;
      case 'search':
        this.searchProgress.set(e.id || '', { scannedTo: e.scannedTo, matches: e.matches, done: e.done });
        this.renderNotice();
        break;
    }
    this.dispatchEvent(new CustomEvent('event', { detail: e, bubbles: true, composed: true }));
  }

  /** Restarts within the last minute. */
  recentRestarts() {
    const now = Date.now();
    this.restartTimes = this.restartTimes.filter((t) => now - t < LOOP_WINDOW_MS);
    return this.restartTimes.length;
  }

  /** After an `end`: the engine says whether a restart policy will start the container again. */
  async confirmState() {
    const serial = this.stateSerial;
    const generation = this.generation;
    const info = await this.fetchContainer();
    if (!info || serial !== this.stateSerial || generation !== this.generation) return;
    if (info.state === 'restarting') this.policyRestart = true;
    if (info.state === 'restarting' && this.state === 'stopped') this.setState('restarting', `exit ${this.exitCode}`);
    else if ((info.state === 'exited' || info.state === 'dead') && this.state === 'restarting') this.setState('stopped', `exit ${this.exitCode}`);
  }

  async fetchContainer() {
    const ref = this.subscribed?.id;
    if (!ref) return null;
    try {
      const u = new URL(`/api/containers/${encodeURIComponent(ref)}`, new URL(this.getAttribute('server') || location.href));
      if (this.subscribed.host) u.searchParams.set('host', this.subscribed.host);
      const token = this.getAttribute('token');
      if (token) u.searchParams.set('token', token);
      const r = await fetch(u, { cache: 'no-store' });
      return r.ok ? await r.json() : null;
    } catch { return null; }
  }

  /** A container that had stopped before the pane opened: its exit code, from the list ("Exited (1) …"). */
  async findExitCode() {
    const id = this.subscribed?.id;
    const generation = this.generation;
    try {
      const u = new URL('/api/containers?all=1', new URL(this.getAttribute('server') || location.href));
      const token = this.getAttribute('token');
      if (token) u.searchParams.set('token', token);
      const r = await fetch(u, { cache: 'no-store' });
      if (!r.ok) return;
      const c = (await r.json()).find((x) => x.id === id);
      const m = c && /\((-?\d+)\)/.exec(c.status || '');
      if (!m || generation !== this.generation || this.state !== 'stopped' || this.exitCode != null) return;
      this.exitCode = Number(m[1]);
      this.setState('stopped', `exit ${this.exitCode}`);
    } catch { /* the badge says "exited" */ }
  }

  setState(state, detail, info = {}) {
    this.state = state;
    this.stateSerial++;
    let label = state;
    let cls = state.replace(/\s+/g, '-');
    let title = state;
    if (state === 'stopped') {
      const code = this.exitCode;
      label = code == null ? 'exited' : `exited (${code})`;
      cls += code ? ' failed' : ' clean';
      title = `The container exited${code == null ? '' : ` with code ${code}`}; new lines show if it starts again`;
    } else if (state === 'restarting') {
      const n = this.recentRestarts();
      title = `Restarting: ${n ? `${n} restart${n === 1 ? '' : 's'} in the last minute` : 'the engine will start it again'}${this.exitCode != null ? `; last exit code ${this.exitCode}` : ''}; live again once it has run ${SETTLE_MS / 1000} s without exiting`;
    } else if (state === 'live') title = 'Live: new lines appear as they are written';
    else if (state === 'reconnecting') title = 'Connection lost: reconnecting (resumes with no gap and no duplicate)';
    else if (detail) title = `${state}: ${detail}`;
    this.el.state.className = `state ${cls}`;
    this.el.state.textContent = label;
    this.el.state.title = title;
    if (info.final) {
      this.notices.refused = { state, detail, attempts: info.attempts };
      this.renderNotice();
      if (state === 'not found') this.suggestContainers();
    } else if (this.notices.refused && state === 'live') {
      this.notices.refused = null;
      this.renderNotice();
    }
    this.dispatchEvent(new CustomEvent('status', { detail: { state, detail, container: this.getAttribute('container'), group: this.getAttribute('group') }, bubbles: true, composed: true }));
  }

  /** An unknown container: containers with a name like it, on any engine (to open instead). */
  async suggestContainers() {
    const ref = (this.getAttribute('container') || '').toLowerCase();
    const notice = this.notices.refused;
    if (!ref || !notice) return;
    const base = new URL(this.getAttribute('server') || location.href);
    const token = this.getAttribute('token');
    const get = async (path) => {
      const u = new URL(path, base);
      if (token) u.searchParams.set('token', token);
      const r = await fetch(u, { cache: 'no-store' });
      return r.ok ? r.json() : null;
    };
    try {
      const [hosts, list] = await Promise.all([get('/api/hosts'), get('/api/containers?all=1')]);
      if (this.notices.refused !== notice) return;
      notice.hosts = (hosts || []).map((h) => h.name);
      notice.similar = (list || []).filter((c) => {
        const n = c.name.toLowerCase();
        return n.includes(ref) || ref.includes(n) || c.id.startsWith(ref);
      }).slice(0, 4);
      this.renderNotice();
    } catch { /* the notice stands without suggestions */ }
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
    const stream = m.stream === 'stderr' ? 'stderr' : 'stdout';
    this.dropPartial(stream);
    this.total++;
    if (this.detached) {
      // Newer lines were released from memory to keep what the user reads: count, do not keep.
      this.unseen++;
      this.schedule();
    } else {
      const plain = stripAnsi(m.line);
      const last = this.records.length ? this.records[this.records.length - 1] : null;
      if (this.markerWaiting && (!this.markerWaiting.member || this.markerWaiting.member.id === m.id)) this.stampMarker(m.ts);
      if (last && !last.marker && last.stream === stream && (last.member ? last.member.id : undefined) === (m.id || undefined)
          && continues(last, plain, m.ts)) {
        this.extendEntry(last, m.line, plain, m.ts);
        this.recordChars += m.line.length;
        if (this.filter && !last.match) {
          this.filter.lastIndex = 0;
          if (this.filter.test(plain)) { last.match = true; this.matchCount++; this.levelMatches[levelOf(last)]++; }
        }
        if (last.seq < this.hiSeq) this.dirty.add(last);
        this.schedule();
      } else {
        const r = { ts: m.ts, stream, text: m.line, plain, level: detectLevel(plain), seq: this.nextSeq++ };
        if (m.id) r.member = this.members.get(m.id, m.name);
        if (this.firstTs === null) this.firstTs = tsMillis(m.ts);
        this.count(r, 1);
        if (this.contexts.size) this.inContext(r);
        this.records.push(r);
        this.recordChars += m.line.length;
        this.trimRecords();
        if (this.detached) this.unseen++; else this.pending.push(r);
        // A background tab gets no animation frames: only the newest `maxLines` could ever be drawn,
        // so older pending entries go (they stay in the buffer for search and download).
        if (this.pending.length > this.maxLines * 1.25) {
          const extra = this.pending.length - this.maxLines;
          this.pending.splice(0, extra);
          this.skipped += extra;
        }
        this.schedule();
      }
    }
    const detail = { ts: m.ts, stream: m.stream, line: m.line };
    if (m.id) { detail.id = m.id; detail.name = m.name; }
    this.dispatchEvent(new CustomEvent('line', { detail, bubbles: true, composed: true }));
  }

  /** Adds a continuation line to an entry. */
  extendEntry(r, text, plain, ts) {
    if (!r.more) { r.more = []; r.head = r.plain; r.len = r.text.length; }
    r.more.push(text);
    r.plain += `\n${plain}`;
    r.len += text.length;
    r.lastMs = tsMillis(ts);
  }

  /** Counts an entry in (d = 1) or out (d = -1) of the level and match counters. */
  count(r, d) {
    if (r.marker) return;
    const level = levelOf(r);
    this.levelCounts[level] += d;
    if (d > 0) r.match = this.matches(r);
    if (r.match) { this.matchCount += d; this.levelMatches[level] += d; }
  }

  /**
   * Keeps the buffer within its entry and character budgets (amortised: trims in chunks).
   * Entries go from the end farther from what the user reads: the oldest, unless the user is
   * reading older entries and is nearer to the oldest end than to the newest; then the newest go
   * and the pane is "detached" from the live end (new lines are counted, and "load newer"
   * reopens the pane from the last line held).
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
    for (let i = 0; i < drop; i++) chars -= sizeOf(this.records[i]);
    while (chars > DocktailLog.maxBufferChars * 0.9 && drop < this.records.length - 1) chars -= sizeOf(this.records[drop++]);
    for (let i = 0; i < drop; i++) this.count(this.records[i], -1);
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
      chars -= sizeOf(r);
      this.count(r, -1);
    }
    if (keep === this.records.length) { this.dropOldest(); return; }
    this.records.length = keep;
    this.recordChars = chars;
    this.pending = this.pending.filter((r) => r.seq < this.endSeq);
    this.detached = true;
    if (this.records.length > maxLines * 1.1 || chars > DocktailLog.maxBufferChars) this.dropOldest();
  }

  /**
   * A lifecycle marker, with its time: the event's own when the server sends one; else, for an
   * event received live, the moment it arrived; for one replayed with history, the stamp of the
   * line next to it (`estimate`: the line before it for an end, the line after for a restart).
   */
  addMarker(text, member, { ts = null, kind = null, estimate = null } = {}) {
    if (this.detached) return;
    const r = { ts, stream: 'event', text, plain: text, level: null, marker: true, seq: this.nextSeq++, kind };
    if (!ts) {
      const live = this.subscribedAt && Date.now() - this.subscribedAt > REPLAY_MS;
      let before = null;
      if (estimate === 'before') {
        for (let i = this.records.length - 1; i >= 0 && i >= this.records.length - 1000; i--) {
          const x = this.records[i];
          if (!x.marker && (!member || x.member === member)) { before = x; break; }
        }
      }
      if (!live && before) { r.ts = before.ts; r.approx = 'the stamp of the line before it (the server sends no time with this event)'; }
      else {
        r.ts = new Date().toISOString();
        r.approx = 'when the pane received it (the server sends no time with this event)';
        if (estimate === 'after') this.markerWaiting = r;
      }
    }
    if (member) r.member = member;
    if (member && text.startsWith(member.name)) r.after = text.slice(member.name.length);
    this.records.push(r);
    this.pending.push(r);
    this.schedule();
  }

  /** A restart's time: the stamp of the first line of its run (the server puts the marker right before it). */
  stampMarker(ts) {
    const r = this.markerWaiting;
    this.markerWaiting = null;
    if (!r.approx) return;
    r.ts = ts;
    r.approx = 'the stamp of the first line after it (the server sends no time with this event)';
    if (r.seq < this.hiSeq) this.dirty.add(r);
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

  /** The element of record `seq`, when the window shows it. */
  rowAt(seq) {
    return seq >= this.loSeq && seq < this.hiSeq ? this.el.rows.children[seq - this.loSeq] || null : null;
  }

  /** The record an element of the window shows. */
  recordOf(row) {
    const i = Array.prototype.indexOf.call(this.el.rows.children, row);
    return i < 0 ? null : this.records[this.loSeq + i - this.baseSeq] || null;
  }

  /** Redraws one entry in place (it changed: a line joined, it opened or closed). */
  refreshRow(r) {
    const old = this.rowAt(r.seq);
    if (!old) return null;
    const row = this.lineElement(r);
    if (this.actions.parentNode === old) row.appendChild(this.actions);
    if (old.classList.contains('armed')) row.classList.add('armed');
    old.replaceWith(row);
    return row;
  }

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

  /** The window around record `seq` (not following), so that its element exists. */
  showAround(seq) {
    if (seq >= this.loSeq && seq < this.hiSeq) return;
    const lo = Math.max(this.baseSeq, Math.min(seq - Math.floor(this.maxLines / 2), this.endSeq - this.maxLines));
    this.rebuild(lo, Math.min(this.endSeq, lo + this.maxLines));
    this.renderOlder();
  }

  // MARK: rendering, batched per animation frame

  schedule() {
    if (this.frame) return;
    this.frame = requestAnimationFrame(() => { this.frame = 0; this.flush(); });
  }

  flush() {
    this.clock.tick();
    if (this.dirty.size) {
      for (const r of this.dirty) this.refreshRow(r);
      this.dirty.clear();
    }
    const batch = this.pending;
    this.pending = [];
    if (batch.length) {
      if (this.following) {
        // A burst: only the newest entries are worth drawing (the rest would be released before
        // anyone could see them); scrolling up brings older ones back from memory.
        if (batch.length > BURST_WINDOW) {
          const end = this.endSeq;
          this.rebuild(Math.max(this.baseSeq, end - Math.min(BURST_WINDOW, this.maxLines)), end);
          this.renderOlder();
        } else {
          this.showNewest();
        }
      } else {
        // Reading above: the window grows downwards up to its bound; later entries wait in memory
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
    if (this.following) this.setScrollTop(this.el.log.scrollHeight);
    if (!this.following || this.detached) this.showUnseen();
    if (this.grepMode && this.searchProgress.size && this.noticeTotal !== this.total) this.renderNotice();
    this.showCount();
    this.showLevelCounts();
    if (this.filter) this.showMatchCount();
    if (this.members.added) this.renderMembers(); // a line from a member not announced before
    if (this.target && !this.target.done) this.seekTarget();
  }

  showCount() {
    const text = `${this.total.toLocaleString()} line${this.total === 1 ? '' : 's'}`;
    if (this.el.count.textContent !== text) this.el.count.textContent = text;
  }

  showLevelCounts() {
    const c = this.levelCounts;
    const key = LEVELS.map((l) => c[l]).join(',');
    if (key === this.shownCounts) return;
    this.shownCounts = key;
    for (const l of LEVELS) {
      const chip = this.chips[l];
      const text = compact(c[l]);
      const n = chip.lastElementChild;
      if (n.textContent !== text) n.textContent = text;
      const shown = !this.hiddenLevels.has(l);
      const label = `${l === 'other' ? 'no level' : l}: ${c[l].toLocaleString()} entr${c[l] === 1 ? 'y' : 'ies'}, ${shown ? 'shown' : 'hidden'}`;
      chip.title = `${label}\nclick: ${shown ? 'hide' : 'show'} · shift+click: only this level`;
      chip.setAttribute('aria-label', label);
    }
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
    const mode = this.tsMode;
    if (r.marker) {
      div.className = `line event${r.kind ? ` ev-${r.kind}` : ''}${member ? ` ${member.cls}` : ''}`;
      if (mode !== 'off') {
        const ts = document.createElement('span');
        ts.className = 'ts';
        ts.textContent = `${r.approx ? '≈' : ''}${this.clock.format(r.ts, mode, this.firstTs)}`;
        div.appendChild(ts);
      }
      const text = document.createElement('span');
      text.className = 'mtext';
      if (member && r.after != null) {
        text.appendChild(document.createTextNode('— '));
        text.appendChild(this.memberLabel(member));
        text.appendChild(document.createTextNode(`${r.after} —`));
      } else {
        text.textContent = `— ${r.text} —`;
      }
      if (mode === 'off') text.appendChild(document.createTextNode(` ${r.approx ? '≈' : ''}${this.clock.format(r.ts, 'local')}`));
      div.appendChild(text);
      return div;
    }
    let cls = `line ${r.stream} lvl-${levelOf(r)}`;
    if (member) cls += ` ${member.cls}`;
    const matches = this.filter ? r.match : false;
    if (matches) cls += ' match';
    if (r.ctx) cls += ' ctx';
    if (r.seq === this.currentSeq) cls += ' current';
    if (r.target) cls += ' target';
    if (mode !== 'off') {
      const ts = document.createElement('span');
      ts.className = 'ts';
      ts.textContent = this.clock.format(r.ts, mode, this.firstTs);
      div.appendChild(ts);
    }
    if (member) div.appendChild(this.memberLabel(member));
    if (r.level) {
      const lvl = document.createElement('span');
      lvl.className = 'lvl';
      lvl.textContent = r.level;
      div.appendChild(lvl);
    }
    const highlight = matches ? this.filter : null;
    const text = document.createElement('span');
    text.className = 'text';
    div.appendChild(text);
    const json = r.partial ? null : this.jsonOf(r);
    if (json) {
      cls += ' jsonl';
      const open = r.open ?? this.jsonAll;
      renderJsonSummary(text, json, highlight);
      const toggle = document.createElement('button');
      toggle.type = 'button';
      toggle.className = 'json-toggle';
      toggle.textContent = '{ }';
      toggle.title = open ? 'Collapse this JSON entry' : 'Expand this JSON entry as a tree';
      toggle.setAttribute('aria-label', toggle.title);
      toggle.setAttribute('aria-expanded', String(open));
      div.appendChild(toggle);
      if (open) {
        cls += ' open';
        const pre = document.createElement('pre');
        pre.className = 'json';
        renderJsonTree(pre, json, highlight);
        div.appendChild(pre);
      }
    } else {
      renderAnsi(text, visibleText(r.text), highlight);
      if (r.more) { cls += ' multi'; this.renderMore(div, r, highlight); }
    }
    div.className = cls;
    return div;
  }

  /** The continuation lines of an entry: all of them, or a count when it is long and closed. */
  renderMore(div, r, highlight) {
    const n = r.more.length;
    const long = n + 1 > COLLAPSE_OVER;
    const open = !long || r.open;
    if (long) {
      const fold = document.createElement('button');
      fold.type = 'button';
      fold.className = 'fold';
      fold.setAttribute('aria-expanded', String(open));
      fold.textContent = open ? `▾ ${n + 1} lines` : `▸ +${n} lines`;
      fold.title = open ? 'Collapse this entry to its first line' : `Show the whole entry (${n + 1} lines)`;
      // A match hidden in the folded lines shows on the control.
      if (!open && highlight) {
        highlight.lastIndex = 0;
        if (!highlight.test(r.head ?? r.plain)) { fold.classList.add('has-match'); fold.title += ' · the match is inside'; }
      }
      div.appendChild(fold);
    }
    if (!open) return;
    const cont = document.createElement('div');
    cont.className = 'cont';
    for (const line of r.more) {
      const l = document.createElement('div');
      l.className = 'cl';
      renderAnsi(l, visibleText(line), highlight);
      cont.appendChild(l);
    }
    div.appendChild(cont);
  }

  memberLabel(member) {
    const span = document.createElement('span');
    span.className = `member mc-${member.colour}`;
    span.textContent = member.name;
    return span;
  }

  jsonOf(r) {
    const t = r.plain;
    const c = t.charCodeAt(0);
    if (c !== 123 /* { */) return null;
    return parseJsonLine(t);
  }

  /** Rebuilds the DOM window from memory (after a filter or display change). */
  rerender() {
    this.pending = [];
    this.dirty.clear();
    this.clock.tick();
    if (this.following) {
      this.rebuild(Math.max(this.baseSeq, this.endSeq - this.maxLines), this.endSeq);
      this.setScrollTop(this.el.log.scrollHeight);
    } else {
      const top = this.el.log.scrollTop;
      const lo = Math.min(Math.max(this.loSeq, this.baseSeq), this.endSeq);
      this.rebuild(lo, Math.min(Math.max(this.hiSeq, lo), this.endSeq, lo + this.maxLines));
      this.setScrollTop(top);
    }
    this.showMatchCount();
    this.renderOlder();
  }

  // MARK: a permalink's line

  /** The first entry at or after the linked moment (of its stream when given): shown, scrolled to, highlighted. */
  seekTarget() {
    const t = this.target;
    let found = null;
    for (let i = t.from || 0; i < this.records.length; i++) {
      const r = this.records[i];
      if (r.marker) continue;
      if (tsKey(r.ts) >= t.key && (!t.stream || r.stream === t.stream || tsKey(r.ts) > t.key)) { found = r; break; }
    }
    if (!found) { t.from = Math.max(0, this.records.length - 1); return; }
    t.done = true;
    t.seq = found.seq;
    found.target = true;
    this.showAround(found.seq);
    const row = this.refreshRow(found);
    if (row) {
      row.scrollIntoView({ block: 'center' });
      this.programmaticTop = this.el.log.scrollTop;
      this.lastTop = this.el.log.scrollTop;
      this.armRow(row);
    }
    // Lines before it, from the history API, without moving it.
    if (this.canPage) setTimeout(() => this.loadOlder(), 0);
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
    // The page's lines as entries (continuation lines join the entry before them).
    const recs = [];
    let chars = 0;
    for (const m of page.lines) {
      const stream = m.stream === 'stderr' ? 'stderr' : 'stdout';
      const plain = stripAnsi(m.line);
      chars += m.line.length;
      const last = recs[recs.length - 1];
      if (last && last.stream === stream && continues(last, plain, m.ts)) { this.extendEntry(last, m.line, plain, m.ts); continue; }
      recs.push({ ts: m.ts, stream, text: m.line, plain, level: detectLevel(plain) });
    }
    // A trace cut by where the pane began: its head is the page's last entry.
    const first = this.records[0];
    const tail = recs[recs.length - 1];
    if (tail && first && !first.marker && !first.member && tail.stream === first.stream && continues(tail, first.head ?? first.plain, first.ts)) {
      recs.pop();
      this.count(first, -1);
      const merged = tail;
      merged.more = (merged.more || []).concat([first.text], first.more || []);
      merged.head ??= merged.plain;
      merged.plain += `\n${first.plain}`;
      merged.len = (merged.len ?? merged.text.length) + sizeOf(first);
      merged.lastMs = first.lastMs ?? tsMillis(first.ts);
      merged.seq = first.seq;
      merged.open = first.open;
      merged.target = first.target;
      this.records[0] = merged;
      this.count(merged, 1);
      this.refreshRow(merged);
    }
    let seq = oldBase - recs.length;
    for (const r of recs) { r.seq = seq++; this.count(r, 1); }
    this.olderCursor = page.cursor;
    if (page.cursor === null || !page.lines.length) this.atStart = true;
    this.total += page.lines.length;
    if (recs.length) {
      this.records = recs.concat(this.records);
      this.recordChars += chars;
      // Over budget, the newest entries go (beyond the window): the user is reading back.
      this.trimRecords('newest');
      if (windowAtOldest) this.extendUp(recs.length);
      // A permalink's line, which had nothing above it to center with: centered now.
      const t = this.target;
      if (t?.done && !t.centered) {
        t.centered = true;
        const row = this.rowAt(t.seq);
        if (row) { row.scrollIntoView({ block: 'center' }); this.programmaticTop = this.el.log.scrollTop; this.lastTop = this.el.log.scrollTop; }
      }
    } else {
      this.recordChars += chars;
    }
    this.showCount();
    this.showLevelCounts();
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
    else if (this.loSeq > this.baseSeq) { state = 'memory'; text = `↑ ${(this.loSeq - this.baseSeq).toLocaleString()} older entries`; }
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
    b.type = 'button';
    b.className = 'older-button';
    b.textContent = text;
    b.addEventListener('click', () => this.nearTop(true));
    return b;
  }

  // MARK: levels

  /** The `levels` attribute (the levels shown, comma-separated; all when absent, none for "none"). */
  readLevels() {
    const v = this.getAttribute('levels');
    this.hiddenLevels = new Set();
    if (v != null && v.trim() !== '') {
      const shown = new Set(v.split(',').map((s) => s.trim().toLowerCase()));
      for (const l of LEVELS) if (!shown.has(l)) this.hiddenLevels.add(l);
    }
    this.applyLevels();
  }

  applyLevels() {
    for (const l of LEVELS) {
      this.el.log.classList.toggle(`hide-l-${l}`, this.hiddenLevels.has(l));
      this.chips[l].setAttribute('aria-pressed', String(!this.hiddenLevels.has(l)));
    }
    this.shownCounts = null;
    this.showLevelCounts();
    if (this.filter) this.showMatchCount();
    if (this.following) this.setScrollTop(this.el.log.scrollHeight);
  }

  /** A chip: shows or hides a level (shift: only that level, or all again). State goes to the `levels` attribute. */
  toggleLevel(level, solo) {
    const hidden = this.hiddenLevels;
    if (solo) {
      const alone = LEVELS.every((l) => l === level || hidden.has(l)) && !hidden.has(level);
      hidden.clear();
      if (!alone) for (const l of LEVELS) if (l !== level) hidden.add(l);
    } else if (hidden.has(level)) hidden.delete(level);
    else hidden.add(level);
    const shown = LEVELS.filter((l) => !hidden.has(l));
    const value = hidden.size === 0 ? null : shown.length ? shown.join(',') : 'none';
    // Reflected to the attribute (the page keeps it in its URL); applying it again changes nothing.
    if (value === null) this.removeAttribute('levels'); else this.setAttribute('levels', value);
    this.applyLevels();
    this.dispatchEvent(new CustomEvent('docktail-levels', { detail: { levels: value }, bubbles: true, composed: true }));
  }

  /** Whether an entry is shown by the level, stream and member switches (and "only matching"). */
  isShown(r, withOnly = true) {
    if (r.marker) return true;
    if (this.hiddenLevels.has(levelOf(r)) || this.hiddenStreams.has(r.stream)) return false;
    if (r.member && this.members.hidden.has(r.member.index)) return false;
    if (withOnly && this.onlyMatching && this.filter && !r.match && !r.ctx) return false;
    return true;
  }

  // MARK: search

  setFilter(text) {
    const search = this.el.search;
    search.classList.remove('invalid');
    search.removeAttribute('aria-invalid');
    this.notices.filter = null;
    this.currentSeq = null;
    this.clearContexts();
    if (!text) { this.filter = null; this.updateMatchCount(); this.rerender(); this.renderNotice(); return; }
    const m = /^\/(.+)\/([a-z]*)$/.exec(text);
    try {
      this.filter = m ? new RegExp(m[1], m[2].replace('g', '') + 'g') : new RegExp(text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'), 'gi');
    } catch (e) {
      // An invalid pattern clears the results (nothing highlighted, nothing hidden) and says why.
      this.filter = null;
      search.classList.add('invalid');
      search.setAttribute('aria-invalid', 'true');
      const why = String(e.message || e).replace(/^.*: /, '');
      this.notices.filter = { error: `Not a valid regular expression: ${why.charAt(0).toLowerCase()}${why.slice(1)}. Nothing is filtered.` };
      this.updateMatchCount();
      this.rerender();
      this.el.matches.textContent = 'invalid';
      this.renderNotice();
      return;
    }
    this.updateMatchCount();
    this.rerender();
    this.renderNotice();
  }

  matches(r) {
    if (!this.filter || r.marker) return false;
    this.filter.lastIndex = 0;
    return this.filter.test(r.plain);
  }

  /** Recounts once (a new filter); afterwards each new line updates the count. */
  updateMatchCount() {
    let n = 0;
    this.levelMatches = newCounts();
    for (const r of this.records) {
      r.match = this.matches(r);
      if (r.match) { n++; this.levelMatches[levelOf(r)]++; }
    }
    this.matchCount = n;
    this.showMatchCount();
  }

  /** Matches among the levels shown. */
  get visibleMatches() {
    let n = 0;
    for (const l of LEVELS) if (!this.hiddenLevels.has(l)) n += this.levelMatches[l];
    return n;
  }

  /** "12 matches", or "3 / 12" once Enter (or ↑ ↓) has stepped to one. */
  showMatchCount() {
    if (!this.filter) { if (!this.notices.filter) this.el.matches.textContent = ''; return; }
    const n = this.visibleMatches;
    let text = `${n.toLocaleString()} match${n === 1 ? '' : 'es'}`;
    const base = this.baseSeq;
    const current = this.currentSeq != null ? this.records[this.currentSeq - base] : null;
    if (current && current.match && this.isShown(current, false)) {
      let i = 0;
      for (let k = 0; k <= this.currentSeq - base; k++) { const r = this.records[k]; if (r.match && this.isShown(r, false)) i++; }
      text = `${i.toLocaleString()} / ${n.toLocaleString()}`;
    }
    if (this.el.matches.textContent !== text) this.el.matches.textContent = text;
  }

  /** The index in `records` of the first (or last) entry in view. */
  recordInView(last) {
    const rows = this.el.rows.children;
    if (!rows.length) return last ? this.records.length - 1 : 0;
    const log = this.el.log;
    const y = last ? log.scrollTop + log.clientHeight : log.scrollTop;
    let lo = 0;
    let hi = rows.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (rows[mid].offsetTop + rows[mid].offsetHeight <= y) lo = mid + 1; else hi = mid;
    }
    return this.loSeq + lo - this.baseSeq;
  }

  /** Enter / Shift+Enter: the next or previous match among all entries held (not just the window). */
  step(direction) {
    if (!this.filter) return;
    const recs = this.records;
    const n = recs.length;
    if (!n) return;
    const base = this.baseSeq;
    let i;
    if (this.currentSeq != null && this.currentSeq >= base && this.currentSeq < base + n) i = this.currentSeq - base;
    else i = direction > 0 ? this.recordInView(false) - 1 : this.recordInView(true) + 1;
    for (let k = 0; k < n; k++) {
      i = ((i + direction) % n + n) % n;
      const r = recs[i];
      if (r.match && this.isShown(r, false)) { this.goToMatch(r); return; }
    }
  }

  goToMatch(r) {
    this.setFollowing(false);
    const old = this.currentSeq != null ? this.rowAt(this.currentSeq) : null;
    this.currentSeq = r.seq;
    if (old) { old.classList.remove('current'); old.querySelector('mark.current')?.classList.remove('current'); }
    // A match inside a folded entry opens it.
    if (r.more && r.more.length + 1 > COLLAPSE_OVER && !r.open) {
      this.filter.lastIndex = 0;
      if (!this.filter.test(r.head ?? r.plain)) r.open = true;
    }
    this.showAround(r.seq);
    const row = this.refreshRow(r);
    if (row) {
      row.querySelector('mark')?.classList.add('current');
      row.scrollIntoView({ block: 'center' });
      this.armRow(row);
    }
    this.showMatchCount();
  }

  // MARK: show context

  /** Shows (or hides again) the entries around a match while "only matching" hides the rest. */
  toggleContext(r) {
    const on = !this.contexts.has(r.seq);
    if (on) this.contexts.add(r.seq); else this.contexts.delete(r.seq);
    const base = this.baseSeq;
    const anchorRow = this.rowAt(r.seq);
    const before = anchorRow ? anchorRow.offsetTop - this.el.log.scrollTop : 0;
    for (let s = r.seq - CONTEXT; s <= r.seq + CONTEXT; s++) {
      const x = this.records[s - base];
      if (!x || x === r || x.marker) continue;
      x.ctx = Math.max(0, (x.ctx || 0) + (on ? 1 : -1));
      this.rowAt(s)?.classList.toggle('ctx', x.ctx > 0);
    }
    r.ctxAnchor = on;
    this.syncActions();
    // The match stays where it was on screen.
    if (anchorRow) this.setScrollTop(anchorRow.offsetTop - before);
  }

  /** A new entry within the context of a match shown with "show context". */
  inContext(r) {
    for (const s of this.contexts) if (r.seq - s <= CONTEXT && r.seq > s) r.ctx = (r.ctx || 0) + 1;
  }

  clearContexts() {
    if (!this.contexts.size) return;
    const base = this.baseSeq;
    for (const s of this.contexts) {
      for (let k = s - CONTEXT; k <= s + CONTEXT; k++) {
        const x = this.records[k - base];
        if (x) { x.ctx = 0; x.ctxAnchor = false; }
      }
    }
    this.contexts.clear();
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
    this.target = null;
    this.setFollowing(false, true);
    this.restart();
  }

  /** Back to the newest lines, following (leaves a jump; a search stays). */
  goLive() {
    this.jump = null;
    this.target = null;
    this.setFollowing(true, true);
    this.restart();
  }

  openJumpBar(open) {
    const el = this.el;
    el.jumpBar.hidden = !open;
    el.jumpBtn.setAttribute('aria-expanded', String(open));
    if (!open) return;
    // Prefilled with the first entry in view, so "a little earlier" is one edit away.
    const first = this.records[this.recordInView(false)];
    if (!el.jumpAt.value && first?.ts) el.jumpAt.value = toLocalInput(first.ts);
    el.jumpZone.textContent = `local time, ${offsetLabel()}${zoneName() ? ` (${zoneName()})` : ''}`;
    el.jumpAt.focus();
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
        b.type = 'button';
        b.className = `${cls.split(' ')[0]}-close`;
        b.textContent = button;
        b.addEventListener('click', onClick);
        span.appendChild(document.createTextNode(' '));
        span.appendChild(b);
      }
      n.appendChild(span);
      return span;
    };
    if (this.jump) {
      const what = this.jump.linked ? `linked line at ${shortTime(this.jump.linked)}` : `from ${shortTime(this.jump.since)}${this.jump.until ? ` until ${shortTime(this.jump.until)}` : ''}`;
      item('jump-info', what, 'back to live', () => this.goLive());
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
    const f = this.notices.filter;
    if (f?.error) item('filter-error error', f.error);
    const refused = this.notices.refused;
    if (refused) this.renderRefusal(refused, item);
    n.hidden = !n.firstChild;
  }

  /** Why the pane shows nothing, what to check, and that it stopped retrying (with a retry). */
  renderRefusal(r, item) {
    const ref = this.getAttribute('container');
    const host = this.getAttribute('host');
    let text;
    if (r.state === 'not found') {
      const engines = r.hosts?.length ? `; engines: ${r.hosts.join(', ')}` : '';
      text = ref
        ? `No container “${ref}”${host ? ` on engine “${host}”` : ' on the default engine'}. Check the name (or an id prefix, as docker ps -a shows it), the engine (host=NAME${engines}), and docktail's visibility rules (visibility.labels, visibility.names: a hidden container looks unknown).`
        : `No such group. Check its kind and name.`;
    } else {
      text = 'Access refused: this pane needs a valid token (the token attribute, or ?token= in the page URL).';
    }
    const span = item('refused error', `${text} Stopped after ${r.attempts} attempt${r.attempts === 1 ? '' : 's'}.`, 'retry', () => {
      this.notices.refused = null;
      this.restart();
    });
    for (const c of r.similar || []) {
      const b = document.createElement('button');
      b.type = 'button';
      b.className = 'suggestion';
      b.textContent = `open ${c.name}${r.hosts?.length > 1 ? ` on ${c.host}` : ''}`;
      b.title = `${c.name} · ${c.id.slice(0, 12)} · ${c.host} · ${c.state}`;
      b.addEventListener('click', () => {
        this.notices.refused = null;
        if (c.host && c.host !== this.getAttribute('host')) this.setAttribute('host', c.host);
        this.setAttribute('container', c.name);
      });
      span.appendChild(document.createTextNode(' '));
      span.appendChild(b);
    }
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
      chip.type = 'button';
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

  // MARK: per-entry actions (copy, permalink, context)

  makeActions() {
    const box = document.createElement('span');
    box.className = 'actions';
    const make = (act, ic, label) => {
      const b = document.createElement('button');
      b.type = 'button';
      b.className = `act act-${act}`;
      b.dataset.act = act;
      b.title = label;
      b.setAttribute('aria-label', label);
      b.appendChild(iconElement(ic));
      box.appendChild(b);
      return b;
    };
    make('copy', 'copy', 'Copy this entry');
    make('link', 'link', 'Copy a link to this entry (opens the viewer scrolled to it)');
    make('context', 'context', `Show the ${CONTEXT} entries before and after`);
    return box;
  }

  /** The context button's state for the entry the actions sit on. */
  syncActions() {
    const row = this.actions.parentNode;
    const r = row && this.recordOf(row);
    const b = this.actions.querySelector('.act-context');
    const on = Boolean(r?.ctxAnchor);
    b.setAttribute('aria-pressed', String(on));
    const label = on ? 'Hide the context again' : `Show the ${CONTEXT} entries before and after`;
    b.title = label;
    b.setAttribute('aria-label', label);
  }

  /** The actions on an entry's row (hover, focus, a tap, the current match). */
  armRow(row) {
    if (!row || row.parentNode !== this.el.rows || row.classList.contains('event') || this.actions.parentNode === row) return;
    row.appendChild(this.actions);
    this.syncActions();
  }

  /** An absolute link to the viewer at this entry: /logs/NAME?host=H#t=STAMP[&s=stderr]. */
  permalink(r) {
    const base = new URL(this.getAttribute('server') || location.href);
    let name;
    let host;
    if (r.member) { name = r.member.name; host = r.member.host; }
    else { name = this.subscribed?.name || this.getAttribute('container'); host = this.subscribed?.host || this.getAttribute('host'); }
    const u = new URL(`/logs/${encodeURIComponent(name)}`, base);
    if (host) u.searchParams.set('host', host);
    u.hash = `t=${r.ts}${r.stream === 'stderr' ? '&s=stderr' : ''}`;
    return u.toString();
  }

  async writeClipboard(text) {
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
  }

  /** Feedback on a control that copied: a check mark for a moment, and its label says so. */
  flash(button, label) {
    const old = button.getAttribute('aria-label');
    button.classList.add('done');
    button.setAttribute('aria-label', label);
    button.title = label;
    clearTimeout(button.flashTimer);
    button.flashTimer = setTimeout(() => {
      button.classList.remove('done');
      button.setAttribute('aria-label', old);
      button.title = old;
    }, 1200);
  }

  async entryAction(act, button) {
    const row = this.actions.parentNode;
    const r = row && this.recordOf(row);
    if (!r) return;
    if (act === 'copy') {
      await this.writeClipboard(r.plain);
      this.flash(button, 'Copied');
    } else if (act === 'link') {
      await this.writeClipboard(this.permalink(r));
      this.flash(button, 'Link copied');
    } else if (act === 'context') {
      this.toggleContext(r);
    }
  }

  /** A click on an entry's own control: `{ }` (JSON tree) or the fold of a multi-line entry. */
  toggleOpen(row, control) {
    const r = this.recordOf(row);
    if (!r) return;
    const json = control.classList.contains('json-toggle');
    const open = json ? (r.open ?? this.jsonAll) : Boolean(r.open);
    r.open = !open;
    const fresh = this.refreshRow(r);
    fresh?.querySelector(json ? '.json-toggle' : '.fold')?.focus({ preventScroll: true });
    if (this.following) this.setScrollTop(this.el.log.scrollHeight);
  }

  // MARK: pane controls

  /** Maximise: the page may lay panes out (`docktail-maximize`); else the pane covers the window. */
  toggleMaximize() {
    const before = this.getAttribute('maximized');
    const ev = new CustomEvent('docktail-maximize', { detail: { maximized: before === null }, bubbles: true, composed: true, cancelable: true });
    const go = this.dispatchEvent(ev);
    if (!go || this.getAttribute('maximized') !== before) return; // the page handled it
    if (before === null) this.setAttribute('maximized', 'overlay'); else this.removeAttribute('maximized');
  }

  /** Close: the page removes the pane from its layout (`docktail-close`); else the pane removes itself. */
  closePane() {
    const go = this.dispatchEvent(new CustomEvent('docktail-close', { bubbles: true, composed: true, cancelable: true }));
    if (go) setTimeout(() => { if (this.isConnected) this.remove(); }, 0);
  }

  setMenu(open) {
    if (open === (this.el.more.getAttribute('aria-expanded') === 'true')) return;
    this.el.more.setAttribute('aria-expanded', String(open));
    this.el.bar.classList.toggle('expanded', open);
    // A phone-sized pane has no room for the level chips in its toolbar: the menu holds them.
    const levels = this.el.levels;
    if (open && this.getBoundingClientRect().width <= 480) this.el.extra.prepend(levels);
    else if (!open && levels.parentNode !== this.el.bar) this.el.bar.insertBefore(levels, this.el.bar.querySelector('.spacer'));
  }

  // MARK: actions

  clearView(all) {
    this.el.rows.textContent = '';
    this.el.partials.textContent = '';
    this.partialRows = {};
    this.records = [];
    this.recordChars = 0;
    this.pending = [];
    this.dirty.clear();
    this.matchCount = 0;
    this.levelCounts = newCounts();
    this.levelMatches = newCounts();
    this.contexts.clear();
    this.currentSeq = null;
    this.markerWaiting = null;
    this.loSeq = this.hiSeq = this.nextSeq;
    this.unseen = 0;
    this.total = 0;
    this.el.newlines.hidden = true;
    if (all) { this.firstTs = null; }
    else { this.olderAbort?.abort(); this.generation++; this.loadingOlder = false; this.cleared = true; this.detached = false; }
    this.showCount();
    this.showLevelCounts();
    this.updateMatchCount();
    this.renderOlder();
  }

  /** The entries as text: `STAMP O|E [member] text` (a multi-line entry's further lines as written). `shown`: only what the filters show. */
  logText(shown = false) {
    const out = [];
    for (const r of this.records) {
      if (r.marker || (shown && !this.isShown(r))) continue;
      out.push(`${r.ts} ${r.stream === 'stderr' ? 'E' : 'O'} ${r.member ? `[${r.member.name}] ` : ''}${r.plain}`);
    }
    return `${out.join('\n')}\n`;
  }

  async copy() {
    await this.writeClipboard(this.logText(true));
    this.flash(this.el.copy, 'Copied');
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
    const href = URL.createObjectURL(new Blob([this.logText(true)], { type: 'text/plain' }));
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

  /**
   * Keyboard: `/` search, End or `f` follow, Esc clears the search and "only matching" (then
   * closes the menu, the jump bar, a maximised overlay), Enter / Shift+Enter step through
   * matches, Ctrl+Enter searches the history.
   */
  handleKey(e) {
    const path = e.composedPath();
    const inSearch = path.includes(this.el.search);
    if (e.key === 'Escape') {
      const active = this.el.search.value || this.filter || this.onlyMatching || this.notices.filter;
      if (active || inSearch) {
        this.el.search.value = '';
        if (this.onlyMatching) { this.el.only.setAttribute('aria-pressed', 'false'); this.el.log.classList.remove('only-matches'); }
        this.setFilter('');
        this.el.log.focus();
      } else if (this.el.more.getAttribute('aria-expanded') === 'true') { this.setMenu(false); this.el.more.focus(); }
      else if (!this.el.jumpBar.hidden) this.openJumpBar(false);
      else if (this.getAttribute('maximized') === 'overlay') this.removeAttribute('maximized');
      else return false;
      e.preventDefault();
      return true;
    }
    if (inSearch) {
      if (e.key === 'Enter' && (e.ctrlKey || e.metaKey)) { this.searchHistory(); e.preventDefault(); return true; }
      if (e.key === 'Enter') {
        // A filter typed a moment ago applies first.
        if (this.pendingFilter) { clearTimeout(this.pendingFilter); this.pendingFilter = 0; this.setFilter(this.el.search.value); }
        this.step(e.shiftKey ? -1 : 1);
        e.preventDefault();
        return true;
      }
      return false;
    }
    if (path.some((n) => n instanceof HTMLInputElement || n instanceof HTMLSelectElement)) return false;
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
    el.search.addEventListener('input', () => {
      clearTimeout(this.pendingFilter);
      this.pendingFilter = setTimeout(() => { this.pendingFilter = 0; this.setFilter(el.search.value); }, 120);
    });
    el.next.addEventListener('click', () => this.step(1));
    el.prev.addEventListener('click', () => this.step(-1));
    el.grep.addEventListener('click', () => this.searchHistory());
    const toggle = (btn, fn) => btn.addEventListener('click', () => {
      const on = btn.getAttribute('aria-pressed') !== 'true';
      btn.setAttribute('aria-pressed', String(on));
      fn(on);
    });
    toggle(el.only, (on) => {
      el.log.classList.toggle('only-matches', on);
      if (this.following) this.setScrollTop(el.log.scrollHeight);
    });
    toggle(el.wrap, (on) => el.log.classList.toggle('nowrap', !on));
    const streams = (name, on) => {
      if (on) this.hiddenStreams.delete(name); else this.hiddenStreams.add(name);
      el.log.classList.toggle(`hide-${name}`, !on);
      if (this.filter) this.showMatchCount();
    };
    toggle(el.out, (on) => streams('stdout', on));
    toggle(el.err, (on) => streams('stderr', on));
    toggle(el.json, (on) => {
      this.jsonAll = on;
      for (const r of this.records) if (!r.more) delete r.open; // the pane-wide choice applies to every JSON entry again
      this.rerender();
    });
    for (const chip of Object.values(this.chips)) chip.addEventListener('click', (e) => this.toggleLevel(chip.dataset.level, e.shiftKey));
    el.follow.addEventListener('click', () => this.setFollowing(!this.following));
    el.tsmode.addEventListener('change', () => this.applyTsMode());
    el.clear.addEventListener('click', () => this.clearView(false));
    el.copy.addEventListener('click', () => this.copy());
    el.download.addEventListener('click', () => this.download());
    el.downloadAll.addEventListener('click', () => this.downloadAll());
    el.jumpBtn.addEventListener('click', () => { this.setMenu(false); this.openJumpBar(el.jumpBar.hidden); });
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
    el.more.addEventListener('click', () => this.setMenu(el.more.getAttribute('aria-expanded') !== 'true'));
    el.maximize.addEventListener('click', () => this.toggleMaximize());
    el.close.addEventListener('click', () => this.closePane());
    el.log.addEventListener('scroll', () => this.onScroll(), { passive: true });
    // At the very top a wheel turn moves nothing, so no scroll event comes: ask for older lines.
    el.log.addEventListener('wheel', (e) => { if (e.deltaY < 0 && el.log.scrollTop === 0) this.nearTop(); }, { passive: true });
    // Entries: one listener for all of them (no per-line handlers on the hot path).
    el.rows.addEventListener('pointerover', (e) => {
      const row = e.target.closest?.('.line');
      if (!row) return;
      this.armRow(row);
      // The full moment (date, nanoseconds, UTC offset) is written on first hover only.
      const ts = e.target.closest('.ts');
      if (ts && !ts.title) {
        const r = this.recordOf(row);
        if (r) ts.title = `${fullTime(r.ts)}${r.approx ? `\n≈ ${r.approx}` : ''}`;
      }
    });
    el.rows.addEventListener('focusin', (e) => this.armRow(e.target.closest?.('.line')));
    el.rows.addEventListener('click', (e) => {
      const row = e.target.closest?.('.line');
      if (!row) return;
      const control = e.target.closest('button');
      if (control?.dataset.act) { this.entryAction(control.dataset.act, control); return; }
      if (control && (control.classList.contains('json-toggle') || control.classList.contains('fold'))) { this.toggleOpen(row, control); return; }
      if (!control && !String(getSelection?.() || '')) {
        // A tap (touch screens have no hover): this entry's actions stay visible.
        this.el.rows.querySelector('.line.armed')?.classList.remove('armed');
        row.classList.add('armed');
        this.armRow(row);
      }
    });
    this.shadowRoot.addEventListener('keydown', (e) => { if (this.handleKey(e)) e.stopPropagation(); });
  }
}

if (!customElements.get('docktail-log')) customElements.define('docktail-log', DocktailLog);
