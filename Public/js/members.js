// Members of a group pane (the containers or Swarm tasks of /groups/{kind}/{name}): a stable
// colour per member name, and the member list with its on/off switches.

/** Colours in the palette of log-pane.css.js (--m0 … --m9, one set per theme). */
export const PALETTE_SIZE = 10;

/** The same name gets the same colour in every pane and every session (FNV-1a of the name). */
export function colourIndex(name) {
  let h = 0x811c9dc5;
  for (let i = 0; i < name.length; i++) {
    h ^= name.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return (h >>> 0) % PALETTE_SIZE;
}

export class Members {
  constructor() {
    this.byId = new Map();   // id → member
    this.list = [];          // in order of appearance
    this.hidden = new Set(); // indexes of members switched off
    this.hiddenNames = new Set(); // … by name, so a reopened stream keeps the switches
    this.added = false;      // a member appeared since the flag was last cleared
  }

  /** Forgets the members; `keepSwitches` keeps which names are switched off (same group reopened). */
  clear(keepSwitches = false) {
    this.hiddenNames = keepSwitches ? new Set(this.list.filter((m) => this.hidden.has(m.index)).map((m) => m.name)) : new Set();
    this.byId.clear();
    this.list = [];
    this.hidden.clear();
  }

  /** The member `id` (created on first sight, e.g. a line from a member that joined unseen). */
  get(id, name, extra = {}) {
    let m = this.byId.get(id);
    if (!m) {
      const index = this.list.length;
      m = { id, name: name || id.slice(0, 12), index, colour: colourIndex(name || id), cls: `mi-${index}`, state: 'running', gone: false, ...extra };
      this.byId.set(id, m);
      this.list.push(m);
      if (this.hiddenNames.has(m.name)) this.hidden.add(index);
      this.added = true;
    } else {
      if (name && m.name !== name) m.name = name;
      Object.assign(m, extra);
    }
    return m;
  }

  /** CSS hiding the lines of switched-off members (a constructed sheet, CSP-safe). */
  hidingRules() {
    return [...this.hidden].map((i) => `.line.mi-${i}{display:none}`).join('\n');
  }
}
