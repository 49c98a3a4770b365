import { splitTop } from './split.js';

/**
 * Values by name: `p = 3, q = 2`, `(p, q) = (3, 2)`, `x = 2,\ y = -1`. Two answers that both name
 * their values compare name by name, so `x = 2, y = -1` ≠ `x = -1, y = 2` although both hold the
 * values 2 and -1. Null when the answer is not at least two assignments to distinct plain names.
 */
export function readAssignments(s: string): Map<string, string> | null {
  const tuple = /^\(([^()=]+)\)\s*=\s*\((.+)\)$/.exec(s.trim());
  if (tuple) {
    const names = splitTop(tuple[1] as string, ',');
    const values = splitTop(tuple[2] as string, ',');
    return names.length === values.length ? byName(names.map((n, i) => [n, values[i] as string])) : null;
  }
  const items = splitTop(s.split(';').join(','), ',').flatMap((x) => splitTop(x, ' and '));
  const pairs: [string, string][] = [];
  for (const item of items) {
    const sides = splitTop(item, '=');
    if (sides.length !== 2) return null;
    pairs.push([sides[0] as string, sides[1] as string]);
  }
  return byName(pairs);
}

function byName(pairs: [string, string][]): Map<string, string> | null {
  if (pairs.length < 2) return null;
  const out = new Map<string, string>();
  for (const [name, value] of pairs) {
    const key = name.replace(/\s+/g, '');
    if (!PLAIN_NAME.test(key) || out.has(key) || value.trim().length === 0) return null;
    out.set(key, value.trim());
  }
  return out;
}

const PLAIN_NAME = /^(?:[a-zA-Z]|\\[a-zA-Z]+)(?:_\{?\w{1,4}\}?)?$/;
