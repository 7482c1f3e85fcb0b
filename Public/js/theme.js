// Page theme: follows prefers-color-scheme until the user picks one, which is remembered.
export function initTheme(button, panes = () => []) {
  const saved = localStorage.getItem('docktail-theme');
  const apply = (theme) => {
    if (theme) document.documentElement.dataset.theme = theme; else delete document.documentElement.dataset.theme;
    for (const p of panes()) { if (theme) p.setAttribute('theme', theme); else p.removeAttribute('theme'); }
  };
  apply(saved);
  button?.addEventListener('click', () => {
    const current = document.documentElement.dataset.theme || (matchMedia('(prefers-color-scheme: dark)').matches ? 'dark' : 'light');
    const next = current === 'dark' ? 'light' : 'dark';
    localStorage.setItem('docktail-theme', next);
    apply(next);
  });
  return () => apply(localStorage.getItem('docktail-theme'));
}
