// The pane's icons: 16×16 stroked SVG paths (currentColor), written into the pane's constant
// template: no icon font, no external file, nothing the CSP has to allow.
const PATHS = {
  up: 'M4 10l4-4 4 4',
  down: 'M4 6l4 4 4-4',
  filter: 'M2.5 3h11l-4.3 5.2v4.3l-2.4 1.3V8.2z',
  history: 'M2.6 8a5.4 5.4 0 1 0 1.6-3.8M2.4 2.3v2.6H5M8 5v3.2l2.1 1.3',
  follow: 'M8 2.5v8M4.5 7l3.5 3.5L11.5 7M3 13.5h10',
  more: 'M3.5 8h.01M8 8h.01M12.5 8h.01',
  clock: 'M8 1.7a6.3 6.3 0 1 0 0 12.6A6.3 6.3 0 1 0 8 1.7M8 4.6V8l2.4 1.5',
  wrap: 'M2.5 4h11M2.5 8h9a2 2 0 0 1 0 4H8.5M10 10.5 8.5 12l1.5 1.5M2.5 12h3',
  braces: 'M6 2.5c-1.4 0-2 .6-2 2v1.6c0 .9-.5 1.9-1.5 1.9 1 0 1.5 1 1.5 1.9v1.6c0 1.4.6 2 2 2M10 2.5c1.4 0 2 .6 2 2v1.6c0 .9.5 1.9 1.5 1.9-1 0-1.5 1-1.5 1.9v1.6c0 1.4-.6 2-2 2',
  calendar: 'M2.5 3.8h11v9.7h-11zM2.5 6.8h11M5.5 2.3v3M10.5 2.3v3M5 9.5h2v2H5z',
  clear: 'M8 1.7a6.3 6.3 0 1 0 0 12.6A6.3 6.3 0 1 0 8 1.7M3.6 3.6l8.8 8.8',
  copy: 'M5.5 5.5h8v8h-8zM10.5 5.5v-3h-8v8h3',
  download: 'M8 2v8M4.5 6.5 8 10l3.5-3.5M2.5 13.5h11',
  downloadAll: 'M8 1.5v6.5M5.2 5.2 8 8l2.8-2.8M2.5 9.5v4h11v-4M5 11.5h6',
  theme: 'M8 1.7a6.3 6.3 0 1 0 0 12.6A6.3 6.3 0 1 0 8 1.7M8 1.7v12.6M8 4h3.5M8 6.5h5M8 9h5M8 11.5h3.5',
  maximize: 'M2.5 6V2.5H6M10 2.5h3.5V6M13.5 10v3.5H10M6 13.5H2.5V10',
  restore: 'M6 2.5V6H2.5M10 2.5V6h3.5M13.5 10H10v3.5M2.5 10H6v3.5',
  close: 'M4 4l8 8M12 4l-8 8',
  link: 'M6.6 9.4l2.8-2.8M7.2 4.6l1-1a2.7 2.7 0 0 1 3.8 3.8l-1 1M8.8 11.4l-1 1A2.7 2.7 0 0 1 4 8.6l1-1',
  context: 'M5 3h6M2.5 8h11M5 13h6M2.5 5.5h3M2.5 10.5h3',
  check: 'M3 8.5l3.2 3L13 4.5',
  stdout: 'M2.5 3.5h11v9h-11zM4.8 6.5 6.8 8l-2 1.5M8 10h3',
  stderr: 'M8 2.2 14 13H2zM8 6.5v3M8 11.3h.01',
};

/** SVG markup for icon `name` (for the constant template; aria-hidden, the button carries the label). */
export function icon(name) {
  return `<svg class="i" viewBox="0 0 16 16" aria-hidden="true" focusable="false"><path d="${PATHS[name]}"/></svg>`;
}

/** The same icon as an element (for controls built at run time). */
export function iconElement(name) {
  const ns = 'http://www.w3.org/2000/svg';
  const svg = document.createElementNS(ns, 'svg');
  svg.setAttribute('class', 'i');
  svg.setAttribute('viewBox', '0 0 16 16');
  svg.setAttribute('aria-hidden', 'true');
  svg.setAttribute('focusable', 'false');
  const path = document.createElementNS(ns, 'path');
  path.setAttribute('d', PATHS[name]);
  svg.appendChild(path);
  return svg;
}
