/**
 * `\boxed{...}` extraction by brace matching (no regex).
 *
 * A backslash escapes the next character, so `\{` and `\}` are literal braces and do not count;
 * `\\{` is a LaTeX line break followed by a real group brace.
 */

const BOX_COMMANDS = ['\\boxed', '\\fbox'] as const;

/** Content of the last *complete* `\boxed{...}` (or `\fbox{...}`) in `text`, or null. */
export function lastBoxed(text: string): string | null {
  let last: string | null = null;
  let from = 0;
  const nextBoxEnd = boxCommandScanner(text);
  for (;;) {
    const end = nextBoxEnd(from);
    if (end === null) return last;
    let i = end;
    while (i < text.length && isSpace(text.charCodeAt(i))) i++;
    if (text[i] !== '{') {
      from = end;
      continue;
    }
    const close = matchingBrace(text, i);
    if (close === -1) return last; // unclosed (e.g. a truncated response): nothing complete after it
    last = text.slice(i + 1, close);
    from = close + 1;
  }
}

/** Index of the `}` closing the `{` at `open`, or -1 when the group is unclosed. */
export function matchingBrace(text: string, open: number): number {
  let depth = 0;
  for (let i = open; i < text.length; i++) {
    const c = text[i];
    if (c === '\\') {
      i++;
      continue;
    }
    if (c === '{') depth++;
    else if (c === '}') {
      depth--;
      if (depth === 0) return i;
    }
  }
  return -1;
}

/** Finds box commands left to right; remembers each command's next hit so the scan stays linear. */
function boxCommandScanner(text: string): (from: number) => number | null {
  const next = BOX_COMMANDS.map(() => -2);
  return (from) => {
    let best: number | null = null;
    BOX_COMMANDS.forEach((cmd, k) => {
      let at = next[k] ?? -2;
      if (at !== -1 && at < from) {
        at = text.indexOf(cmd, from);
        // `\boxedx` would be another command: require a non-letter after the name.
        while (at !== -1 && isLetter(text.charCodeAt(at + cmd.length))) at = text.indexOf(cmd, at + 1);
        next[k] = at;
      }
      if (at !== -1 && (best === null || at + cmd.length < best)) best = at + cmd.length;
    });
    return best;
  };
}

function isLetter(code: number): boolean {
  return (code >= 65 && code <= 90) || (code >= 97 && code <= 122);
}

function isSpace(code: number): boolean {
  return code === 32 || code === 9 || code === 10 || code === 13;
}
