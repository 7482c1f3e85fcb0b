// ANSI SGR (Select Graphic Rendition) to DOM, safely: text always goes in through textContent,
// colours through the CSSOM (element.style), never through markup.

// The 16 basic colours come from the theme (--ansi-0 … --ansi-15), so yellow stays readable on
// a light background; the fallbacks are the dark palette.
const FALLBACK = ['#000000', '#cd3131', '#0dbc79', '#e5e510', '#2472c8', '#bc3fbc', '#11a8cd', '#e5e5e5',
  '#666666', '#f14c4c', '#23d18b', '#f5f543', '#3b8eea', '#d670d6', '#29b8db', '#ffffff'];
const BASIC = FALLBACK.slice(0, 8).map((c, i) => `var(--ansi-${i}, ${c})`);
const BRIGHT = FALLBACK.slice(8).map((c, i) => `var(--ansi-${i + 8}, ${c})`);

/** The xterm 256-colour palette entry `n` as a CSS colour. */
export function color256(n) {
  if (n < 8) return BASIC[n];
  if (n < 16) return BRIGHT[n - 8];
  if (n < 232) {
    const i = n - 16;
    const steps = [0, 95, 135, 175, 215, 255];
    return `rgb(${steps[Math.floor(i / 36)]},${steps[Math.floor(i / 6) % 6]},${steps[i % 6]})`;
  }
  const v = 8 + (n - 232) * 10;
  return `rgb(${v},${v},${v})`;
}

// CSI ... m (SGR) and any other CSI / OSC sequence, which is dropped.
const ESCAPES = /\x1b\[([0-9;:]*)m|\x1b\[[0-9;?]*[A-Za-ln-z]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)|\x1b[()][A-Z0-9]|\x1b[=>]/g;

/** The text with every escape sequence removed (for search and download). */
export function stripAnsi(text) {
  return text.indexOf('\x1b') < 0 ? text : text.replace(ESCAPES, '');
}

/** Splits `text` into runs of `{text, style}`; style holds fg, bg, bold, italic, underline… */
export function parseAnsi(text) {
  if (text.indexOf('\x1b') < 0) return [{ text, style: null }];
  const runs = [];
  let style = {};
  let last = 0;
  ESCAPES.lastIndex = 0;
  let m;
  while ((m = ESCAPES.exec(text)) !== null) {
    if (m.index > last) runs.push({ text: text.slice(last, m.index), style: { ...style } });
    last = ESCAPES.lastIndex;
    if (m[1] === undefined) continue; // not SGR: dropped
    style = applySgr(style, m[1]);
  }
  if (last < text.length) runs.push({ text: text.slice(last), style: { ...style } });
  return runs;
}

function applySgr(style, params) {
  const codes = params === '' ? [0] : params.split(/[;:]/).map((p) => (p === '' ? 0 : Number(p)));
  const s = { ...style };
  for (let i = 0; i < codes.length; i++) {
    const c = codes[i];
    if (c === 0) { for (const k of Object.keys(s)) delete s[k]; }
    else if (c === 1) s.bold = true;
    else if (c === 2) s.dim = true;
    else if (c === 3) s.italic = true;
    else if (c === 4) s.underline = true;
    else if (c === 7) s.inverse = true;
    else if (c === 9) s.strike = true;
    else if (c === 22) { delete s.bold; delete s.dim; }
    else if (c === 23) delete s.italic;
    else if (c === 24) delete s.underline;
    else if (c === 27) delete s.inverse;
    else if (c === 29) delete s.strike;
    else if (c >= 30 && c <= 37) s.fg = BASIC[c - 30];
    else if (c === 39) delete s.fg;
    else if (c >= 40 && c <= 47) s.bg = BASIC[c - 40];
    else if (c === 49) delete s.bg;
    else if (c >= 90 && c <= 97) s.fg = BRIGHT[c - 90];
    else if (c >= 100 && c <= 107) s.bg = BRIGHT[c - 100];
    else if (c === 38 || c === 48) {
      const key = c === 38 ? 'fg' : 'bg';
      if (codes[i + 1] === 5 && i + 2 < codes.length) { s[key] = color256(codes[i + 2] & 255); i += 2; }
      else if (codes[i + 1] === 2 && i + 4 < codes.length) {
        const [r, g, b] = codes.slice(i + 2, i + 5).map((v) => Math.max(0, Math.min(255, v | 0)));
        s[key] = `rgb(${r},${g},${b})`;
        i += 4;
      }
    }
  }
  return s;
}

/** A line may carry thousands of SGR sequences; past this many styled runs the rest is plain text. */
export const MAX_STYLED_RUNS = 256;

/** Appends the runs of `text` to `parent` as text nodes and styled spans. */
export function renderAnsi(parent, text, highlight) {
  const runs = parseAnsi(text);
  if (runs.length > MAX_STYLED_RUNS) {
    const rest = runs.splice(MAX_STYLED_RUNS - 1).map((r) => r.text).join('');
    runs.push({ text: rest, style: null });
  }
  for (const run of runs) {
    let node;
    if (run.style && Object.keys(run.style).length) {
      node = document.createElement('span');
      node.className = 'ansi';
      const st = run.style;
      let fg = st.fg, bg = st.bg;
      if (st.inverse) [fg, bg] = [bg || 'var(--bg)', fg || 'var(--fg)'];
      if (fg) node.style.color = fg;
      if (bg) node.style.backgroundColor = bg;
      if (st.bold) node.style.fontWeight = 'bold';
      if (st.dim) node.style.opacity = '0.7';
      if (st.italic) node.style.fontStyle = 'italic';
      const deco = [st.underline && 'underline', st.strike && 'line-through'].filter(Boolean).join(' ');
      if (deco) node.style.textDecoration = deco;
      parent.appendChild(node);
    } else {
      node = parent;
    }
    appendHighlighted(node, run.text, highlight);
  }
}

/** Appends `text`, wrapping the matches of `highlight` (a global RegExp) in <mark>. */
export function appendHighlighted(parent, text, highlight) {
  if (!highlight) { parent.appendChild(document.createTextNode(text)); return; }
  highlight.lastIndex = 0;
  let last = 0;
  let m;
  while ((m = highlight.exec(text)) !== null) {
    if (m[0] === '') { highlight.lastIndex++; continue; }
    if (m.index > last) parent.appendChild(document.createTextNode(text.slice(last, m.index)));
    const mark = document.createElement('mark');
    mark.textContent = m[0];
    parent.appendChild(mark);
    last = m.index + m[0].length;
  }
  if (last < text.length) parent.appendChild(document.createTextNode(text.slice(last)));
}
