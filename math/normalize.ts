/**
 * Minimal answer normalisation, applied to both the extracted answer and the gold answer before
 * they are compared. Linear scans and single-pass replacements only (no backtracking regexes).
 */

/** LaTeX commands dropped outright: sizing and thin spaces. */
const DROPPED = ['\\left', '\\right', '\\!', '\\,', '\\;', '\\:', '\\ '];
/** Fraction spellings folded into `\frac`. */
const FRAC_ALIASES = ['\\dfrac', '\\tfrac'];

/**
 * - drops `\left`, `\right` and LaTeX thin spaces (`\!`, `\,`, `\;`, `\:`, `\ `),
 * - removes `$` and all whitespace,
 * - spells `\dfrac` / `\tfrac` as `\frac`,
 * - strips trailing full stops,
 * - keeps only the right-hand side of a single-letter assignment (`x=46` → `46`).
 *
 * Thousands separators are handled by number parsing (`parseRational`), not here, so that a list
 * like `1,2` stays a list.
 */
export function normalizeAnswer(raw: string): string {
  let dropped = raw;
  for (const cmd of DROPPED) dropped = dropCommand(dropped, cmd);
  let s = '';
  for (const ch of dropped) {
    if (ch === '$' || isWhitespace(ch)) continue;
    s += ch;
  }
  for (const alias of FRAC_ALIASES) s = s.split(alias).join('\\frac');
  s = stripTrailingDots(s);
  const eq = s.indexOf('=');
  if (eq === 1 && isAsciiLetter(s.charCodeAt(0)) && s.indexOf('=', eq + 1) === -1) s = s.slice(eq + 1);
  return s;
}

/** Removes `cmd` where it is not the prefix of a longer command name (`\right` but not `\rightarrow`). */
function dropCommand(s: string, cmd: string): string {
  const letterEnd = isAsciiLetter(cmd.charCodeAt(cmd.length - 1));
  let out = '';
  let from = 0;
  for (;;) {
    const at = s.indexOf(cmd, from);
    if (at === -1) return out + s.slice(from);
    const after = at + cmd.length;
    if (letterEnd && isAsciiLetter(s.charCodeAt(after))) {
      out += s.slice(from, after);
    } else {
      out += s.slice(from, at);
    }
    from = after;
  }
}

export function stripTrailingDots(s: string): string {
  let end = s.length;
  while (end > 0 && s[end - 1] === '.') end--;
  return s.slice(0, end);
}

function isWhitespace(ch: string): boolean {
  return (
    ch === ' ' || ch === '\t' || ch === '\n' || ch === '\r' || ch === '\f' || ch === '\v' || ch === '\u00a0'
  );
}

function isAsciiLetter(code: number): boolean {
  return (code >= 65 && code <= 90) || (code >= 97 && code <= 122);
}
