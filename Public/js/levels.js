// Log level detection for the common forms: ERROR, level=warn, "level":"error", "level":50
// (pino), "@l":"Warning" (Serilog), [E], E1129 …

/** The levels of the pane's filter chips, in their order; `other` is a line with no level. */
export const LEVELS = ['error', 'warn', 'info', 'debug', 'other'];

const PATTERNS = [
  [/"(?:level|lvl|severity|@l|levelname|log\.level|loglevel)"\s*:\s*"?(\w+)/i, 1],
  [/\b(?:level|lvl|severity)=["']?(\w+)/i, 1],
  [/^\s*\[?([EWIDF])\]?[\s:]/, 1],
  [/\[(ERROR|ERR|WARN(?:ING)?|INFO|DEBUG|TRACE|FATAL|CRIT(?:ICAL)?)\]/i, 1],
  [/\b(ERROR|ERR|FATAL|PANIC|CRIT(?:ICAL)?|WARN(?:ING)?|INFO|DEBUG|TRACE)\b/, 1],
];

const NAMES = {
  e: 'error', err: 'error', eror: 'error', error: 'error', fatal: 'error', ftl: 'error', panic: 'error', crit: 'error', critical: 'error',
  f: 'error', emerg: 'error', emergency: 'error', alert: 'error',
  w: 'warn', wrn: 'warn', warn: 'warn', warning: 'warn',
  i: 'info', inf: 'info', info: 'info', notice: 'info', information: 'info',
  d: 'debug', dbg: 'debug', debug: 'debug', trace: 'debug', trc: 'debug', t: 'debug', verbose: 'debug', vrb: 'debug',
  // pino / bunyan numeric levels
  10: 'debug', 20: 'debug', 30: 'info', 40: 'warn', 50: 'error', 60: 'error',
};

/** 'error' | 'warn' | 'info' | 'debug' | null */
export function detectLevel(text) {
  const head = text.length > 400 ? text.slice(0, 400) : text;
  for (const [re, group] of PATTERNS) {
    const m = re.exec(head);
    if (m) {
      const level = NAMES[m[group].toLowerCase()];
      if (level) return level;
    }
  }
  return null;
}

/** The level of a parsed JSON line's own field, when it has one. */
export function levelOfValue(v) {
  if (v == null) return null;
  return NAMES[String(v).toLowerCase()] || null;
}
