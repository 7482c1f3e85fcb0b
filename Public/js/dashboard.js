// The dashboard, /: containers of every engine, grouped by compose project, stack, Swarm service
// and engine, kept current from /events, and a grid of live panes for the ticked containers and
// the groups being tailed. The layout lives in the URL (?c=host/name,…&g=kind/name,…) to
// bookmark and share.
import '../docktail-log.js';
import { initTheme } from './theme.js';

const list = document.getElementById('containers');
const filterBox = document.getElementById('filter');
const allBox = document.getElementById('all');
const grid = document.getElementById('grid');
const panes = new Map();    // 'c:host/name' or 'g:kind/name' → cell element
let containers = [];
let groups = [];            // /api/groups: Swarm services with their replica counts

const PROJECT = 'com.docker.compose.project';
const STACK = 'com.docker.stack.namespace';
const SERVICE = 'com.docker.swarm.service.name';
const KIND_ORDER = { project: 0, stack: 1, service: 2, host: 3 };
const STATE_ORDER = ['running', 'restarting', 'paused', 'created', 'exited', 'dead', 'removing'];
const KIND_TITLES = {
  project: 'compose project', stack: 'Swarm stack', service: 'Swarm service', host: 'engine',
};

const keyOf = (c) => `${c.host}/${c.name}`;
const listParam = (name) => new URLSearchParams(location.search).get(name)?.split(',').filter(Boolean) ?? [];
const selected = () => listParam('c');
const tailedGroups = () => listParam('g');

// Sections the user folded, remembered across visits.
const collapsed = new Set((() => {
  try { return JSON.parse(localStorage.getItem('docktail-collapsed') || '[]'); } catch { return []; }
})());

function setLayout({ c = selected(), g = tailedGroups() }) {
  const u = new URL(location.href);
  if (c.length) u.searchParams.set('c', c.join(',')); else u.searchParams.delete('c');
  if (g.length) u.searchParams.set('g', g.join(',')); else u.searchParams.delete('g');
  history.replaceState(null, '', u);
  renderGrid();
}

async function load() {
  try {
    const r = await fetch(`/api/containers${allBox.checked ? '?all=1' : ''}`, { cache: 'no-store' });
    if (!r.ok) throw new Error((await r.json()).error || r.statusText);
    containers = await r.json();
    document.getElementById('error').hidden = true;
  } catch (e) {
    const box = document.getElementById('error');
    box.hidden = false;
    box.textContent = `Cannot list containers: ${e.message}`;
  }
  try {
    const r = await fetch('/api/groups', { cache: 'no-store' });
    if (r.ok) groups = await r.json();
  } catch { /* services are extra: the list stands without them */ }
  renderList();
}

async function loadHosts() {
  try {
    const hosts = await (await fetch('/api/hosts', { cache: 'no-store' })).json();
    const el = document.getElementById('hosts');
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
    const x = STATE_ORDER.indexOf(a), y = STATE_ORDER.indexOf(b);
    return (x < 0 ? 99 : x) - (y < 0 ? 99 : y) || a.localeCompare(b);
  });
  return order.map((s) => `${counts.get(s)} ${s}`).join(' · ');
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

function containerRow(c, picked) {
  const tr = document.createElement('tr');
  tr.dataset.name = c.name;
  tr.dataset.host = c.host;
  const pick = document.createElement('input');
  pick.type = 'checkbox';
  pick.checked = picked.has(keyOf(c));
  pick.setAttribute('aria-label', `tail ${c.name}`);
  pick.addEventListener('change', () => {
    const now = selected().filter((k) => k !== keyOf(c));
    if (pick.checked) now.push(keyOf(c));
    setLayout({ c: now });
  });
  const nameBox = document.createElement('div');
  nameBox.className = 'namebox';
  const link = document.createElement('a');
  link.className = 'cname';
  link.href = `/logs/${encodeURIComponent(c.name)}${c.host ? `?host=${encodeURIComponent(c.host)}` : ''}`;
  link.textContent = c.name;
  link.title = c.name;
  nameBox.appendChild(link);
  const ports = portLinks(c);
  if (ports) nameBox.appendChild(ports);
  const badge = document.createElement('span');
  badge.className = `badge ${c.state}`;
  badge.textContent = c.state;
  const cells = [pick, nameBox, c.image, badge, c.status];
  const classes = ['pick', 'name', 'image', 'state', 'status'];
  cells.forEach((v, i) => {
    const td = document.createElement('td');
    td.className = classes[i];
    if (typeof v === 'string') { td.textContent = v; td.title = v; } else td.appendChild(v);
    tr.appendChild(td);
  });
  return tr;
}

function tailButton(kind, name, label = 'tail this group') {
  const key = `${kind}/${name}`;
  const on = tailedGroups().includes(key);
  const b = document.createElement('button');
  b.className = 'tail-group';
  b.setAttribute('aria-pressed', String(on));
  b.textContent = label;
  b.title = on ? `Stop tailing ${kind} ${name}` : kind === 'host'
    ? `Tail every container of engine ${name}, merged, in the grid`
    : `Tail every member of ${kind} ${name}, merged, in the grid`;
  b.addEventListener('click', () => {
    const now = tailedGroups().filter((k) => k !== key);
    if (!on) now.push(key);
    setLayout({ g: now });
    renderList();
  });
  return b;
}

/** "replicas 2/3" (running tasks of the wanted replicas; global services have no count). */
function replicasText(g) {
  return g.replicas != null ? `replicas ${g.running}/${g.replicas}` : `global · ${g.running} running`;
}

function sectionElement(sec, rows, picked) {
  const id = `${sec.kind}/${sec.name}`;
  const folded = collapsed.has(id);
  const el = document.createElement('section');
  el.className = `group kind-${sec.kind}`;
  el.dataset.kind = sec.kind;
  el.dataset.group = sec.name;
  const head = document.createElement('div');
  head.className = 'group-head';
  const fold = document.createElement('button');
  fold.className = 'fold';
  fold.setAttribute('aria-expanded', String(!folded));
  fold.setAttribute('aria-label', `${folded ? 'Expand' : 'Collapse'} ${sec.kind} ${sec.name}`);
  fold.textContent = folded ? '▸' : '▾';
  fold.addEventListener('click', () => {
    if (collapsed.has(id)) collapsed.delete(id); else collapsed.add(id);
    localStorage.setItem('docktail-collapsed', JSON.stringify([...collapsed]));
    renderList();
  });
  const kind = document.createElement('span');
  kind.className = 'kind';
  kind.textContent = sec.kind === 'host' ? 'engine' : sec.kind;
  kind.title = KIND_TITLES[sec.kind] || sec.kind;
  const name = document.createElement('a');
  name.className = 'group-name';
  name.href = `/groups/${encodeURIComponent(sec.kind)}/${encodeURIComponent(sec.name)}`;
  name.textContent = sec.name;
  name.title = `Open ${sec.kind} ${sec.name} merged in the viewer`;
  const count = document.createElement('span');
  count.className = 'group-count';
  count.textContent = String(sec.members.length);
  count.title = `${sec.members.length} container${sec.members.length === 1 ? '' : 's'} listed`;
  const summary = document.createElement('span');
  summary.className = 'group-summary';
  summary.textContent = sec.service ? replicasText(sec.service) : stateSummary(sec.members);
  if (sec.service && sec.members.length) summary.title = stateSummary(sec.members);
  const spacer = document.createElement('span');
  spacer.className = 'spacer';
  head.append(fold, kind, name, count, summary, spacer, tailButton(sec.kind, sec.name));
  el.appendChild(head);
  // A stack's services, each with its replicas and its own merged pane.
  if (sec.services?.length && !folded) {
    const services = document.createElement('div');
    services.className = 'services';
    for (const g of sec.services) {
      const row = document.createElement('div');
      row.className = 'service';
      row.dataset.service = g.name;
      const n = document.createElement('a');
      n.href = `/groups/service/${encodeURIComponent(g.name)}`;
      n.textContent = g.name;
      const r = document.createElement('span');
      r.className = 'replicas';
      r.textContent = replicasText(g);
      row.append(n, r, tailButton('service', g.name, 'tail'));
      services.appendChild(row);
    }
    el.appendChild(services);
  }
  if (!folded && rows.length) {
    const table = document.createElement('table');
    table.appendChild(colgroup());
    const tbody = document.createElement('tbody');
    for (const c of rows) tbody.appendChild(containerRow(c, picked));
    table.appendChild(tbody);
    el.appendChild(table);
  }
  return el;
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

function renderList() {
  const q = filterBox.value.trim().toLowerCase();
  const picked = new Set(selected());
  const sections = new Map();
  const section = (kind, name) => {
    const id = `${kind}\u0000${name}`;
    if (!sections.has(id)) sections.set(id, { kind, name, members: [] });
    return sections.get(id);
  };
  for (const c of containers) {
    const s = sectionOf(c);
    section(s.kind, s.name).members.push(c);
  }
  // Swarm services (from the managers): under their stack when they belong to one (a stack's
  // services are named STACK_SERVICE and their tasks carry the stack label), else on their own.
  for (const g of groups) {
    if (g.kind !== 'service') continue;
    const stack = [...sections.values()].find((s) => s.kind === 'stack'
      && (g.name.startsWith(`${s.name}_`) || s.members.some((c) => c.labels?.[SERVICE] === g.name)));
    if (stack) (stack.services ||= []).push(g);
    else section('service', g.name).service = g;
  }
  const ordered = [...sections.values()].sort((a, b) => (KIND_ORDER[a.kind] ?? 9) - (KIND_ORDER[b.kind] ?? 9) || a.name.localeCompare(b.name));
  const byState = (a, b) => (a.state === 'running') !== (b.state === 'running') ? (a.state === 'running' ? -1 : 1) : a.name.localeCompare(b.name);
  const frag = document.createDocumentFragment();
  let shown = 0;
  for (const sec of ordered) {
    const sectionMatches = q && sec.name.toLowerCase().includes(q);
    const rows = sec.members
      .filter((c) => !q || sectionMatches || c.name.toLowerCase().includes(q) || c.image.toLowerCase().includes(q))
      .sort(byState);
    if (q && !rows.length && !sectionMatches) continue;
    shown += rows.length;
    frag.appendChild(sectionElement(sec, rows, picked));
  }
  list.textContent = '';
  list.appendChild(frag);
  document.getElementById('empty').hidden = shown > 0 || ordered.some((s) => s.service);
}

function paneCell(key, title, href, setup, onClose) {
  const cell = document.createElement('section');
  cell.className = 'cell';
  cell.dataset.pane = key;
  const head = document.createElement('header');
  const link = document.createElement('a');
  link.href = href;
  link.textContent = title;
  const close = document.createElement('button');
  close.textContent = '×';
  close.title = `Stop tailing ${title}`;
  close.addEventListener('click', onClose);
  head.append(link, close);
  const pane = document.createElement('docktail-log');
  const theme = document.documentElement.dataset.theme;
  if (theme) pane.setAttribute('theme', theme);
  setup(pane);
  cell.append(head, pane);
  return cell;
}

function renderGrid() {
  const wanted = [...selected().map((k) => `c:${k}`), ...tailedGroups().map((k) => `g:${k}`)];
  for (const [key, cell] of panes) {
    if (!wanted.includes(key)) { cell.remove(); panes.delete(key); }
  }
  for (const key of wanted) {
    if (panes.has(key)) continue;
    const [type, rest] = [key.slice(0, 1), key.slice(2)];
    const slash = rest.indexOf('/');
    if (slash < 0) continue;
    const [first, name] = [rest.slice(0, slash), rest.slice(slash + 1)];
    let cell;
    if (type === 'c') {
      cell = paneCell(key, name, `/logs/${encodeURIComponent(name)}?host=${encodeURIComponent(first)}`, (pane) => {
        pane.setAttribute('host', first);
        pane.setAttribute('tail', '200');
        pane.setAttribute('container', name);
      }, () => { setLayout({ c: selected().filter((k) => k !== rest) }); renderList(); });
    } else {
      cell = paneCell(key, `${first} ${name}`, `/groups/${encodeURIComponent(first)}/${encodeURIComponent(name)}`, (pane) => {
        pane.setAttribute('tail', '100');
        pane.setAttribute('group', rest);
      }, () => { setLayout({ g: tailedGroups().filter((k) => k !== rest) }); renderList(); });
    }
    grid.appendChild(cell);
    panes.set(key, cell);
  }
  document.getElementById('nogrid').hidden = wanted.length > 0;
}

/** Lifecycle events keep the list current without reloading (debounced re-list). */
function watchEvents() {
  let delay = 500;
  let timer = 0;
  const connect = () => {
    const u = new URL('/events', location.href);
    u.protocol = location.protocol === 'https:' ? 'wss:' : 'ws:';
    const ws = new WebSocket(u);
    ws.onopen = () => { delay = 500; load(); loadHosts(); };
    ws.onmessage = () => { clearTimeout(timer); timer = setTimeout(load, 150); };
    ws.onclose = () => { setTimeout(connect, delay); delay = Math.min(delay * 2, 10000); loadHosts(); };
  };
  connect();
}

filterBox.addEventListener('input', renderList);
allBox.addEventListener('change', load);
document.addEventListener('keydown', (e) => {
  if (e.key === '/' && e.target === document.body) { filterBox.focus(); e.preventDefault(); }
});
initTheme(document.getElementById('theme'), () => [...grid.querySelectorAll('docktail-log')]);
renderGrid();
load();
loadHosts();
watchEvents();
