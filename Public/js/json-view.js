// Structured (JSON) log lines: a one-line summary (the message first, then the other fields as
// dimmed key=value) and, expanded, a syntax-coloured tree. Text goes in through text nodes only.
import { appendHighlighted, renderAnsi } from './ansi.js';

/** Where loggers put the message: zap/pino/logrus `msg`, `message`, Serilog `@m`, Docker-style `log`. */
export const MESSAGE_KEYS = ['msg', 'message', '@m', 'log', '@mt', 'event'];
/** Where they put the level (shown as the pane's level badge instead). */
export const LEVEL_KEYS = ['level', 'lvl', 'severity', '@l', 'levelname', 'log.level', 'loglevel'];

const MAX_FIELDS = 60;
const MAX_VALUE = 160;
const MAX_DEPTH = 64;

/** The object of a JSON line (`{…}`), or null. */
export function parseJsonLine(text) {
  const t = text.length > 1 && text.charCodeAt(text.length - 1) === 32 ? text.trimEnd() : text;
  if (t.length < 2 || t[0] !== '{' || t[t.length - 1] !== '}') return null;
  try {
    const v = JSON.parse(t);
    return v && typeof v === 'object' && !Array.isArray(v) ? v : null;
  } catch { return null; }
}

/** The key holding the message, or null. */
export function messageKey(obj) {
  for (const k of MESSAGE_KEYS) if (typeof obj[k] === 'string') return k;
  return null;
}

function valueText(v) {
  if (typeof v === 'string') return v === '' || /[\s"=]/.test(v) ? JSON.stringify(v) : v;
  if (v === null || typeof v !== 'object') return String(v);
  let s;
  try { s = JSON.stringify(v); } catch { s = String(v); }
  return s.length > MAX_VALUE ? `${s.slice(0, MAX_VALUE)}…` : s;
}

/** Appends the summary: the message, then ` key=value` for the other fields (dimmed). */
export function renderJsonSummary(parent, obj, highlight) {
  const mk = messageKey(obj);
  if (mk) {
    const msg = document.createElement('span');
    msg.className = 'j-msg';
    renderAnsi(msg, obj[mk], highlight);
    parent.appendChild(msg);
  }
  const fields = document.createElement('span');
  fields.className = 'j-fields';
  let n = 0;
  const keys = Object.keys(obj);
  for (const k of keys) {
    if (k === mk || LEVEL_KEYS.includes(k)) continue;
    if (n === MAX_FIELDS) { fields.appendChild(document.createTextNode(` …+${keys.length - n - 2}`)); break; }
    const key = document.createElement('span');
    key.className = 'j-k';
    key.textContent = `${n || mk ? ' ' : ''}${k}=`;
    fields.appendChild(key);
    appendHighlighted(fields, valueText(obj[k]), highlight);
    n++;
  }
  if (n) parent.appendChild(fields);
}

function span(parent, cls, text, highlight) {
  const s = document.createElement('span');
  s.className = cls;
  appendHighlighted(s, text, highlight);
  parent.appendChild(s);
}

/** A syntax-coloured, indented tree of `v` (keys, strings, numbers, booleans, null) into `pre`. */
export function renderJsonTree(pre, v, highlight, indent = '', depth = 0) {
  const text = (t) => pre.appendChild(document.createTextNode(t));
  if (v === null) { span(pre, 'j-null', 'null'); return; }
  if (typeof v === 'string') { span(pre, 'j-str', JSON.stringify(v), highlight); return; }
  if (typeof v === 'number') { span(pre, 'j-num', String(v), highlight); return; }
  if (typeof v === 'boolean') { span(pre, 'j-bool', String(v)); return; }
  if (depth >= MAX_DEPTH) { span(pre, 'j-str', JSON.stringify(v), highlight); return; }
  const array = Array.isArray(v);
  const keys = array ? null : Object.keys(v);
  const n = array ? v.length : keys.length;
  if (!n) { text(array ? '[]' : '{}'); return; }
  text(array ? '[\n' : '{\n');
  const inner = `${indent}  `;
  for (let i = 0; i < n; i++) {
    text(inner);
    if (!array) {
      span(pre, 'j-key', JSON.stringify(keys[i]), highlight);
      text(': ');
    }
    renderJsonTree(pre, array ? v[i] : v[keys[i]], highlight, inner, depth + 1);
    text(i < n - 1 ? ',\n' : '\n');
  }
  text(`${indent}${array ? ']' : '}'}`);
}
