/** Tokens of answer math: numbers, single-letter names, LaTeX commands and operators. */

export type Token =
  | { t: 'num'; v: string }
  | { t: 'id'; v: string }
  | { t: 'cmd'; v: string }
  | { t: 'op'; v: string };

/** Tokens of a normalised answer; `null` where something is not math (words, stray symbols). */
export function tokenize(s: string): Token[] | null {
  const out: Token[] = [];
  let i = 0;
  while (i < s.length) {
    const c = s.charAt(i);
    if (c === ' ') {
      i++;
    } else if (isDigit(c) || (c === '.' && isDigit(s.charAt(i + 1)))) {
      let j = i;
      while (j < s.length && isDigit(s.charAt(j))) j++;
      if (s.charAt(j) === '.' && isDigit(s.charAt(j + 1))) {
        j++;
        while (j < s.length && isDigit(s.charAt(j))) j++;
      }
      // `3e8`, `1.5e-3`: scientific notation (a lone `2e` stays 2·e).
      const exp = /^[eE][-+]?\d/.test(s.slice(j, j + 3)) ? /^[eE][-+]?\d+/.exec(s.slice(j))?.[0] : undefined;
      if (exp) j += exp.length;
      out.push({ t: 'num', v: s.slice(i, j) });
      i = j;
    } else if (c === '\\') {
      let j = i + 1;
      while (j < s.length && isLetter(s.charAt(j))) j++;
      if (j === i + 1) {
        // \{ \} \| are brackets; anything else escaped is not math we read.
        const n = s.charAt(i + 1);
        if (n === '{' || n === '}') out.push({ t: 'op', v: n === '{' ? '(' : ')' });
        else if (n === '|') out.push({ t: 'op', v: '|' });
        else return null;
        i += 2;
      } else {
        out.push({ t: 'cmd', v: s.slice(i + 1, j) });
        i = j;
      }
    } else if (isLetter(c)) {
      // Plain-text names (`2*pi`, `sqrt(2)`, `sin(x)`) read as the LaTeX commands; other letters are variables.
      let j = i;
      while (j < s.length && isLetter(s.charAt(j))) j++;
      const word = s.slice(i, j);
      if (PLAIN_NAMES.has(word)) {
        out.push({ t: 'cmd', v: word });
        i = j;
      } else {
        out.push({ t: 'id', v: c });
        i++;
      }
    } else if ("+-*/^!_(){}[]|'".includes(c)) {
      out.push({ t: 'op', v: c === '[' ? '(' : c === ']' ? ')' : c });
      i++;
    } else {
      return null;
    }
  }
  return out;
}

const PLAIN_NAMES = new Set(['pi', 'sqrt', 'sin', 'cos', 'tan', 'ln', 'log', 'exp']);

export function isDigit(c: string): boolean {
  return c >= '0' && c <= '9';
}

export function isLetter(c: string): boolean {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}
