// Talking to the history API for a log pane: pages of older lines
// (GET /api/containers/{ref}/logs), the server-side search pattern of the search box, and
// checking such a pattern before a stream is reopened with it.
import { tsKey } from './log-stream.js';

function apiURL(base, path, params) {
  const u = new URL(path, new URL(base || location.href));
  for (const [k, v] of Object.entries(params)) if (v != null && v !== false) u.searchParams.set(k, v === true ? '1' : String(v));
  return u;
}

async function errorOf(r) {
  const body = await r.json().catch(() => null);
  return (body && body.error) || `${r.status} ${r.statusText}`.trim();
}

/**
 * The line to page back from: among the oldest lines held, the one with the smallest stamp
 * (stdout and stderr are stamped by two readers, so the order of lines can differ slightly
 * from the order of stamps), and the first of its stream with that stamp (ordinal 1).
 */
export function anchorOf(records) {
  let best = null;
  let seen = 0;
  for (const r of records) {
    if (r.marker) continue;
    const key = tsKey(r.ts);
    if (!best || key < best.key) best = { key, r };
    if (++seen >= 200) break;
  }
  return best && { ts: best.r.ts, stream: best.r.stream === 'stderr' ? 'stderr' : 'stdout', ordinal: 1 };
}

/**
 * One page of lines before `cursor` (or before the `anchor` line): {lines, cursor}, oldest first;
 * cursor null once the page holds the log's first line. Throws an Error with the server's words.
 */
export async function fetchOlder({ base, ref, host, token, limit, cursor, anchor, stdout, stderr, grep, icase, signal }) {
  const params = { limit, host, token, grep, icase: grep && icase ? '1' : null };
  if (stdout === false) params.stdout = '0';
  if (stderr === false) params.stderr = '0';
  if (cursor) params.cursor = cursor;
  else if (anchor) Object.assign(params, { before: anchor.ts, stream: anchor.stream, ordinal: anchor.ordinal });
  const r = await fetch(apiURL(base, `/api/containers/${encodeURIComponent(ref)}/logs`, params), { cache: 'no-store', signal });
  if (!r.ok) throw new Error(await errorOf(r));
  const page = await r.json();
  return { lines: Array.isArray(page.lines) ? page.lines : [], cursor: page.cursor ?? null };
}

/**
 * The server-side pattern of the search box: `/regex/flags` as written (RE2 syntax: no
 * lookaround, no backreferences), plain text as a literal. Plain text searches ignore case, as
 * the in-page filter does; a regex does when it carries the `i` flag.
 */
export function grepOf(text) {
  const t = text.trim();
  if (!t) return null;
  const m = /^\/(.+)\/([a-z]*)$/.exec(t);
  if (m) return { pattern: m[1], icase: m[2].includes('i'), label: t };
  return { pattern: t.replace(/[\\.+*?()|[\]{}^$]/g, '\\$&'), icase: true, label: `“${t}”` };
}

/**
 * Null when the server accepts the pattern, else its message ("grep: …"). A HEAD of the
 * download route: the query is checked before anything is read from the engine, and a HEAD
 * reads nothing; only a refused pattern is asked again with GET, for the words.
 */
export async function checkPattern({ base, ref, host, token, grep, icase }) {
  if (!ref) return null;
  const u = apiURL(base, `/api/containers/${encodeURIComponent(ref)}/logs.txt`, { host, token, grep, icase: icase ? '1' : null });
  try {
    const r = await fetch(u, { method: 'HEAD', cache: 'no-store' });
    if (r.status !== 400) return null;
    const again = await fetch(u, { cache: 'no-store' });
    return again.status === 400 ? await errorOf(again) : null;
  } catch {
    return null; // the stream itself will say what is wrong with the server
  }
}
