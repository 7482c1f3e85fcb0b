// The viewer page, /logs/<ref>: one full-height pane. `?embed=1` drops the page chrome (for
// iframes); tail, since, stdout, stderr, timestamps, host and max-lines pass through.
import '../docktail-log.js';
import { initTheme } from './theme.js';

const params = new URLSearchParams(location.search);
const ref = decodeURIComponent(location.pathname.replace(/^\/logs\//, '').replace(/\/$/, ''));
const pane = document.getElementById('pane');
if (params.get('embed') === '1') document.body.classList.add('embed');
document.getElementById('crumb').textContent = ref;
document.title = `${ref} · docktail`;
// `token` too: in a cross-site iframe the page's cookie is not sent, so the pane carries it.
for (const key of ['tail', 'since', 'stdout', 'stderr', 'timestamps', 'host', 'max-lines', 'theme', 'wrap', 'token']) {
  if (params.has(key)) pane.setAttribute(key, params.get(key));
}
initTheme(document.getElementById('theme'), () => [pane]);
pane.setAttribute('container', ref);
pane.addEventListener('status', (e) => { document.title = `${ref} · ${e.detail.state} · docktail`; });
// Page-level keys go to the pane (it handles /, End, f and Esc).
document.addEventListener('keydown', (e) => {
  if (e.target !== document.body) return;
  pane.handleKey(e);
});
