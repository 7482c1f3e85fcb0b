// Log level detection for the common forms: ERROR, level=warn, "level":"error", [E], E1129 …

const PATTERNS = [
  [/"(?:level|lvl|severity)"\s*:\s*"(\w+)"/i, 1],
  [/\b(?:level|lvl|severity)=["']?(\w+)/i, 1],
  [/^\s*\[?([EWIDF])\]?[\s:]/, 1],
  [/\[(ERROR|ERR|WARN(?:ING)?|INFO|DEBUG|TRACE|FATAL|CRIT(?:ICAL)?)\]/i, 1],
  [/\b(ERROR|ERR|FATAL|PANIC|CRIT(?:ICAL)?|WARN(?:ING)?|INFO|DEBUG|TRACE)\b/, 1],
];

const NAMES = {
  e: 'error', err: 'error', error: 'error', fatal: 'error', panic: 'error', crit: 'error', critical: 'error', f: 'error', emerg: 'error', alert: 'error',
  w: 'warn', warn: 'warn', warning: 'warn',
  i: 'info', info: 'info', notice: 'info', information: 'info',
  d: 'debug', debug: 'debug', trace: 'debug', t: 'debug',
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
