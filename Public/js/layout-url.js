// The dashboard's layout in its URL, readable: ?c=local/web,local/api&g=project/shop.
//
// Items are written with encodeURIComponent, then `/`, `=`, `:` and `@` are put back as they are
// (all legal in a query), and joined with a literal `,` (a comma inside an item stays %2C). The
// earlier format, written by URLSearchParams (`c=local%2Fweb%2Clocal%2Fapi`), is still read: an
// item always holds a `/`, so a value with no literal `/` but an encoded one is the old format,
// decoded whole and then split at its commas.

const decode = (raw) => {
  try { return decodeURIComponent(raw.replace(/\+/g, ' ')); } catch { return raw; }
};

/** One layout item (`host/name`, `kind/name`) for the query, readable. */
export function encodeItem(item) {
  return encodeURIComponent(item).replace(/%2F/gi, '/').replace(/%3D/gi, '=').replace(/%3A/gi, ':').replace(/%40/gi, '@');
}

/** The raw `key=value` parts of a query string, in order. */
function parts(search) {
  return search.replace(/^\?/, '').split('&').filter(Boolean).map((p) => {
    const eq = p.indexOf('=');
    return eq < 0 ? [p, ''] : [p.slice(0, eq), p.slice(eq + 1)];
  });
}

/** The items of list parameter `name` (the first one given), both formats, without duplicates. */
export function readList(search, name) {
  const found = parts(search).find(([k]) => decode(k) === name);
  if (!found) return [];
  const raw = found[1];
  const items = !raw.includes('/') && /%2F/i.test(raw) ? decode(raw).split(',') : raw.split(',').map(decode);
  return [...new Set(items.map((s) => s.trim()).filter(Boolean))];
}

/** The query string with the given lists (`{c: [...], g: [...]}`) in place; other parameters kept as written. */
export function writeLists(search, lists) {
  const names = Object.keys(lists);
  const kept = parts(search).filter(([k]) => !names.includes(decode(k)));
  const out = kept.map(([k, v]) => (v === '' ? k : `${k}=${v}`));
  for (const name of names) {
    const items = lists[name] || [];
    if (items.length) out.push(`${name}=${items.map(encodeItem).join(',')}`);
  }
  return out.length ? `?${out.join('&')}` : '';
}
