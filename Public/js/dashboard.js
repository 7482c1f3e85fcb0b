// The dashboard, /: containers of every engine, kept current from /events, and a grid of live
// panes for the ticked ones. The selection lives in the URL (?c=host/name,…) to bookmark and share.
import '../docktail-log.js';
import { initTheme } from './theme.js';

const tbody = document.querySelector('#containers tbody');
const filterBox = document.getElementById('filter');
const allBox = document.getElementById('all');
const grid = document.getElementById('grid');
const panes = new Map();    // key host/name → cell element
let containers = [];

const keyOf = (c) => `${c.host}/${c.name}`;
const selected = () => new URLSearchParams(location.search).get('c')?.split(',').filter(Boolean) ?? [];

function setSelected(keys) {
  const u = new URL(location.href);
  if (keys.length) u.searchParams.set('c', keys.join(',')); else u.searchParams.delete('c');
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

function renderList() {
  const q = filterBox.value.trim().toLowerCase();
  const keys = new Set(selected());
  const rows = containers
    .filter((c) => !q || c.name.toLowerCase().includes(q) || c.image.toLowerCase().includes(q))
    .sort((a, b) => (a.state === 'running') !== (b.state === 'running') ? (a.state === 'running' ? -1 : 1) : a.name.localeCompare(b.name));
  tbody.textContent = '';
  for (const c of rows) {
    const tr = document.createElement('tr');
    tr.dataset.name = c.name;
    const pick = document.createElement('input');
    pick.type = 'checkbox';
    pick.checked = keys.has(keyOf(c));
    pick.setAttribute('aria-label', `tail ${c.name}`);
    pick.addEventListener('change', () => {
      const now = selected().filter((k) => k !== keyOf(c));
      if (pick.checked) now.push(keyOf(c));
      setSelected(now);
    });
    const link = document.createElement('a');
    link.href = `/logs/${encodeURIComponent(c.name)}${c.host ? `?host=${encodeURIComponent(c.host)}` : ''}`;
    link.textContent = c.name;
    const badge = document.createElement('span');
    badge.className = `badge ${c.state}`;
    badge.textContent = c.state;
    const cells = [pick, link, c.image, badge, c.status];
    const classes = ['pick', 'name', 'image', 'state', 'status'];
    cells.forEach((v, i) => {
      const td = document.createElement('td');
      td.className = classes[i];
      if (typeof v === 'string') { td.textContent = v; td.title = v; } else td.appendChild(v);
      tr.appendChild(td);
    });
    tbody.appendChild(tr);
  }
  document.getElementById('empty').hidden = rows.length > 0;
}

function renderGrid() {
  const keys = selected();
  for (const [key, cell] of panes) {
    if (!keys.includes(key)) { cell.remove(); panes.delete(key); }
  }
  for (const key of keys) {
    if (panes.has(key)) continue;
    const [host, ...rest] = key.split('/');
    const name = rest.join('/');
    const cell = document.createElement('section');
    cell.className = 'cell';
    const head = document.createElement('header');
    const link = document.createElement('a');
    link.href = `/logs/${encodeURIComponent(name)}?host=${encodeURIComponent(host)}`;
    link.textContent = name;
    const close = document.createElement('button');
    close.textContent = '×';
    close.title = `Stop tailing ${name}`;
    close.addEventListener('click', () => { setSelected(selected().filter((k) => k !== key)); renderList(); });
    head.append(link, close);
    const pane = document.createElement('docktail-log');
    pane.setAttribute('host', host);
    pane.setAttribute('tail', '200');
    const theme = document.documentElement.dataset.theme;
    if (theme) pane.setAttribute('theme', theme);
    pane.setAttribute('container', name);
    cell.append(head, pane);
    grid.appendChild(cell);
    panes.set(key, cell);
  }
  document.getElementById('nogrid').hidden = keys.length > 0;
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
