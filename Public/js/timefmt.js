// Times for people: the pane's timestamp column (local time, UTC or relative), and the full
// stamp with date, nanoseconds and UTC offset that a timestamp's tooltip shows.
import { tsMillis, tsSecondAndMs } from './entries.js';

const p2 = (n) => (n < 10 ? `0${n}` : String(n));
const p3 = (n) => (n < 10 ? `00${n}` : n < 100 ? `0${n}` : String(n));

/** "UTC+05:30" for the local time zone at `date`. */
export function offsetLabel(date = new Date()) {
  const off = -date.getTimezoneOffset();
  const sign = off < 0 ? '−' : '+';
  const a = Math.abs(off);
  return `UTC${sign}${p2(Math.floor(a / 60))}:${p2(a % 60)}`;
}

/** The local time zone's name when the browser knows it ("Europe/Paris"), else "". */
export function zoneName() {
  try { return Intl.DateTimeFormat().resolvedOptions().timeZone || ''; } catch { return ''; }
}

/** The fraction of a stamp as written, padded to nanoseconds ("193543767"). */
function nanos(ts) {
  const m = /\.(\d+)/.exec(ts || '');
  return ((m ? m[1] : '') + '000000000').slice(0, 9);
}

/**
 * The whole moment, for a tooltip: "2026-11-30 07:50:00.193543767 UTC+05:30 (Asia/Kolkata)"
 * and, on a second line, the stamp as the engine wrote it (UTC).
 */
export function fullTime(ts) {
  const [sec] = tsSecondAndMs(ts);
  if (Number.isNaN(sec)) return ts || '';
  const d = new Date(sec);
  const zone = zoneName();
  return `${d.getFullYear()}-${p2(d.getMonth() + 1)}-${p2(d.getDate())} ${p2(d.getHours())}:${p2(d.getMinutes())}:${p2(d.getSeconds())}.${nanos(ts)} ${offsetLabel(d)}${zone ? ` (${zone})` : ''}\n${ts} (UTC)`;
}

/** A stamp for people: 14:02:11, with the date when it is not today. */
export function shortTime(ts) {
  const d = new Date(tsMillis(ts));
  if (Number.isNaN(d.getTime())) return ts;
  const time = `${p2(d.getHours())}:${p2(d.getMinutes())}:${p2(d.getSeconds())}`;
  return d.toDateString() === new Date().toDateString() ? time : `${d.getFullYear()}-${p2(d.getMonth() + 1)}-${p2(d.getDate())} ${time}`;
}

/**
 * The timestamp column: `local` "14:02:11.123" (with "11-29 " in front when not today), `utc`
 * "14:02:11.123Z" (likewise), `relative` "+12.345s" from `first` (ms).
 */
export class Clock {
  constructor() { this.day = -1; this.utcDay = -1; this.key = null; this.prefix = ''; this.keyMode = null; }

  /** Recomputes what "today" is (once per batch, not per line). */
  tick() {
    const now = new Date();
    this.day = now.getFullYear() * 10000 + (now.getMonth() + 1) * 100 + now.getDate();
    this.utcDay = now.getUTCFullYear() * 10000 + (now.getUTCMonth() + 1) * 100 + now.getUTCDate();
    this.key = null;
  }

  format(ts, mode, first) {
    if (mode === 'relative' && first != null) {
      const ms = tsMillis(ts);
      return Number.isNaN(ms) ? ts || '' : `+${((ms - first) / 1000).toFixed(3)}s`;
    }
    if (this.day < 0) this.tick();
    const z = mode === 'utc' ? 'Z' : '';
    // Lines come in bursts within one second: the part to the second is formatted once per
    // second (time zones are whole minutes, so the fraction is the stamp's own).
    if (ts && ts.slice(0, 19) === this.key && mode === this.keyMode) return `${this.prefix}${msDigits(ts)}${z}`;
    const [sec] = tsSecondAndMs(ts);
    if (Number.isNaN(sec)) return ts || '';
    const d = new Date(sec);
    let prefix;
    if (mode === 'utc') {
      const day = d.getUTCFullYear() * 10000 + (d.getUTCMonth() + 1) * 100 + d.getUTCDate();
      prefix = `${day === this.utcDay ? '' : `${p2(d.getUTCMonth() + 1)}-${p2(d.getUTCDate())} `}${p2(d.getUTCHours())}:${p2(d.getUTCMinutes())}:${p2(d.getUTCSeconds())}.`;
    } else {
      const day = d.getFullYear() * 10000 + (d.getMonth() + 1) * 100 + d.getDate();
      prefix = `${day === this.day ? '' : `${p2(d.getMonth() + 1)}-${p2(d.getDate())} `}${p2(d.getHours())}:${p2(d.getMinutes())}:${p2(d.getSeconds())}.`;
    }
    this.key = ts.slice(0, 19);
    this.keyMode = mode;
    this.prefix = prefix;
    return `${prefix}${msDigits(ts)}${z}`;
  }
}

/** The milliseconds of a stamp as written ("193" of ".193543767Z", "200" of ".2Z", "000" without a fraction). */
function msDigits(ts) {
  if (ts.charCodeAt(19) !== 46) return '000';
  let out = '';
  for (let i = 20; i < 23; i++) {
    const c = ts.charCodeAt(i);
    out += c >= 48 && c <= 57 ? ts[i] : '0';
    if (!(c >= 48 && c <= 57)) { out = out.padEnd(3, '0'); break; }
  }
  return out;
}

/** `datetime-local` value (local time) → RFC 3339 in UTC, or null. */
export function fromLocalInput(value) {
  if (!value) return null;
  const t = new Date(value).getTime();
  return Number.isNaN(t) ? null : new Date(t).toISOString();
}

/** RFC 3339 → a `datetime-local` value (local time, to the second). */
export function toLocalInput(ts) {
  const d = new Date(tsMillis(ts));
  if (Number.isNaN(d.getTime())) return '';
  return `${d.getFullYear()}-${p2(d.getMonth() + 1)}-${p2(d.getDate())}T${p2(d.getHours())}:${p2(d.getMinutes())}:${p2(d.getSeconds())}`;
}
