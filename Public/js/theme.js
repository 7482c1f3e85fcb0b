// One theme switch for a page and every pane on it. It follows prefers-color-scheme until the
// user picks a theme, which is remembered (localStorage `docktail-theme`) and shared: the page's
// button, any pane's own ◐ button (its `themechange` event) and other tabs (the `storage`
// event) all restyle the page and its open panes at once.
//
// A `theme` URL parameter (`/logs/web?embed=1&theme=dark`) wins over the stored choice. In embed
// mode (`?embed=1`) the page belongs to someone else's layout: a pick made there applies to it
// and is not stored over the user's own choice.
export const THEME_KEY = 'docktail-theme';

const valid = (t) => (t === 'light' || t === 'dark' ? t : null);

export function storedTheme() {
  try { return valid(localStorage.getItem(THEME_KEY)); } catch { return null; }
}

/** The theme the page shows: the picked one, else the system's. */
export function effectiveTheme() {
  return valid(document.documentElement.dataset.theme) || (matchMedia('(prefers-color-scheme: dark)').matches ? 'dark' : 'light');
}

export function initTheme(button, panes = () => []) {
  const params = new URLSearchParams(location.search);
  const embed = params.get('embed') === '1';
  const forced = valid(params.get('theme'));
  let current = forced || storedTheme();
  const apply = (theme) => {
    current = theme;
    if (theme) document.documentElement.dataset.theme = theme; else delete document.documentElement.dataset.theme;
    for (const p of panes()) {
      if (theme) { if (p.getAttribute('theme') !== theme) p.setAttribute('theme', theme); } else p.removeAttribute('theme');
    }
    if (button) {
      const next = effectiveTheme() === 'dark' ? 'light' : 'dark';
      button.title = `Switch to the ${next} theme (page and panes)`;
      button.setAttribute('aria-label', button.title);
    }
  };
  const choose = (theme) => {
    if (!(embed && forced)) {
      try { localStorage.setItem(THEME_KEY, theme); } catch { /* private mode: this page only */ }
    }
    apply(theme);
  };
  apply(current);
  button?.addEventListener('click', () => choose(effectiveTheme() === 'dark' ? 'light' : 'dark'));
  // A pane's own switch: the pane has restyled itself; the page and the other panes follow.
  document.addEventListener('themechange', (e) => {
    const theme = valid(e.detail?.theme);
    if (theme && theme !== current) choose(theme);
  });
  // Another tab of this origin picked a theme (not over an explicit `theme` parameter).
  window.addEventListener('storage', (e) => {
    if (e.key === THEME_KEY && !forced) apply(valid(e.newValue));
  });
  matchMedia('(prefers-color-scheme: dark)').addEventListener?.('change', () => { if (!current) apply(null); });
  // Re-applies the current theme (to panes added since).
  return () => apply(current);
}
