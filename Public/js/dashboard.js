// The dashboard, /: containers of every engine, grouped by compose project, stack, Swarm service
// and engine, kept current from /events in place, and the panes of the ticked containers and the
// groups being tailed. The layout lives in the URL, readable: ?c=host/name,…&g=kind/name,…
//
// The list is kept, not rebuilt: each container has one row element for as long as it exists
// and each section one element; an engine event changes the fields it concerns, and folding or
// filtering takes the same elements out and puts them back. Focus, ticks, the scroll position
// and a half-finished click survive a container that restarts every second.
import '../docktail-log.js';
import { initTheme } from './theme.js';
import { readList, writeLists } from './layout-url.js';
import { exactly, intervalBefore, parseStatus, parseTime, refine, timeCell } from './container-time.js';
import { PaneGrid } from './pane-grid.js';

const $ = (id) => document.getElementById(id);
const list = $('containers');
const filterBox = $('filter');
const allBox = $('all');

const PROJECT = 'com.docker.compose.project';
const STACK = 'com.docker.stack.namespace';
const SERVICE = 'com.docker.swarm.service.name';
const KIND_ORDER = { project: 0, stack: 1, service: 2, host: 3 };
const STATE_ORDER = ['running', 'restarting', 'paused', 'created', 'exited', 'dead', 'removing'];
const KIND_TITLES = { project: 'compose project', stack: 'Swarm stack', service: 'Swarm service', host: 'engine' };
/** How often the time column is recomputed (from the start and stop times it knows). */
const TICK_MS = 30000;
/** A container that had an event this recently is kept even if a list fetched meanwhile misses it (a flapping one). */
const GRACE_MS = 5000;

const phone = matchMedia('(max-width: 700px)');
const idOf = (host, id) => `${host}\u0000${id}`;
const nameKey = (c) => `${c.host}/${c.name}`;

// MARK: the layout (in memory, written to the URL)

const layout = { c: readList(location.search, 'c'), g: readList(location.search, 'g') };

function writeUrl() {
  const search = writeLists(location.search, { c: layout.c, g: layout.g });
  const url = `${location.pathname}${search}${location.hash}`;
  if (url !== `${location.pathname}${location.search}${location.hash}`) history.replaceState(history.state, '', url);
}

function setLayout(change) {
  if (change.c) layout.c = [...new Set(change.c)];
  if (change.g) layout.g = [...new Set(change.g)];
  writeUrl();
  renderPanes();
  refreshMarks();
}

// MARK: the model

const model = new Map();     // idOf(host, id) → container record
let services = [];           // /api/groups: Swarm services with their replica counts
let hosts = [];

/**
 * A container from /api/containers (or /api/containers/{ref}) fetched at `at`, merged into what
 * is known. `eventAfter`: an event about it came after this answer was asked for, so its state
 * and times are newer than the answer's.
 */
function upsert(raw, at, eventAfter = false) {
  const key = idOf(raw.host, raw.id);
  const prev = model.get(key);
  const c = prev || { key, touched: -Infinity };
  c.id = raw.id;
  c.host = raw.host;
  c.image = raw.image;
  c.created = raw.created;
  c.labels = raw.labels || {};
  c.ports = raw.ports || [];
  c.tty = raw.tty;
  if (prev && eventAfter) { model.set(key, c); return c; }
  c.name = raw.name;
  c.state = raw.state;
  c.status = raw.status;
  const s = parseStatus(raw.status);
  c.health = s.health || null;
  if (s.exitCode != null) c.exitCode = s.exitCode;
  // Exact times when the server gives them; else the status text's estimate, refined.
  const started = parseTime(raw.startedAt);
  const finished = parseTime(raw.finishedAt);
  if (started) c.started = exactly(started);
  else if (s.up) c.started = refine(c.started, intervalBefore(at, s.up));
  if (finished && raw.state !== 'running') c.stopped = exactly(finished);
  else if (s.ago) c.stopped = refine(c.stopped, intervalBefore(at, s.ago));
  if (raw.exitCode != null && raw.state !== 'running') c.exitCode = raw.exitCode;
  model.set(key, c);
  return c;
}

/** One engine event (`/events`), applied to the container it names. */
function applyEvent(e) {
  if (e.type !== 'container' || !e.id) return;
  const key = idOf(e.host, e.id);
  const c = model.get(key);
  const t = parseTime(e.time) ?? Date.now();
  if (e.action === 'destroy') { model.delete(key); scheduleRender(); return; }
  if (!c) {
    // Events that come while its record is being fetched are applied to the record, in order.
    if (fetching.has(key)) fetching.get(key).push(e);
    else if (['create', 'start', 'unpause', 'rename'].includes(e.action)) fetchOne(e);
    return;
  }
  c.touched = performance.now();
  switch (e.action) {
    case 'start':
      c.state = 'running';
      c.started = exactly(t);
      c.health = null;
      c.status = '';
      break;
    case 'die':
      c.state = 'exited';
      c.stopped = exactly(t);
      if (e.exitCode != null) c.exitCode = e.exitCode;
      c.health = null;
      c.status = '';
      break;
    case 'pause': c.state = 'paused'; c.status = ''; break;
    case 'unpause': c.state = 'running'; c.status = ''; break;
    case 'rename': if (e.name) c.name = e.name; break;
    default: break;
  }
  scheduleRender();
}

const fetching = new Map();  // container key → the events that came while its record was asked for
/** A container the list does not know yet (created or started since): its record, labels and all. */
async function fetchOne(e) {
  const key = idOf(e.host, e.id);
  fetching.set(key, [e]);
  try {
    const r = await fetch(`/api/containers/${encodeURIComponent(e.id)}?host=${encodeURIComponent(e.host)}`, { cache: 'no-store' });
    if (!r.ok) return;
    const raw = await r.json();
    raw.host ||= e.host;
    const events = fetching.get(key);
    fetching.delete(key);
    if (!model.has(key)) {
      // Listed without "stopped too" only while it runs (as `docker ps`).
      if (!allBox.checked && !['running', 'restarting', 'paused'].includes(raw.state)) return;
      upsert(raw, Date.now());
    }
    // The record may be older than some of these (it says "created" after a start): they come after it.
    for (const ev of events) applyEvent(ev);
    scheduleRender();
  } catch { /* the next sync lists it */ } finally {
    fetching.delete(key);
  }
}

// MARK: syncing with /api/containers (on connect, after events, every minute)

let syncing = null;
let syncAgain = false;
let syncTimer = 0;
let syncFirstAsked = 0;

async function sync() {
  if (syncing) { syncAgain = true; return; }
  const asked = performance.now();
  syncing = (async () => {
    try {
      const r = await fetch(`/api/containers${allBox.checked ? '?all=1' : ''}`, { cache: 'no-store' });
      if (!r.ok) throw new Error((await r.json().catch(() => ({}))).error || r.statusText);
      const listed = await r.json();
      const at = Date.now();
      const seen = new Set();
      let kept = false;
      for (const raw of listed) {
        const key = idOf(raw.host, raw.id);
        seen.add(key);
        upsert(raw, at, (model.get(key)?.touched ?? -Infinity) > asked);
      }
      for (const [key, c] of model) {
        if (seen.has(key)) continue;
        if (performance.now() - c.touched < GRACE_MS) { kept = true; continue; }
        model.delete(key);
      }
      if (kept) scheduleSync(GRACE_MS + 500);
      $('error').hidden = true;
    } catch (e) {
      $('error').hidden = false;
      $('error').textContent = `Cannot list containers: ${e.message}`;
    }
    try {
      const r = await fetch('/api/groups', { cache: 'no-store' });
      if (r.ok) services = (await r.json()).filter((g) => g.kind === 'service');
    } catch { /* services are extra: the list stands without them */ }
    render();
  })();
  await syncing;
  syncing = null;
  if (syncAgain) { syncAgain = false; sync(); }
}

/** A sync soon after events (trailing, but at least every 3 s while events keep coming). */
function scheduleSync(delay = 800) {
  const now = performance.now();
  if (!syncTimer) syncFirstAsked = now;
  clearTimeout(syncTimer);
  const wait = Math.max(0, Math.min(delay, syncFirstAsked + 3000 - now));
  syncTimer = setTimeout(() => { syncTimer = 0; sync(); }, wait);
}

let renderQueued = false;
function scheduleRender() {
  if (renderQueued) return;
  renderQueued = true;
  queueMicrotask(() => { renderQueued = false; render(); });
}

// MARK: the list view (kept elements)

const rowViews = new Map();      // container key → row view
const sectionViews = new Map();  // 'kind/name' → section view
const collapsed = new Set((() => {
  try { return JSON.parse(localStorage.getItem('docktail-collapsed') || '[]'); } catch { return []; }
})());

/** The section a container is listed in: its compose project, stack or service, else its engine. */
function sectionOf(c) {
  const labels = c.labels || {};
  if (labels[PROJECT]) return { kind: 'project', name: labels[PROJECT] };
  if (labels[STACK]) return { kind: 'stack', name: labels[STACK] };
  if (labels[SERVICE]) return { kind: 'service', name: labels[SERVICE] };
  return { kind: 'host', name: c.host };
}

/** "3 running · 1 exited" */
function stateSummary(members) {
  const counts = new Map();
  for (const c of members) counts.set(c.state, (counts.get(c.state) || 0) + 1);
  const order = [...counts.keys()].sort((a, b) => {
    const x = STATE_ORDER.indexOf(a);
    const y = STATE_ORDER.indexOf(b);
    return (x < 0 ? 99 : x) - (y < 0 ? 99 : y) || a.localeCompare(b);
  });
  return order.map((s) => `${counts.get(s)} ${s}`).join(' · ');
}

const setText = (el, text) => { if (el.textContent !== text) el.textContent = text; };
const setAttr = (el, name, value) => { if (el.getAttribute(name) !== value) el.setAttribute(name, value); };

/** Makes `parent`'s children exactly `wanted`, in order, moving only what is out of place. */
function reconcile(parent, wanted) {
  const keep = new Set(wanted);
  for (const child of [...parent.children]) if (!keep.has(child)) child.remove();
  wanted.forEach((el, i) => { if (parent.children[i] !== el) parent.insertBefore(el, parent.children[i] || null); });
}

/** Where a published port answers: the binding's address, or this page's host for 0.0.0.0/::. */
function portHost(ip) {
  if (!ip || ip === '0.0.0.0' || ip === '::') return location.hostname;
  return ip.includes(':') ? `[${ip}]` : ip;
}

/** Links to the published TCP ports (http://HOST:PUBLIC/), one per address; UDP ones as text. */
function portLinks(c) {
  const box = document.createElement('span');
  box.className = 'ports';
  const seen = new Set();
  for (const p of c.ports || []) {
    if (p.public == null) continue;
    const type = p.type || 'tcp';
    if (type === 'tcp') {
      const href = `http://${portHost(p.ip)}:${p.public}/`;
      if (seen.has(href)) continue;
      seen.add(href);
      const a = document.createElement('a');
      a.className = 'port';
      a.href = href;
      a.target = '_blank';
      a.rel = 'noopener noreferrer';
      const unspecified = !p.ip || p.ip === '0.0.0.0' || p.ip === '::';
      a.textContent = `${unspecified ? '' : portHost(p.ip)}:${p.public}`;
      a.title = `${href} → container port ${p.private}/${type}`;
      box.appendChild(a);
    } else {
      const key = `${p.ip}:${p.public}/${type}`;
      if (seen.has(key)) continue;
      seen.add(key);
      const span = document.createElement('span');
      span.className = 'port other';
      span.textContent = `${p.public}/${type}`;
      span.title = `${portHost(p.ip)}:${p.public}/${type} → container port ${p.private}/${type}`;
      box.appendChild(span);
    }
  }
  return box.childElementCount ? box : null;
}

function td(cls, child) {
  const cell = document.createElement('td');
  cell.className = cls;
  if (child) cell.appendChild(child);
  return cell;
}

function rowView(c) {
  const v = { key: c.key };
  v.tr = document.createElement('tr');
  const box = document.createElement('label');
  box.className = 'pickbox';
  v.pick = document.createElement('input');
  v.pick.type = 'checkbox';
  v.pick.addEventListener('change', () => {
    const c2 = model.get(v.key);
    if (!c2) return;
    const k = nameKey(c2);
    const now = layout.c.filter((x) => x !== k);
    if (v.pick.checked) now.push(k);
    setLayout({ c: now });
  });
  box.appendChild(v.pick);
  v.nameBox = document.createElement('div');
  v.nameBox.className = 'namebox';
  v.link = document.createElement('a');
  v.link.className = 'cname';
  // On a phone the name opens the pane in the drawer; elsewhere it is the container's own page.
  v.link.addEventListener('click', (e) => {
    if (!phone.matches || e.ctrlKey || e.metaKey || e.shiftKey || e.button !== 0) return;
    const c2 = model.get(v.key);
    if (!c2) return;
    e.preventDefault();
    const k = nameKey(c2);
    if (!layout.c.includes(k)) setLayout({ c: [...layout.c, k] });
    panes.openDrawer(`c:${k}`);
  });
  v.nameBox.appendChild(v.link);
  v.badge = document.createElement('span');
  v.time = td('status');
  v.image = td('image');
  v.tr.append(td('pick', box), td('name', v.nameBox), v.image, td('state', v.badge), v.time);
  updateRow(v, c);
  return v;
}

function updateRow(v, c) {
  const { tr } = v;
  if (tr.dataset.name !== c.name) tr.dataset.name = c.name;
  if (tr.dataset.host !== c.host) tr.dataset.host = c.host;
  const href = `/logs/${encodeURIComponent(c.name)}?host=${encodeURIComponent(c.host)}`;
  if (v.link.getAttribute('href') !== href) v.link.setAttribute('href', href);
  setText(v.link, c.name);
  const hostNote = hosts.length > 1 ? ` on ${c.host}` : '';
  setAttr(v.link, 'title', `${c.name}${hostNote}`);
  setAttr(v.pick, 'aria-label', `tail ${c.name}`);
  const portsSig = JSON.stringify(c.ports || []);
  if (v.portsSig !== portsSig) {
    v.portsSig = portsSig;
    v.nameBox.querySelector('.ports')?.remove();
    const ports = portLinks(c);
    if (ports) v.nameBox.appendChild(ports);
  }
  setText(v.image, c.image);
  setAttr(v.image, 'title', c.image);
  setAttr(v.badge, 'class', `badge ${c.state}`);
  setText(v.badge, c.state);
  updateTime(v, c, Date.now());
  const picked = layout.c.includes(nameKey(c));
  if (v.pick.checked !== picked) v.pick.checked = picked;
}

function updateTime(v, c, now) {
  const t = timeCell(c, now);
  setText(v.time, t.text);
  setAttr(v.time, 'title', t.title);
  setAttr(v.time, 'class', `status${t.cls ? ` ${t.cls}` : ''}`);
}

function colgroup() {
  const cg = document.createElement('colgroup');
  for (const cls of ['pick', 'name', 'image', 'state', 'status']) {
    const col = document.createElement('col');
    col.className = `col-${cls}`;
    cg.appendChild(col);
  }
  return cg;
}

function headButton(cls, text) {
  const b = document.createElement('button');
  b.type = 'button';
  b.className = cls;
  b.textContent = text;
  return b;
}

/** "replicas 2/3" (running tasks of the wanted replicas; global services have no count). */
function replicasText(g) {
  return g.replicas != null ? `replicas ${g.running}/${g.replicas}` : `global · ${g.running} running`;
}

function sectionView(kind, name) {
  const id = `${kind}/${name}`;
  const v = { id, kind, name };
  v.el = document.createElement('section');
  v.el.className = `group kind-${kind}`;
  v.el.dataset.kind = kind;
  v.el.dataset.group = name;
  const head = document.createElement('div');
  head.className = 'group-head';
  v.fold = headButton('fold', '▾');
  v.fold.addEventListener('click', () => {
    if (collapsed.has(id)) collapsed.delete(id); else collapsed.add(id);
    try { localStorage.setItem('docktail-collapsed', JSON.stringify([...collapsed])); } catch { /* this visit only */ }
    render();
  });
  const kindEl = document.createElement('span');
  kindEl.className = 'kind';
  kindEl.textContent = kind === 'host' ? 'engine' : kind;
  kindEl.title = KIND_TITLES[kind] || kind;
  const link = document.createElement('a');
  link.className = 'group-name';
  link.href = `/groups/${encodeURIComponent(kind)}/${encodeURIComponent(name)}`;
  link.textContent = name;
  link.title = `Open ${kind} ${name} merged on its own page`;
  v.count = document.createElement('span');
  v.count.className = 'group-count';
  v.summary = document.createElement('span');
  v.summary.className = 'group-summary';
  const spacer = document.createElement('span');
  spacer.className = 'spacer';
  // Each member in a pane of its own, side by side (again: closes them).
  v.members = headButton('tail-members', 'side by side');
  v.members.addEventListener('click', () => openMembers(v));
  // Every member merged in one pane, each line labelled.
  v.tail = headButton('tail-group', 'tail this group');
  v.tail.addEventListener('click', () => toggleGroup(kind, name));
  const actions = document.createElement('span');
  actions.className = 'group-actions';
  actions.append(v.members, v.tail);
  head.append(v.fold, kindEl, link, v.count, v.summary, spacer, actions);
  v.services = document.createElement('div');
  v.services.className = 'services';
  v.table = document.createElement('table');
  v.table.appendChild(colgroup());
  v.tbody = document.createElement('tbody');
  v.table.appendChild(v.tbody);
  v.el.appendChild(head);
  return v;
}

function toggleGroup(kind, name) {
  const key = `${kind}/${name}`;
  const on = layout.g.includes(key);
  setLayout({ g: on ? layout.g.filter((k) => k !== key) : [...layout.g, key] });
  if (!on) panes.openDrawer(`g:${key}`);
}

/** "side by side": a pane per listed member; when all are open already, they close. */
function openMembers(v) {
  const keys = (v.memberList || []).map(nameKey);
  if (!keys.length) return;
  const allOpen = keys.every((k) => layout.c.includes(k));
  if (allOpen) { setLayout({ c: layout.c.filter((k) => !keys.includes(k)) }); return; }
  setLayout({ c: [...layout.c, ...keys.filter((k) => !layout.c.includes(k))] });
  panes.openDrawer(`c:${keys[0]}`);
}

function updateSection(v, sec, visibleRows) {
  const folded = collapsed.has(v.id);
  setText(v.fold, folded ? '▸' : '▾');
  setAttr(v.fold, 'aria-expanded', String(!folded));
  setAttr(v.fold, 'aria-label', `${folded ? 'Expand' : 'Collapse'} ${sec.kind} ${sec.name}`);
  setAttr(v.fold, 'title', `${folded ? 'Expand' : 'Collapse'} ${sec.kind} ${sec.name}`);
  const n = sec.members.length;
  setText(v.count, String(n));
  setAttr(v.count, 'title', `${n} container${n === 1 ? '' : 's'} listed`);
  setText(v.summary, sec.service ? replicasText(sec.service) : stateSummary(sec.members));
  setAttr(v.summary, 'title', sec.members.length ? stateSummary(sec.members) : '');
  v.memberList = [...sec.members].sort((a, b) => a.name.localeCompare(b.name));
  v.members.hidden = n < 2;
  const keys = v.memberList.map(nameKey);
  const allOpen = keys.length > 0 && keys.every((k) => layout.c.includes(k));
  setAttr(v.members, 'aria-pressed', String(allOpen));
  setAttr(v.members, 'title', allOpen ? `Close the ${n} panes of ${sec.kind} ${sec.name}` : `Open each of the ${n} containers of ${sec.kind} ${sec.name} in a pane of its own, side by side`);
  const tailed = layout.g.includes(v.id);
  setAttr(v.tail, 'aria-pressed', String(tailed));
  setAttr(v.tail, 'title', tailed ? `Stop tailing ${sec.kind} ${sec.name}` : sec.kind === 'host'
    ? `Tail every container of engine ${sec.name}, merged, in one pane`
    : `Tail every member of ${sec.kind} ${sec.name}, merged, in one pane`);
  // A stack's services, each with its replicas and its own merged pane.
  const sig = JSON.stringify((sec.services || []).map((g) => [g.name, g.running, g.replicas, layout.g.includes(`service/${g.name}`)]));
  if (v.servicesSig !== sig) {
    v.servicesSig = sig;
    v.services.textContent = '';
    for (const g of sec.services || []) {
      const row = document.createElement('div');
      row.className = 'service';
      row.dataset.service = g.name;
      const a = document.createElement('a');
      a.href = `/groups/service/${encodeURIComponent(g.name)}`;
      a.textContent = g.name;
      const r = document.createElement('span');
      r.className = 'replicas';
      r.textContent = replicasText(g);
      const b = headButton('tail-group', 'tail');
      const on = layout.g.includes(`service/${g.name}`);
      b.setAttribute('aria-pressed', String(on));
      b.title = on ? `Stop tailing service ${g.name}` : `Tail every task of service ${g.name}, merged, in one pane`;
      b.addEventListener('click', () => toggleGroup('service', g.name));
      row.append(a, r, b);
      v.services.appendChild(row);
    }
  }
  const children = [v.el.firstChild];
  if (!folded && sec.services?.length) children.push(v.services);
  if (!folded && visibleRows.length) children.push(v.table);
  reconcile(v.el, children);
  if (!folded) reconcile(v.tbody, visibleRows.map((c) => {
    let rv = rowViews.get(c.key);
    if (!rv) { rv = rowView(c); rowViews.set(c.key, rv); } else updateRow(rv, c);
    return rv.tr;
  }));
}

/** Brings the list in line with the model, keeping every element that still stands for something. */
function render() {
  const q = filterBox.value.trim().toLowerCase();
  const secs = new Map();
  const section = (kind, name) => {
    const id = `${kind}/${name}`;
    if (!secs.has(id)) secs.set(id, { id, kind, name, members: [] });
    return secs.get(id);
  };
  for (const c of model.values()) {
    const s = sectionOf(c);
    section(s.kind, s.name).members.push(c);
  }
  // Swarm services (from the managers): under their stack when they belong to one (a stack's
  // services are named STACK_SERVICE and their tasks carry the stack label), else on their own.
  for (const g of services) {
    const stack = [...secs.values()].find((s) => s.kind === 'stack'
      && (g.name.startsWith(`${s.name}_`) || s.members.some((c) => c.labels?.[SERVICE] === g.name)));
    if (stack) (stack.services ||= []).push(g);
    else section('service', g.name).service = g;
  }
  const ordered = [...secs.values()].sort((a, b) => (KIND_ORDER[a.kind] ?? 9) - (KIND_ORDER[b.kind] ?? 9) || a.name.localeCompare(b.name));
  // Rows keep their place: by name, whatever their state (a flapping container does not jump).
  const byName = (a, b) => a.name.localeCompare(b.name) || a.host.localeCompare(b.host);
  const wanted = [];
  let shown = 0;
  for (const sec of ordered) {
    const sectionMatches = q && sec.name.toLowerCase().includes(q);
    const rows = sec.members
      .filter((c) => !q || sectionMatches || c.name.toLowerCase().includes(q) || (c.image || '').toLowerCase().includes(q))
      .sort(byName);
    let v = sectionViews.get(sec.id);
    if (!v) { v = sectionView(sec.kind, sec.name); sectionViews.set(sec.id, v); }
    if (q && !rows.length && !sectionMatches) continue;
    shown += rows.length;
    updateSection(v, sec, rows);
    wanted.push(v.el);
  }
  const focused = document.activeElement;
  reconcile(list, wanted);
  // (Nothing above moves an element that stays; should a rename move the focused row, focus stays.)
  if (focused && focused !== document.activeElement && focused.isConnected) focused.focus({ preventScroll: true });
  for (const key of rowViews.keys()) if (!model.has(key)) rowViews.delete(key);
  for (const id of sectionViews.keys()) if (!secs.has(id)) sectionViews.delete(id);
  $('empty').hidden = shown > 0 || ordered.some((s) => s.service);
}

/** Ticks and pressed buttons follow the layout. */
function refreshMarks() {
  for (const [key, v] of rowViews) {
    const c = model.get(key);
    if (c) { const on = layout.c.includes(nameKey(c)); if (v.pick.checked !== on) v.pick.checked = on; }
  }
  render();
}

/** The time column, recomputed every TICK_MS (and when the tab comes back). */
function tick() {
  const now = Date.now();
  for (const [key, v] of rowViews) {
    const c = model.get(key);
    if (c) updateTime(v, c, now);
  }
}

// MARK: hosts

async function loadHosts() {
  try {
    hosts = await (await fetch('/api/hosts', { cache: 'no-store' })).json();
    const el = $('hosts');
    el.textContent = '';
    for (const h of hosts) {
      const span = document.createElement('span');
      span.className = 'host';
      // A lock for TLS engines; the reason an engine is down, in words to act on.
      span.textContent = `${h.tls ? '🔒 ' : ''}${h.name}${h.ok ? '' : ' (down)'}`;
      span.title = `${h.url}${h.tls ? (h.verified ? ' · TLS, certificate verified' : ' · TLS, certificate NOT verified') : ''}${h.apiVersion ? ` · API ${h.apiVersion}` : ''}`;
      if (!h.ok) {
        span.classList.add('down');
        if (h.error) {
          const why = document.createElement('span');
          why.className = 'host-error';
          why.textContent = `: ${h.error}`;
          span.appendChild(why);
        }
      }
      el.appendChild(span);
      el.appendChild(document.createTextNode(' '));
    }
  } catch { /* shown by the list error */ }
}

// MARK: panes

const panes = new PaneGrid({
  area: $('panes'),
  grid: $('grid'),
  tabs: $('tabs'),
  showButton: $('show-panes'),
  empty: $('nogrid'),
  phone,
  theme: () => document.documentElement.dataset.theme,
  onClose: (key) => {
    const rest = key.slice(2);
    if (key.startsWith('c:')) setLayout({ c: layout.c.filter((k) => k !== rest) });
    else setLayout({ g: layout.g.filter((k) => k !== rest) });
  },
});
// Back from the drawer returns to the entry before it, whose URL may hold an older layout.
panes.onHistory = () => writeUrl();

function renderPanes() {
  const items = [];
  for (const k of layout.c) {
    const slash = k.indexOf('/');
    if (slash < 0) continue;
    const host = k.slice(0, slash);
    const name = k.slice(slash + 1);
    items.push({
      key: `c:${k}`,
      title: name,
      href: `/logs/${encodeURIComponent(name)}?host=${encodeURIComponent(host)}`,
      setup: (pane) => { pane.setAttribute('host', host); pane.setAttribute('tail', '200'); pane.setAttribute('container', name); },
    });
  }
  for (const k of layout.g) {
    const slash = k.indexOf('/');
    if (slash < 0) continue;
    const kind = k.slice(0, slash);
    const name = k.slice(slash + 1);
    items.push({
      key: `g:${k}`,
      title: `${kind} ${name}`,
      href: `/groups/${encodeURIComponent(kind)}/${encodeURIComponent(name)}`,
      setup: (pane) => { pane.setAttribute('tail', '100'); pane.setAttribute('group', k); },
    });
  }
  panes.sync(items);
  document.body.classList.toggle('has-panes', items.length > 0);
}

// MARK: the sidebar (collapsible on a desktop, remembered)

function setSidebar(open) {
  document.body.classList.toggle('sidebar-collapsed', !open);
  const b = $('sidebar-toggle');
  b.setAttribute('aria-expanded', String(open));
  b.title = open ? 'Hide the container list ([)' : 'Show the container list ([)';
  b.setAttribute('aria-label', b.title);
  try { localStorage.setItem('docktail-sidebar', open ? 'open' : 'closed'); } catch { /* this visit only */ }
}

// MARK: /events

function watchEvents() {
  let delay = 500;
  const connect = () => {
    const u = new URL('/events', location.href);
    u.protocol = location.protocol === 'https:' ? 'wss:' : 'ws:';
    const ws = new WebSocket(u);
    ws.onopen = () => { delay = 500; sync(); loadHosts(); };
    ws.onmessage = (m) => {
      let e;
      try { e = JSON.parse(m.data); } catch { return; }
      applyEvent(e);
      scheduleSync();
    };
    ws.onclose = () => { setTimeout(connect, delay); delay = Math.min(delay * 2, 10000); loadHosts(); };
  };
  connect();
}

// MARK: start

if (history.state?.docktailDrawer) history.replaceState(null, '', location.href);
filterBox.addEventListener('input', render);
allBox.addEventListener('change', sync);
$('sidebar-toggle').addEventListener('click', () => setSidebar(document.body.classList.contains('sidebar-collapsed')));
document.addEventListener('keydown', (e) => {
  if (e.target !== document.body) return;
  if (e.key === '/') { filterBox.focus(); e.preventDefault(); }
  if (e.key === '[' && !phone.matches) { setSidebar(document.body.classList.contains('sidebar-collapsed')); e.preventDefault(); }
});
document.addEventListener('visibilitychange', () => { if (!document.hidden) tick(); });
setInterval(tick, TICK_MS);
setInterval(sync, 60000);
setSidebar(localStorage.getItem('docktail-sidebar') !== 'closed');
initTheme($('theme'), () => [...document.querySelectorAll('#grid docktail-log')]);
writeUrl();      // an old-style layout URL becomes the readable one
renderPanes();
sync();
loadHosts();
watchEvents();
