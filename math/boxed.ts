/**
 * `\boxed{...}` extraction by brace matching (no regex).
 *
 * A backslash escapes the next character, so `\{` and `\}` are literal braces and do not count;
 * `\\{` is a LaTeX line break followed by a real group brace.
 */

const BOX_COMMANDS = ['\\boxed', '\\fbox'] as const;

/** Every complete `\boxed{...}` / `\fbox{...}` in `text`: its content and where it starts and ends. */
export function allBoxed(text: string): { body: string; start: number; end: number }[] {
  const out: { body: string; start: number; end: number }[] = [];
  let from = 0;
  const nextBoxEnd = boxCommandScanner(text);
  for (;;) {
    const end = nextBoxEnd(from);
    if (end === null) return out;
    let i = end;
    while (i < text.length && isSpace(text.charCodeAt(i))) i++;
    if (text[i] !== '{') {
      from = end;
      continue;
    }
    const close = matchingBrace(text, i);
    if (close === -1) return out; // unclosed (e.g. a truncated response): nothing complete after it
    out.push({ body: text.slice(i + 1, close), start: text.lastIndexOf('\\', end), end: close + 1 });
    from = close + 1;
  }
}

/** Content of the last complete box, or null. */
export function lastBoxed(text: string): string | null {
  return allBoxed(text).at(-1)?.body ?? null;
}

/** Words that join several boxed answers into one list: `\boxed{2} and \boxed{3}` → `2, 3`. */
const JOINERS = new Set(['and', 'or', ',', '$', '$,', ',$', '$$']);

/** The last box, with the boxes before it that only joiners (or nothing) separate from it, as one list. */
export function boxedAnswers(text: string): string | null {
  const boxes = allBoxed(text);
  const last = boxes.at(-1);
  if (!last) return null;
  const parts = [last.body];
  for (let k = boxes.length - 2; k >= 0; k--) {
    const between = text.slice((boxes[k] as { end: number }).end, (boxes[k + 1] as { start: number }).start);
    // `$x = \\boxed{2}$ or $x = \\boxed{3}$`: a variable named before each box is a joiner too.
    const words = between
      .replace(/\$|=|(?<![A-Za-z\\])[a-zA-Z](?:_\{?\d\}?)?(?![A-Za-z])/g, ' ')
      .split(/\s+/)
      .filter((w) => w.length > 0);
    if (!words.every((w) => JOINERS.has(w))) break;
    parts.unshift((boxes[k] as { body: string }).body);
  }
  return parts.join(', ');
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
