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
      out.push({ t: 'id', v: c });
      i++;
    } else if ('+-*/^!_(){}[]|'.includes(c)) {
      out.push({ t: 'op', v: c === '[' ? '(' : c === ']' ? ')' : c });
      i++;
    } else {
      return null;
    }
  }
  return out;
}

export function isDigit(c: string): boolean {
  return c >= '0' && c <= '9';
}

export function isLetter(c: string): boolean {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}
