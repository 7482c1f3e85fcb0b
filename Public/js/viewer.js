// The viewer page: /logs/<ref> (one container) or /groups/<kind>/<name> (a group merged: a
// compose project, a stack, a label, an engine, a Swarm service), one full-height pane.
// `?embed=1` drops the page chrome (for iframes); tail, since, until, stdout, stderr,
// timestamps, host and max-lines pass through.
import '../docktail-log.js';
import { initTheme } from './theme.js';

const params = new URLSearchParams(location.search);
const pane = document.getElementById('pane');
const groupPath = /^\/groups\/([^/]+)\/(.+?)\/?$/.exec(location.pathname);
const group = groupPath && `${decodeURIComponent(groupPath[1])}/${decodeURIComponent(groupPath[2])}`;
let label;
if (group) {
  label = group.replace('/', ' ');
} else {
  label = decodeURIComponent(location.pathname.replace(/^\/logs\//, '').replace(/\/$/, ''));
}
if (params.get('embed') === '1') document.body.classList.add('embed');
document.getElementById('crumb').textContent = label;
document.title = `${label} · docktail`;
// `token` too: in a cross-site iframe the page's cookie is not sent, so the pane carries it.
for (const key of ['tail', 'since', 'until', 'stdout', 'stderr', 'timestamps', 'host', 'max-lines', 'max-buffer', 'theme', 'wrap', 'token']) {
  if (params.has(key)) pane.setAttribute(key, params.get(key));
}
initTheme(document.getElementById('theme'), () => [pane]);
// Last, so the pane opens its stream once, with every other attribute in place.
if (group) pane.setAttribute('group', group); else pane.setAttribute('container', label);
pane.addEventListener('status', (e) => { document.title = `${label} · ${e.detail.state} · docktail`; });
// Page-level keys go to the pane (it handles /, End, f and Esc).
document.addEventListener('keydown', (e) => {
  if (e.target !== document.body) return;
  pane.handleKey(e);
});
