/** Splitting answers at top level: separators inside brackets or braces do not count. */

/** Splits at `sep` where no bracket is open. */
export function splitTop(s: string, sep: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let from = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charAt(i);
    if (c === '(' || c === '[' || c === '{') depth++;
    else if (c === ')' || c === ']' || c === '}') depth--;
    else if (depth === 0 && s.startsWith(sep, i)) {
      out.push(s.slice(from, i).trim());
      from = i + sep.length;
      i += sep.length - 1;
    }
  }
  out.push(s.slice(from).trim());
  return out;
}
