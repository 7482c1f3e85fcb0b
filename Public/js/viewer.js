// The viewer page: /logs/<ref> (one container) or /groups/<kind>/<name> (a group merged: a
// compose project, a stack, a label, an engine, a Swarm service), one full-height pane.
// `?embed=1` drops the page chrome (for iframes); tail, since, until, stdout, stderr,
// timestamps, levels, host, max-lines, max-buffer, theme, wrap and token pass through.
// `#t=STAMP[&s=stderr]` (a line's permalink) opens the pane at that line, scrolled to it and
// highlighted. The level chips' state is kept in the URL (`levels=error,warn`).
import '../docktail-log.js';
import { initTheme } from './theme.js';

const params = new URLSearchParams(location.search);
const pane = document.getElementById('pane');
const crumb = document.getElementById('crumb');
const groupPath = /^\/groups\/([^/]+)\/(.+?)\/?$/.exec(location.pathname);
const group = groupPath && `${decodeURIComponent(groupPath[1])}/${decodeURIComponent(groupPath[2])}`;
let label;
if (group) {
  label = group.replace('/', ' ');
} else {
  label = decodeURIComponent(location.pathname.replace(/^\/logs\//, '').replace(/\/$/, ''));
}
const embed = params.get('embed') === '1';
if (embed) document.body.classList.add('embed');
// The name once: the page's header shows it, except in an iframe (no header), where the pane does.
else pane.setAttribute('show-name', '0');
// One pane fills the page: nothing to maximise or close.
pane.setAttribute('pane-controls', 'none');
crumb.textContent = label;
document.title = `${label} · docktail`;
// `token` too: in a cross-site iframe the page's cookie is not sent, so the pane carries it.
for (const key of ['tail', 'since', 'until', 'stdout', 'stderr', 'timestamps', 'levels', 'host', 'max-lines', 'max-buffer', 'theme', 'wrap', 'token']) {
  if (params.has(key)) pane.setAttribute(key, params.get(key));
}
initTheme(document.getElementById('theme'), () => [pane]);

/** `#t=2026-11-30T02:20:00.193543767Z&s=stderr`: the line a permalink points at. */
function applyAnchor() {
  const h = new URLSearchParams(location.hash.slice(1));
  const t = h.get('t');
  if (!t) return;
  if (h.get('s')) pane.setAttribute('at-stream', h.get('s')); else pane.removeAttribute('at-stream');
  pane.setAttribute('at', t);
}
applyAnchor();
window.addEventListener('hashchange', applyAnchor);

// Last, so the pane opens its stream once, with every other attribute in place.
if (group) pane.setAttribute('group', group); else pane.setAttribute('container', label);
pane.addEventListener('status', (e) => { document.title = `${label} · ${e.detail.state} · docktail`; });
pane.addEventListener('event', (e) => {
  const d = e.detail;
  if (d.event === 'subscribed' && !d.group && d.id) crumb.title = `${d.name} · ${d.id.slice(0, 12)} · ${d.host}${d.tty ? ' · tty' : ''}`;
});
// The level chips live in the URL, like the rest of the pane's settings.
pane.addEventListener('docktail-levels', (e) => {
  const u = new URL(location.href);
  if (e.detail.levels) u.searchParams.set('levels', e.detail.levels); else u.searchParams.delete('levels');
  history.replaceState(history.state, '', u);
});
// Page-level keys go to the pane (it handles /, End, f and Esc).
document.addEventListener('keydown', (e) => {
  if (e.target !== document.body) return;
  pane.handleKey(e);
});
