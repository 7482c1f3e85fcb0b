// Multi-line log entries: which lines continue the entry before them (a stack trace, a Python
// traceback, an indented block) instead of starting one of their own. Pure functions, kept cheap:
// the pane asks once per line, 50,000 times a second in a burst.

/**
 * Lines that continue an entry by their form: indented lines (Java's `\tat …`, Python's
 * `  File "…", line N`), `at …`, `... 12 more`, `Caused by:`, `Suppressed:`, Python's traceback
 * head and chaining sentences, a qualified exception class (`java.lang.IllegalStateException: …`),
 * a Go goroutine header.
 */
const CONTINUATION = /^(?:[ \t]+\S|at [\w$.<>/]+[.(]|\.\.\. \d+ (?:more|common frames omitted)|Caused by: |Suppressed: |Traceback \(most recent call last\):|During handling of the above exception|The above exception was the direct cause|(?:[a-zA-Z_$][\w$]*\.)+[A-Z][\w$]*(?:Exception|Error|Throwable)\b|goroutine \d+ \[)/;

/** Lines that start like an entry of their own: a date or time, a level word, a JSON object, logfmt. */
const NEW_ENTRY = /^(?:\[?\d{4}-\d\d-\d\d|\[?\d\d:\d\d:\d\d|\[?[A-Z][a-z]{2} [ \d]\d |\{|\[?(?:ERROR|ERR|WARN(?:ING)?|INFO|DEBUG|TRACE|FATAL|PANIC|CRIT(?:ICAL)?|NOTICE|Error|Warn(?:ing)?|Info|Debug)\b|(?:level|lvl|time|ts|msg)=|[EWIDF]\d{4} )/;

/** A continuation by form joins an entry whose last line is at most this old (ms). */
export const JOIN_BY_FORM_MS = 1000;
/** Any line that does not start like an entry joins an entry already spanning lines (or whose head ends with `:`) this soon after (ms). */
export const JOIN_BY_TIME_MS = 10;
/** An entry holds at most this many lines (a runaway indented dump becomes several entries). */
export const MAX_ENTRY_LINES = 2000;
/** Entries longer than this many lines are shown collapsed to their first line. */
export const COLLAPSE_OVER = 3;

/**
 * Milliseconds since the epoch of an RFC 3339 stamp (the fraction may hold nanoseconds; past the
 * microsecond a double cannot tell them apart, so compare stamps with tsKey, not with this).
 */
export function tsMillis(ts) {
  if (!ts) return NaN;
  const dot = ts.indexOf('.', 19);
  if (dot !== 19) return Date.parse(ts);
  let end = dot + 1;
  while (end < ts.length && ts.charCodeAt(end) >= 48 && ts.charCodeAt(end) <= 57) end++;
  const base = Date.parse(ts.slice(0, 19) + ts.slice(end));
  return base + Number(`0.${ts.slice(dot + 1, end) || '0'}`) * 1000;
}

/** [the stamp to the second in ms, its milliseconds 0…999 as written] (no rounding up into the next second). */
export function tsSecondAndMs(ts) {
  if (!ts) return [NaN, 0];
  const dot = ts.indexOf('.', 19);
  if (dot !== 19) return [Date.parse(ts), 0];
  let end = dot + 1;
  while (end < ts.length && ts.charCodeAt(end) >= 48 && ts.charCodeAt(end) <= 57) end++;
  return [Date.parse(ts.slice(0, 19) + ts.slice(end)), Number((ts.slice(dot + 1, Math.min(end, dot + 4)) + '00').slice(0, 3))];
}

const indented = (s) => s.charCodeAt(0) === 32 || s.charCodeAt(0) === 9;
const blank = (s) => s.length === 0 || (s.charCodeAt(0) <= 32 && !/\S/.test(s));

/**
 * Whether the line `plain` (stamped `ts`) continues `entry`: {ts, plain, head?, more?, lastMs?}
 * (`head` is the first line's text once the entry spans lines, `more` its further lines, `lastMs`
 * the stamp of its last line). The caller has checked that the stream (and member) are the same.
 */
export function continues(entry, plain, ts) {
  const head = entry.head ?? entry.plain;
  // Nothing joins a blank line; a blank line joins only an entry already spanning lines (the
  // blank line between chained Python tracebacks).
  if (blank(head)) return false;
  let window;
  if (blank(plain)) {
    if (!entry.more) return false;
    window = JOIN_BY_TIME_MS;
  } else if (CONTINUATION.test(plain)) {
    // An indented line does not join an indented head: a log whose every line is indented is
    // a log of single lines.
    if (indented(plain) && indented(head)) return false;
    window = JOIN_BY_FORM_MS;
  } else {
    if (!entry.more && head.charCodeAt(head.length - 1) !== 58 /* : */) return false;
    if (NEW_ENTRY.test(plain)) return false;
    window = JOIN_BY_TIME_MS;
  }
  if (entry.more && entry.more.length >= MAX_ENTRY_LINES - 1) return false;
  const dt = tsMillis(ts) - (entry.lastMs ?? tsMillis(entry.ts));
  return dt <= window && dt >= -window;
}
