// Styles of <docktail-log>, adopted into its shadow root as a constructed stylesheet, so they
// need no inline <style> (which the Content-Security-Policy forbids) and cannot leak out.
export const css = `
:host { display: flex; flex-direction: column; min-height: 120px; height: 100%;
  --bg: #ffffff; --fg: #1f2328; --muted: #656d76; --border: #d0d7de; --bar: #f6f8fa;
  --stderr: #cf222e; --stderr-bg: #ffebe9; --warn: #9a6700; --warn-bg: #fff8c5; --info: #0969da; --debug: #8c959f;
  --mark: #ffd33d; --current: #fb8f44; --accent: #0969da; --event: #6e7781;
  --ansi-0: #000000; --ansi-1: #cd3131; --ansi-2: #00a000; --ansi-3: #8a8d00; --ansi-4: #0451a5; --ansi-5: #bc05bc; --ansi-6: #0598bc; --ansi-7: #555555;
  --ansi-8: #666666; --ansi-9: #cd3131; --ansi-10: #14a014; --ansi-11: #9a9e00; --ansi-12: #0451a5; --ansi-13: #bc05bc; --ansi-14: #0598bc; --ansi-15: #a5a5a5;
  --m0: #0550ae; --m1: #8250df; --m2: #1a7f37; --m3: #bc4c00; --m4: #bf3989; --m5: #0a6e78; --m6: #7d4e00; --m7: #5b6b00; --m8: #57606a; --m9: #a0305a;
  font: 13px/1.45 ui-monospace, SFMono-Regular, Menlo, Consolas, "Liberation Mono", monospace;
  color: var(--fg); background: var(--bg); border: 1px solid var(--border); border-radius: 6px; overflow: hidden;
  contain: content; position: relative; }
:host([theme="dark"]) { --bg: #0d1117; --fg: #e6edf3; --muted: #8d96a0; --border: #30363d; --bar: #161b22;
  --stderr: #ff7b72; --stderr-bg: #2d1214; --warn: #d29922; --warn-bg: #2b2111; --info: #58a6ff; --debug: #6e7681;
  --mark: #9e6a03; --current: #bd561d; --accent: #58a6ff; --event: #8b949e;
  --ansi-0: #000000; --ansi-1: #cd3131; --ansi-2: #0dbc79; --ansi-3: #e5e510; --ansi-4: #2472c8; --ansi-5: #bc3fbc; --ansi-6: #11a8cd; --ansi-7: #e5e5e5;
  --ansi-8: #666666; --ansi-9: #f14c4c; --ansi-10: #23d18b; --ansi-11: #f5f543; --ansi-12: #3b8eea; --ansi-13: #d670d6; --ansi-14: #29b8db; --ansi-15: #ffffff;
  --m0: #79c0ff; --m1: #d2a8ff; --m2: #7ee787; --m3: #ffa657; --m4: #ff9bce; --m5: #56d4dd; --m6: #e3b341; --m7: #c3d05a; --m8: #b1bac4; --m9: #ff7eb0; }
@media (prefers-color-scheme: dark) {
  :host(:not([theme="light"])) { --bg: #0d1117; --fg: #e6edf3; --muted: #8d96a0; --border: #30363d; --bar: #161b22;
    --stderr: #ff7b72; --stderr-bg: #2d1214; --warn: #d29922; --warn-bg: #2b2111; --info: #58a6ff; --debug: #6e7681;
    --mark: #9e6a03; --current: #bd561d; --accent: #58a6ff; --event: #8b949e;
    --ansi-0: #000000; --ansi-1: #cd3131; --ansi-2: #0dbc79; --ansi-3: #e5e510; --ansi-4: #2472c8; --ansi-5: #bc3fbc; --ansi-6: #11a8cd; --ansi-7: #e5e5e5;
  --ansi-8: #666666; --ansi-9: #f14c4c; --ansi-10: #23d18b; --ansi-11: #f5f543; --ansi-12: #3b8eea; --ansi-13: #d670d6; --ansi-14: #29b8db; --ansi-15: #ffffff;
  --m0: #79c0ff; --m1: #d2a8ff; --m2: #7ee787; --m3: #ffa657; --m4: #ff9bce; --m5: #56d4dd; --m6: #e3b341; --m7: #c3d05a; --m8: #b1bac4; --m9: #ff7eb0; }
}
.bar { display: flex; flex-wrap: wrap; gap: 4px 6px; align-items: center; padding: 4px 6px; background: var(--bar);
  border-bottom: 1px solid var(--border); font: 12px system-ui, sans-serif; }
.bar .title { font-weight: 600; margin-right: 4px; max-width: 24ch; overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
.state { padding: 0 6px; border-radius: 10px; background: var(--border); color: var(--fg); }
.state.live { background: #1a7f37; color: #fff; }
.state.reconnecting, .state.connecting { background: #9a6700; color: #fff; }
.state.stopped, .state.error, .state.not.found, .state.unauthorized, .state.unreachable { background: #cf222e; color: #fff; }
.state.removed { background: #6e7781; color: #fff; }
.count, .matches { color: var(--muted); font-variant-numeric: tabular-nums; }
.spacer { flex: 1; }
input.search { width: 16ch; min-width: 8ch; flex: 0 1 22ch; font: inherit; padding: 2px 6px; border: 1px solid var(--border);
  border-radius: 4px; background: var(--bg); color: var(--fg); }
input.search.invalid { border-color: var(--stderr); }
button, select { font: inherit; padding: 1px 6px; border: 1px solid var(--border); border-radius: 4px; background: var(--bg);
  color: var(--fg); cursor: pointer; }
button[aria-pressed="true"] { background: var(--accent); color: var(--bg); border-color: var(--accent); }
button:focus-visible, select:focus-visible, input:focus-visible, .log:focus-visible { outline: 2px solid var(--accent); outline-offset: 1px; }
.log { flex: 1; overflow: auto; padding: 2px 0; outline: none; overscroll-behavior: contain; overflow-anchor: none; }
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
.grep { white-space: nowrap; }
.line { padding: 0 8px 0 6px; border-left: 3px solid transparent; white-space: pre-wrap; word-break: break-all; }
.nowrap .line { white-space: pre; word-break: normal; }
.line.partial { opacity: .65; }
.line:hover { background: color-mix(in srgb, var(--border) 35%, transparent); }
.line.stderr { border-left-color: var(--stderr); color: var(--stderr); background: color-mix(in srgb, var(--stderr-bg) 60%, transparent); }
.line.lvl-error { border-left-color: var(--stderr); }
.line.lvl-error .lvl { color: var(--stderr); }
.line.lvl-warn { border-left-color: var(--warn); background: color-mix(in srgb, var(--warn-bg) 55%, transparent); }
.line.lvl-info .lvl { color: var(--info); }
.line.lvl-debug { color: var(--debug); }
.lvl { display: inline-block; width: 5ch; margin-right: 1ch; font-size: 11px; font-weight: 600; text-transform: uppercase; user-select: none; }
.ts { color: var(--muted); margin-right: 1ch; user-select: none; }
.hide-ts .ts { display: none; }
.hide-stdout .line.stdout, .hide-stderr .line.stderr { display: none; }
.only-matches .line:not(.match):not(.event) { display: none; }
.line.event { color: var(--event); font-style: italic; border-left-color: var(--event); }
mark { background: var(--mark); color: inherit; border-radius: 2px; }
mark.current { background: var(--current); }
.json-toggle { font-size: 11px; padding: 0 4px; margin-right: 6px; }
pre.json { margin: 2px 0 2px 2ch; white-space: pre-wrap; }
.newlines { position: absolute; right: 16px; bottom: 14px; padding: 4px 10px; border-radius: 14px; background: var(--accent);
  color: var(--bg); border: none; box-shadow: 0 2px 6px rgba(0,0,0,.25); font: 12px system-ui, sans-serif; }
.newlines[hidden] { display: none; }
:host([chrome="none"]) .bar { display: none; }
:host { container-type: inline-size; }
.extra { display: contents; }
.more { display: none; }
/* Narrow panes (dashboard grid, embeds): secondary controls fold behind "⋯". */
@container (max-width: 980px) {
  .more { display: inline-block; }
  .extra { display: none; }
  .bar.expanded .extra { display: flex; flex-wrap: wrap; gap: 4px 6px; flex-basis: 100%; }
  input.search { flex: 1 1 12ch; }
}
`;
