// Styles of <docktail-log>, adopted into its shadow root as a constructed stylesheet, so they
// need no inline <style> (which the Content-Security-Policy forbids) and cannot leak out.
const LIGHT = `--bg: #ffffff; --fg: #1f2328; --muted: #656d76; --border: #d0d7de; --bar: #f6f8fa; --hover: #eef1f4;
  --stderr: #cf222e; --stderr-bg: #ffebe9; --warn: #9a6700; --warn-bg: #fff8c5; --info: #0969da; --debug: #6e7781;
  --mark: #ffd33d; --current: #fb8f44; --accent: #0969da; --event: #6e7781; --ok: #1a7f37; --neutral: #6e7781; --target: #fff1a8;
  --j-key: #8250df; --j-str: #0a3069; --j-num: #0550ae; --j-bool: #bc4c00; --j-null: #6e7781;
  --ansi-0: #000000; --ansi-1: #cd3131; --ansi-2: #00a000; --ansi-3: #8a8d00; --ansi-4: #0451a5; --ansi-5: #bc05bc; --ansi-6: #0598bc; --ansi-7: #555555;
  --ansi-8: #666666; --ansi-9: #cd3131; --ansi-10: #14a014; --ansi-11: #9a9e00; --ansi-12: #0451a5; --ansi-13: #bc05bc; --ansi-14: #0598bc; --ansi-15: #a5a5a5;
  --m0: #0550ae; --m1: #8250df; --m2: #1a7f37; --m3: #bc4c00; --m4: #bf3989; --m5: #0a6e78; --m6: #7d4e00; --m7: #5b6b00; --m8: #57606a; --m9: #a0305a;`;
const DARK = `--bg: #0d1117; --fg: #e6edf3; --muted: #8d96a0; --border: #30363d; --bar: #161b22; --hover: #1c2128;
  --stderr: #ff7b72; --stderr-bg: #2d1214; --warn: #d29922; --warn-bg: #2b2111; --info: #58a6ff; --debug: #8b949e;
  --mark: #9e6a03; --current: #bd561d; --accent: #58a6ff; --event: #8b949e; --ok: #3fb950; --neutral: #8b949e; --target: #3b3414;
  --j-key: #d2a8ff; --j-str: #a5d6ff; --j-num: #79c0ff; --j-bool: #ffa657; --j-null: #8b949e;
  --ansi-0: #000000; --ansi-1: #cd3131; --ansi-2: #0dbc79; --ansi-3: #e5e510; --ansi-4: #2472c8; --ansi-5: #bc3fbc; --ansi-6: #11a8cd; --ansi-7: #e5e5e5;
  --ansi-8: #666666; --ansi-9: #f14c4c; --ansi-10: #23d18b; --ansi-11: #f5f543; --ansi-12: #3b8eea; --ansi-13: #d670d6; --ansi-14: #29b8db; --ansi-15: #ffffff;
  --m0: #79c0ff; --m1: #d2a8ff; --m2: #7ee787; --m3: #ffa657; --m4: #ff9bce; --m5: #56d4dd; --m6: #e3b341; --m7: #c3d05a; --m8: #b1bac4; --m9: #ff7eb0;`;

export const css = `
:host { display: flex; flex-direction: column; min-height: 120px; min-width: 0; height: 100%; ${LIGHT}
  font: 13px/1.45 ui-monospace, SFMono-Regular, Menlo, Consolas, "Liberation Mono", monospace;
  color: var(--fg); background: var(--bg); border: 1px solid var(--border); border-radius: 6px; overflow: hidden;
  contain: content; position: relative; container-type: inline-size; }
:host([theme="dark"]) { ${DARK} }
@media (prefers-color-scheme: dark) { :host(:not([theme="light"])) { ${DARK} } }
/* Maximised by the pane itself (no page laid it out): it covers the window. */
:host([maximized="overlay"]) { position: fixed; inset: 0; z-index: 2147483000; height: auto !important; border-radius: 0; }

/* The toolbar: one row, whatever the width (narrow panes fold secondary controls into "⋯"). */
.bar { display: flex; flex-wrap: nowrap; gap: 4px; align-items: center; padding: 3px 4px 3px 8px; background: var(--bar);
  border-bottom: 1px solid var(--border); font: 12px system-ui, sans-serif; min-height: 30px; box-sizing: border-box; }
.bar > * { flex: none; }
.bar .title { font-weight: 600; margin-right: 2px; max-width: 22ch; min-width: 3ch; flex: 0 0 auto; overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
.bar .title[hidden] { display: none; }
/* The state badge has one width whatever it says: nothing moves when it changes. */
.state { width: 12ch; box-sizing: border-box; text-align: center; padding: 1px 4px; border-radius: 10px; background: var(--border);
  color: var(--fg); white-space: nowrap; overflow: hidden; text-overflow: ellipsis; font-size: 11px; }
.state.live { background: #1a7f37; color: #fff; }
.state.reconnecting, .state.connecting, .state.restarting { background: #9a6700; color: #fff; }
.state.stopped.clean, .state.ended, .state.removed { background: var(--neutral); color: #fff; }
.state.stopped.failed, .state.error, .state.not-found, .state.unauthorized, .state.unreachable { background: #cf222e; color: #fff; }
.count, .matches { color: var(--muted); font-variant-numeric: tabular-nums; white-space: nowrap; }
.count { min-width: 8ch; text-align: right; overflow: hidden; text-overflow: ellipsis; flex: 0 1 auto; }
.spacer { flex: 1 1 0; min-width: 0; }
/* Level chips: a coloured dot, the level, its count (fixed widths: counts change without moving anything). */
.levels { display: inline-flex; gap: 2px; }
.lvchip { display: inline-flex; align-items: center; gap: 3px; padding: 0 4px; height: 20px; border-radius: 10px; font-size: 11px;
  background: var(--bg); color: var(--fg); border: 1px solid var(--border); }
.lvchip .dot { width: 7px; height: 7px; border-radius: 50%; background: var(--lv); flex: none; }
.lvchip .n { min-width: 2.6ch; text-align: right; font-variant-numeric: tabular-nums; color: var(--muted); }
.lvchip[aria-pressed="false"] { opacity: .55; text-decoration: line-through; background: transparent; }
.lvchip[aria-pressed="false"] .dot { background: transparent; box-shadow: inset 0 0 0 1px var(--lv); }
.lvchip[aria-pressed="true"] { background: color-mix(in srgb, var(--lv) 10%, var(--bg)); color: var(--fg); border-color: color-mix(in srgb, var(--lv) 45%, var(--border)); }
.lv-error { --lv: var(--stderr); } .lv-warn { --lv: var(--warn); } .lv-info { --lv: var(--info); } .lv-debug { --lv: var(--debug); } .lv-other { --lv: var(--muted); }
.find { display: inline-flex; align-items: center; gap: 4px; flex: 0 1 34ch; min-width: 11ch; }
input.search { flex: 1 1 auto; width: 100%; min-width: 6ch; font: inherit; padding: 2px 6px; border: 1px solid var(--border);
  border-radius: 4px; background: var(--bg); color: var(--fg); box-sizing: border-box; height: 22px; }
input.search.invalid { border-color: var(--stderr); outline-color: var(--stderr); }
.matches { min-width: 7.5ch; font-size: 11px; }
.matches:empty { min-width: 0; }
button, select { font: inherit; padding: 1px 6px; border: 1px solid var(--border); border-radius: 4px; background: var(--bg);
  color: var(--fg); cursor: pointer; }
button[aria-pressed="true"] { background: var(--accent); color: var(--bg); border-color: var(--accent); }
button:focus-visible, select:focus-visible, input:focus-visible, .log:focus-visible { outline: 2px solid var(--accent); outline-offset: 1px; }
.i { width: 14px; height: 14px; fill: none; stroke: currentColor; stroke-width: 1.5; stroke-linecap: round; stroke-linejoin: round; flex: none; }
.more .i { stroke-width: 2.6; }
button.icon[aria-pressed="true"], .item[aria-pressed="true"] { background: color-mix(in srgb, var(--accent) 16%, var(--bg)); color: var(--accent);
  border-color: color-mix(in srgb, var(--accent) 55%, var(--border)); }
button.icon { display: inline-flex; align-items: center; justify-content: center; width: 24px; height: 22px; padding: 0; }
button.icon[hidden], .item[hidden] { display: none; }
button.done { color: var(--ok); border-color: var(--ok); }
.maximize { margin-left: 4px; }
/* Secondary controls: icons in a row when the pane is wide, a menu of labelled items when narrow. */
.extra { display: inline-flex; gap: 4px; align-items: center; }
.extra .item { display: inline-flex; align-items: center; gap: 6px; height: 22px; padding: 0 5px; }
.extra .label { display: none; }
.tsbox { display: inline-flex; align-items: center; gap: 3px; color: var(--muted); }
.tsbox select { height: 22px; padding: 0 2px; font-size: 11px; max-width: 22ch; }
.more { display: none; }
@container (max-width: 1599px) {
  .more { display: inline-flex; }
  .extra { display: none; }
  .bar.expanded .extra { display: grid; grid-template-columns: 1fr 1fr; gap: 2px 4px; position: absolute; right: 6px; top: 30px; z-index: 5;
    padding: 6px; background: var(--bg); border: 1px solid var(--border); border-radius: 6px; box-shadow: 0 6px 18px rgba(0,0,0,.18);
    max-height: calc(100% - 40px); overflow: auto; }
  .bar.expanded .extra .item { justify-content: flex-start; border-color: transparent; white-space: nowrap; }
  .bar.expanded .extra .item[aria-pressed="true"] { border-color: var(--accent); }
  .bar.expanded .extra .label { display: inline; }
  .bar.expanded .extra .tsbox { grid-column: 1 / -1; }
}
/* Narrower: chips keep the dot and the count (the level is in the tooltip), the count of lines goes. */
@container (max-width: 760px) {
  .lvchip .lvname { display: none; }
  .lvchip { padding: 0 4px; gap: 2px; }
  .count { display: none; }
  .bar .title { max-width: 14ch; }
}
/* Phone-sized: the level chips move into the "⋯" menu while it is open. */
@container (max-width: 480px) {
  .bar > .levels, .bar button.grep, .bar button.prev { display: none; }
  .state { width: 8.5ch; }
  .bar.expanded .extra .levels { display: inline-flex; flex-wrap: wrap; grid-column: 1 / -1; gap: 3px; }
  .bar.expanded .extra .lvchip .lvname { display: inline; }
}
:host([chrome="none"]) .bar { display: none; }

.log { flex: 1; overflow: auto; padding: 2px 0; outline: none; overscroll-behavior: contain; overflow-anchor: none; position: relative; min-width: 0; }
/* What lies above the first line: older lines to load, loading, the start of the log. */
.older { padding: 2px 8px 4px; text-align: center; color: var(--muted); font: 12px system-ui, sans-serif; }
.older[hidden] { display: none; }
.older.start, .older.cleared { font-style: italic; }
.older.error { color: var(--stderr); }
.older button { font-size: 11px; padding: 0 8px; border-style: dashed; color: var(--muted); }
.notice { display: flex; flex-wrap: wrap; gap: 2px 14px; align-items: center; padding: 3px 8px; background: var(--bar);
  border-bottom: 1px solid var(--border); font: 12px system-ui, sans-serif; color: var(--muted); }
.notice[hidden], .members[hidden] { display: none; }
.notice .item { overflow-wrap: anywhere; }
.notice .error { color: var(--stderr); }
.notice button { font-size: 11px; padding: 0 6px; }
.notice .suggestion { color: var(--accent); border-color: var(--accent); }
/* Group panes: a coloured label per member, and switches to show or hide each member. */
.members { display: flex; flex-wrap: wrap; gap: 3px 4px; align-items: center; padding: 3px 6px; background: var(--bar);
  border-bottom: 1px solid var(--border); font: 12px system-ui, sans-serif; max-height: 5.5em; overflow: auto; }
.members-label { color: var(--muted); margin-right: 2px; }
.members .chip { font: 600 11px ui-monospace, monospace; padding: 0 6px; border-radius: 10px; color: var(--mc); border-color: var(--mc);
  background: color-mix(in srgb, var(--mc) 12%, var(--bg)); }
.members .chip[aria-pressed="false"] { color: var(--muted); border-color: var(--border); background: var(--bg); text-decoration: line-through; }
.members .chip.gone { border-style: dashed; font-style: italic; }
.member { color: var(--mc); font-weight: 600; margin-right: 1ch; }
.line.event .member { font-style: normal; margin-right: 0; }
/* Ten hues, each with AA contrast (≥ 4.5) on the light and on the dark background. */
.mc-0 { --mc: var(--m0); } .mc-1 { --mc: var(--m1); } .mc-2 { --mc: var(--m2); } .mc-3 { --mc: var(--m3); } .mc-4 { --mc: var(--m4); }
.mc-5 { --mc: var(--m5); } .mc-6 { --mc: var(--m6); } .mc-7 { --mc: var(--m7); } .mc-8 { --mc: var(--m8); } .mc-9 { --mc: var(--m9); }
/* Jump to a moment: a row of its own, opened from the toolbar. */
.jumpbar { display: flex; flex-wrap: wrap; gap: 4px 10px; align-items: center; padding: 3px 8px; background: var(--bar);
  border-bottom: 1px solid var(--border); font: 12px system-ui, sans-serif; color: var(--muted); }
.jumpbar[hidden] { display: none; }
.jumpbar input { font: 12px system-ui, sans-serif; padding: 1px 4px; border: 1px solid var(--border); border-radius: 4px;
  background: var(--bg); color: var(--fg); }
:host([theme="dark"]) .jumpbar input { color-scheme: dark; }

/* Entries. */
.line { position: relative; padding: 0 8px 0 6px; border-left: 3px solid transparent; white-space: pre-wrap; overflow-wrap: anywhere; }
.nowrap .line { white-space: pre; overflow-wrap: normal; }
.line.partial { opacity: .65; }
.line:hover, .line.armed { background: color-mix(in srgb, var(--border) 35%, transparent); }
.line.stderr { border-left-color: var(--stderr); color: var(--stderr); background: color-mix(in srgb, var(--stderr-bg) 60%, transparent); }
.line.lvl-error { border-left-color: var(--stderr); }
.line.lvl-error .lvl { color: var(--stderr); }
.line.lvl-warn { border-left-color: var(--warn); background: color-mix(in srgb, var(--warn-bg) 55%, transparent); }
.line.lvl-warn .lvl { color: var(--warn); }
.line.lvl-info .lvl { color: var(--info); }
.line.lvl-debug { color: var(--debug); }
.lvl { display: inline-block; width: 5ch; margin-right: 1ch; font-size: 11px; font-weight: 600; text-transform: uppercase; user-select: none; }
.ts { color: var(--muted); margin-right: 1ch; user-select: none; font-variant-numeric: tabular-nums; }
.hide-ts .ts { display: none; }
.hide-stdout .line.stdout, .hide-stderr .line.stderr { display: none; }
.hide-l-error .line.lvl-error, .hide-l-warn .line.lvl-warn, .hide-l-info .line.lvl-info, .hide-l-debug .line.lvl-debug,
.hide-l-other .line.lvl-other { display: none; }
.only-matches .line:not(.match):not(.event):not(.ctx) { display: none; }
.only-matches .line.ctx:not(.match) { opacity: .72; border-left-style: dotted; }
.line.event { color: var(--event); font-style: italic; border-left-color: var(--event); }
.line.event .ts { font-style: normal; }
.line.ev-end-fail { color: var(--stderr); border-left-color: var(--stderr); }
.line.ev-end-ok, .line.ev-removed { color: var(--neutral); border-left-color: var(--neutral); }
.line.ev-restart { color: var(--ok); border-left-color: var(--ok); }
mark { background: var(--mark); color: inherit; border-radius: 2px; }
mark.current { background: var(--current); }
.line.current { box-shadow: inset 0 0 0 1px var(--current); }
/* The line a permalink opened at. */
.line.target { background: var(--target); border-left-color: var(--accent); box-shadow: inset 0 0 0 1px var(--accent); }
/* Multi-line entries: the first line, a fold control with the count, the further lines. */
.fold { font: 11px system-ui, sans-serif; padding: 0 5px; margin-left: 1ch; border-radius: 8px; color: var(--muted); vertical-align: 1px; }
.fold.has-match { background: var(--mark); color: var(--fg); border-color: var(--current); }
.cont { margin-left: 2ch; }
/* JSON entries: the message, the other fields dimmed, a tree when expanded. */
.j-fields { color: var(--muted); }
.j-k { opacity: .85; }
.json-toggle { position: absolute; right: 6px; top: 0; font-size: 11px; line-height: 1.3; padding: 0 4px; opacity: 0; background: var(--bg); }
.line:hover .json-toggle, .line.armed .json-toggle, .line:focus-within .json-toggle, .json-toggle:focus-visible, .line.open .json-toggle { opacity: 1; }
.line.jsonl { padding-right: 40px; }
pre.json { margin: 2px 0 2px 2ch; white-space: pre-wrap; overflow-wrap: anywhere; font: inherit; color: var(--fg); }
.j-key { color: var(--j-key); } .j-str { color: var(--j-str); } .j-num { color: var(--j-num); } .j-bool { color: var(--j-bool); } .j-null { color: var(--j-null); font-style: italic; }
/* An entry's actions (one set, moved to the entry under the pointer or with focus). */
.actions { position: absolute; top: 0; right: 6px; display: inline-flex; gap: 2px; opacity: 0; pointer-events: none; }
.line.jsonl .actions { right: 40px; }
.line:hover > .actions, .line.armed > .actions, .actions:focus-within { opacity: 1; pointer-events: auto; }
.act { display: inline-flex; align-items: center; justify-content: center; width: 22px; height: 18px; padding: 0; background: var(--bg); color: var(--muted); }
.act:hover { color: var(--fg); }
.act-context { display: none; }
.only-matches .line.match > .actions .act-context { display: inline-flex; }
.newlines { position: absolute; right: 16px; bottom: 14px; padding: 4px 10px; border-radius: 14px; background: var(--accent);
  color: var(--bg); border: none; box-shadow: 0 2px 6px rgba(0,0,0,.25); font: 12px system-ui, sans-serif; }
.newlines[hidden] { display: none; }
`;
