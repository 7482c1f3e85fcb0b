// What the dashboard's time column says about a container: how long it has been up (running,
// paused), or how long ago it stopped and with which exit code. Never the state again: the badge
// beside it says that.
//
// Times are intervals [lo, hi] (ms since the epoch) of what is known: exact from an engine event
// (`start`, `die`: lo = hi), or estimated from the engine's status text ("Up 5 minutes" means
// 5 to 6 minutes before the list was fetched: Docker truncates). Estimates of the same run are
// intersected, so they tighten as the list is fetched again; the text is never finer than what
// is known ("2 h" when only the hour is known).

const UNIT = { second: 1e3, minute: 60e3, hour: 3600e3, day: 86400e3, week: 7 * 86400e3, month: 30 * 86400e3, year: 365 * 86400e3 };

/** Docker's human duration ("Less than a second", "About a minute", "5 minutes") → {ms, unit}. */
export function parseDuration(text) {
  const t = String(text || '').trim().toLowerCase();
  if (t === 'less than a second') return { ms: 0, unit: 1e3 };
  if (t === 'about a minute') return { ms: 60e3, unit: 60e3 };
  if (t === 'about an hour') return { ms: 3600e3, unit: 3600e3 };
  const m = /^(\d+) (second|minute|hour|day|week|month|year)s?$/.exec(t);
  return m ? { ms: Number(m[1]) * UNIT[m[2]], unit: UNIT[m[2]] } : null;
}

/**
 * The engine's status text: "Up 5 minutes (healthy)", "Up 2 hours (Paused)",
 * "Exited (137) 3 minutes ago", "Restarting (1) 2 seconds ago", "Created", "Dead".
 * → {up?, ago?, exitCode?, health?}
 */
export function parseStatus(status) {
  let s = String(status || '').trim();
  const out = {};
  const suffix = /\s*\((healthy|unhealthy|health: starting|paused)\)$/i.exec(s);
  if (suffix) {
    const v = suffix[1].toLowerCase();
    if (v !== 'paused') out.health = v === 'health: starting' ? 'starting' : v;
    s = s.slice(0, suffix.index);
  }
  let m = /^up (.+)$/i.exec(s);
  if (m) {
    const d = parseDuration(m[1]);
    if (d) out.up = d;
    return out;
  }
  m = /^(?:exited|restarting) \((-?\d+)\)(?: (.+) ago)?$/i.exec(s);
  if (m) {
    out.exitCode = Number(m[1]);
    const d = m[2] && parseDuration(m[2]);
    if (d) out.ago = d;
  }
  return out;
}

/** An engine timestamp (RFC 3339, nanoseconds) → ms, or null. */
export function parseTime(ts) {
  if (!ts || ts.startsWith('0001-')) return null;
  const ms = Date.parse(String(ts).replace(/(\.\d{3})\d+/, '$1'));
  return Number.isNaN(ms) ? null : ms;
}

/** The interval a duration read at `at` puts a moment in. */
export function intervalBefore(at, d) {
  return { lo: at - d.ms - d.unit, hi: at - d.ms };
}

export const exactly = (ms) => ({ lo: ms, hi: ms });

/** The newer knowledge of a moment: the intersection when both describe the same one, else `next`. */
export function refine(prev, next) {
  if (!prev) return next;
  if (!next) return prev;
  const lo = Math.max(prev.lo, next.lo);
  const hi = Math.min(prev.hi, next.hi);
  // Disjoint (more than clock noise apart): a different run; the new reading wins.
  if (lo > hi + 2000) return next;
  return lo <= hi ? { lo, hi } : { lo: hi, hi: lo };
}

/** "<1m", "12m", "3h 05m", "2d 4h": an elapsed time, compact, never finer than `precision` ms. */
export function formatSpan(ms, precision = 0) {
  const s = Math.max(0, ms) / 1000;
  const d = Math.floor(s / 86400);
  const h = Math.floor(s / 3600);
  const m = Math.floor(s / 60);
  if (precision > 2 * 86400e3) return `${Math.max(1, d)}d`;
  if (s < 60 && precision <= 60e3) return '<1m';
  if (s < 3600 && precision <= 60e3) return `${m}m`;
  if (s < 48 * 3600) {
    if (precision <= 5 * 60e3) return `${h}h ${String(m % 60).padStart(2, '0')}m`;
    return `${Math.max(1, h)}h`;
  }
  if (precision <= 3600e3) return `${d}d ${h % 24}h`;
  return `${d}d`;
}

const pad = (n) => String(n).padStart(2, '0');
/** A moment for people: 14:02:11, with the date when it is not today; "about" when estimated. */
function moment(iv) {
  const at = new Date((iv.lo + iv.hi) / 2);
  const today = new Date(Date.now());
  let text = `${pad(at.getHours())}:${pad(at.getMinutes())}${iv.hi - iv.lo <= 60e3 ? `:${pad(at.getSeconds())}` : ''}`;
  if (at.toDateString() !== today.toDateString()) text = `${at.getFullYear()}-${pad(at.getMonth() + 1)}-${pad(at.getDate())} ${text}`;
  return iv.hi - iv.lo > 1500 ? `about ${text}` : text;
}

/**
 * The time cell of a container at `now`: {text, title, cls}. `c` has state, status, created (s),
 * and the intervals `started`, `stopped` the dashboard keeps, `exitCode`, `health`.
 */
export function timeCell(c, now) {
  const since = (iv) => formatSpan(now - (iv.lo + iv.hi) / 2, iv.hi - iv.lo);
  const engine = c.status && c.status.toLowerCase() !== c.state ? ` · engine: “${c.status}”` : '';
  const health = c.health ? ` · ${c.health === 'starting' ? 'health: starting' : c.health}` : '';
  switch (c.state) {
    case 'running':
    case 'paused':
      if (!c.started) return { text: health.slice(3), title: `${c.status || c.state}`, cls: c.health || '' };
      return { text: `${since(c.started)}${health}`, title: `up since ${moment(c.started)}${health}`, cls: c.health || '' };
    case 'exited':
    case 'dead':
    case 'restarting': {
      const code = c.exitCode != null ? `exit ${c.exitCode}` : '';
      const ago = c.stopped ? `${since(c.stopped)} ago` : '';
      const text = [code, ago].filter(Boolean).join(' · ');
      const title = `${c.stopped ? `stopped at ${moment(c.stopped)}` : c.state}${c.exitCode != null ? ` with exit code ${c.exitCode}` : ''}${c.stopped ? '' : engine}`;
      return { text, title, cls: c.exitCode ? 'failed' : '' };
    }
    case 'created': {
      if (!c.created) return { text: '', title: 'created, never started', cls: '' };
      const iv = { lo: c.created * 1000, hi: c.created * 1000 + 999 };
      return { text: `${since(iv)} ago`, title: `created at ${moment(iv)}, never started`, cls: '' };
    }
    default:
      return { text: '', title: c.status || c.state, cls: '' };
  }
}
