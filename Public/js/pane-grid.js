// The dashboard's panes area. One cell per pane of the layout: a slim header (the pane's name,
// a link to its own page, ⤢ maximise, × close) over a <docktail-log>. The grid picks its columns
// and rows so that every pane is visible at once (six panes at 1366×768 and at 1920×1080, sidebar
// open or not), and sizes are fixed by the grid: nothing in a pane moves its neighbours.
//
// The header names the pane and holds its controls, so the pane is told to leave both out of its
// toolbar (`show-name="0"`, `pane-controls="none"`: more room for the filter and the chips). Should
// a pane still ask with its own buttons (`docktail-maximize`, `docktail-close`: bubbling,
// composed, cancelable), the grid does what they ask and cancels the pane's fallback.
//
// On a phone the area is a drawer that slides over the list and shows one pane at a time, with
// ‹ back (also the browser's back: the open drawer is a history entry) and a tab per open pane.

const GAP = 8;
const IDEAL = { w: 560, h: 340 }; // what a pane likes; the layout that comes closest wins

/** Columns × rows for `n` panes in a W×H area: the arrangement whose smaller ratio to the ideal size is largest. */
export function arrange(n, width, height) {
  let best = { cols: 1, rows: Math.max(1, n), score: -1 };
  for (let cols = 1; cols <= Math.max(1, n); cols++) {
    const rows = Math.ceil(n / cols);
    const w = (width - (cols - 1) * GAP) / cols;
    const h = (height - (rows - 1) * GAP) / rows;
    // Empty cells cost a little, so 5 panes prefer 3+2 to 2+2+1 only when it fits better.
    const score = Math.min(w / IDEAL.w, h / IDEAL.h) - (cols * rows - n) * 0.01;
    if (score > best.score) best = { cols, rows, score };
  }
  return best;
}

// The pane's own icon set (16×16 stroked paths), so the header's controls look like the toolbar's.
const ICONS = {
  maximize: 'M2.5 6V2.5H6M10 2.5h3.5V6M13.5 10v3.5H10M6 13.5H2.5V10',
  restore: 'M6 2.5V6H2.5M10 2.5V6h3.5M13.5 10H10v3.5M2.5 10H6v3.5',
  close: 'M4 4l8 8M12 4l-8 8',
  back: 'M10 3 5 8l5 5',
};

function icon(name) {
  const ns = 'http://www.w3.org/2000/svg';
  const svg = document.createElementNS(ns, 'svg');
  svg.setAttribute('class', 'i');
  svg.setAttribute('viewBox', '0 0 16 16');
  svg.setAttribute('aria-hidden', 'true');
  svg.setAttribute('focusable', 'false');
  const path = document.createElementNS(ns, 'path');
  path.setAttribute('d', ICONS[name]);
  svg.appendChild(path);
  return svg;
}

function button(cls, iconName, title) {
  const b = document.createElement('button');
  b.type = 'button';
  b.className = cls;
  b.appendChild(icon(iconName));
  b.title = title;
  b.setAttribute('aria-label', title);
  return b;
}

export class PaneGrid {
  /**
   * area: the panes area (the drawer on a phone); grid: its grid; tabs: the phone's tab strip;
   * showButton: the phone's "panes" button over the list; phone: a MediaQueryList;
   * onClose(key): the user closed a pane; theme(): the theme new panes get.
   */
  constructor({ area, grid, tabs, showButton, empty, phone, onClose, theme }) {
    Object.assign(this, { area, grid, tabs, showButton, empty, phone, onClose, theme });
    this.cells = new Map();   // key → {cell, pane, title}
    this.maximised = null;
    this.active = null;       // the pane the phone's drawer shows
    this.drawerOpen = false;
    grid.addEventListener('docktail-maximize', (e) => { const k = this.keyOf(e.target); if (k) { e.preventDefault(); this.toggleMaximise(k); } });
    grid.addEventListener('docktail-close', (e) => { const k = this.keyOf(e.target); if (k) { e.preventDefault(); this.onClose(k); } });
    showButton.addEventListener('click', () => this.openDrawer(this.active || [...this.cells.keys()][0]));
    new ResizeObserver(() => this.fit()).observe(grid);
    phone.addEventListener('change', () => this.phoneChanged());
    window.addEventListener('popstate', () => {
      if (!history.state?.docktailDrawer && this.drawerOpen) this.closeDrawer(false);
      this.onHistory?.();
    });
    document.addEventListener('keydown', (e) => {
      if (e.key !== 'Escape' || e.defaultPrevented || e.composedPath().some((n) => n instanceof HTMLInputElement)) return;
      if (this.drawerOpen) this.back();
      else if (this.maximised) this.toggleMaximise(this.maximised);
    });
    this.phoneChanged();
  }

  keyOf(node) {
    const cell = node?.closest?.('.cell');
    return cell?.dataset.pane || null;
  }

  /** The layout's panes, in order: [{key, title, href, setup(pane)}]. New cells come last; others stay put (moving a pane would restart its stream). */
  sync(items) {
    const wanted = new Set(items.map((i) => i.key));
    for (const [key, v] of this.cells) {
      if (wanted.has(key)) continue;
      v.cell.remove();
      this.cells.delete(key);
      if (this.maximised === key) this.setMaximised(null);
      if (this.active === key) this.active = null;
    }
    for (const item of items) if (!this.cells.has(item.key)) this.add(item);
    if (!this.active || !this.cells.has(this.active)) this.setActive([...this.cells.keys()].pop() || null);
    if (!this.cells.size && this.drawerOpen) this.back();
    this.empty.hidden = this.cells.size > 0;
    this.renderTabs();
    this.fit();
  }

  add({ key, title, href, setup }) {
    const cell = document.createElement('section');
    cell.className = 'cell';
    cell.dataset.pane = key;
    cell.setAttribute('aria-label', title);
    const head = document.createElement('header');
    const back = button('back', 'back', 'Back to the list');
    back.addEventListener('click', () => this.back());
    const link = document.createElement('a');
    link.className = 'pane-title';
    link.href = href;
    link.textContent = title;
    link.title = `Open ${title} on its own page`;
    const max = button('max', 'maximize', `Maximise ${title}`);
    max.setAttribute('aria-pressed', 'false');
    max.addEventListener('click', () => this.toggleMaximise(key));
    const close = button('close', 'close', `Close ${title} (stop tailing it)`);
    close.addEventListener('click', () => this.onClose(key));
    head.append(back, link, max, close);
    const pane = document.createElement('docktail-log');
    pane.setAttribute('show-name', '0');
    pane.setAttribute('pane-controls', 'none');
    const theme = this.theme();
    if (theme) pane.setAttribute('theme', theme);
    setup(pane);
    cell.append(head, pane);
    this.grid.appendChild(cell);
    this.cells.set(key, { cell, pane, title });
    return cell;
  }

  get phoneLayout() { return this.phone.matches; }

  /** Columns and rows so that every pane shows (custom properties on the grid: CSSOM, no inline style attribute). */
  fit() {
    const n = this.maximised ? 1 : this.cells.size;
    if (this.phoneLayout || !n) return;
    const r = this.grid.getBoundingClientRect();
    const cs = getComputedStyle(this.grid);
    const w = r.width - parseFloat(cs.paddingLeft) - parseFloat(cs.paddingRight);
    const h = r.height - parseFloat(cs.paddingTop) - parseFloat(cs.paddingBottom);
    if (w <= 0 || h <= 0) return;
    const { cols, rows } = arrange(n, w, h);
    this.grid.style.setProperty('--cols', String(cols));
    this.grid.style.setProperty('--rows', String(rows));
  }

  setMaximised(key) {
    this.maximised = key;
    this.grid.classList.toggle('has-max', Boolean(key));
    for (const [k, v] of this.cells) {
      const on = k === key;
      v.cell.classList.toggle('maximised', on);
      const max = v.cell.querySelector('.max');
      max.setAttribute('aria-pressed', String(on));
      max.replaceChildren(icon(on ? 'restore' : 'maximize'));
      max.title = on ? `Restore ${v.title} to the grid (Esc)` : `Maximise ${v.title}`;
      max.setAttribute('aria-label', max.title);
      // Tells the pane, which may show its own control pressed.
      if (on) v.pane.setAttribute('maximized', ''); else v.pane.removeAttribute('maximized');
    }
    this.fit();
  }

  toggleMaximise(key) {
    if (this.phoneLayout) { this.openDrawer(key); return; }
    this.setMaximised(this.maximised === key ? null : key);
  }

  setActive(key) {
    this.active = key;
    for (const [k, v] of this.cells) v.cell.toggleAttribute('data-active', k === key);
    for (const t of this.tabs.children) t.setAttribute('aria-selected', String(t.dataset.pane === key));
  }

  renderTabs() {
    this.tabs.textContent = '';
    for (const [key, v] of this.cells) {
      const t = document.createElement('button');
      t.type = 'button';
      t.className = 'tab';
      t.setAttribute('role', 'tab');
      t.dataset.pane = key;
      t.textContent = v.title;
      t.title = v.title;
      t.setAttribute('aria-selected', String(key === this.active));
      t.addEventListener('click', () => this.setActive(key));
      this.tabs.appendChild(t);
    }
    this.area.classList.toggle('has-tabs', this.cells.size > 1);
    this.showButton.hidden = !this.cells.size;
    this.showButton.textContent = `${this.cells.size} pane${this.cells.size === 1 ? '' : 's'} ›`;
    this.showButton.title = 'Show the panes';
  }

  /** Phone: slides the drawer over the list, showing `key`. A history entry, so Back closes it. */
  openDrawer(key) {
    if (key && this.cells.has(key)) this.setActive(key);
    if (!this.phoneLayout || this.drawerOpen || !this.cells.size) return;
    this.drawerOpen = true;
    document.body.classList.add('drawer-open');
    this.area.setAttribute('aria-hidden', 'false');
    if (!history.state?.docktailDrawer) history.pushState({ docktailDrawer: true }, '', location.href);
    this.onDrawer?.(true);
    this.cells.get(this.active)?.cell.querySelector('.back').focus({ preventScroll: true });
  }

  /** ‹ back: the history entry the drawer added goes, which closes it (popstate). */
  back() {
    if (history.state?.docktailDrawer) history.back();
    else this.closeDrawer(false);
  }

  closeDrawer() {
    if (!this.drawerOpen) return;
    this.drawerOpen = false;
    document.body.classList.remove('drawer-open');
    if (this.phoneLayout) this.area.setAttribute('aria-hidden', 'true');
    this.onDrawer?.(false);
  }

  phoneChanged() {
    const phone = this.phoneLayout;
    document.body.classList.toggle('phone', phone);
    if (phone) {
      if (this.maximised) this.setMaximised(null);
      this.area.setAttribute('aria-hidden', String(!this.drawerOpen));
    } else {
      this.area.removeAttribute('aria-hidden');
      if (this.drawerOpen) this.closeDrawer();
      this.fit();
    }
  }
}
