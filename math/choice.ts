import { normalizeAnswer } from './normalize.js';

/**
 * Multiple-choice letters (A–E). A gold answer names its option as `C`, `(C) Cecile`, `C Cecile` or
 * `… the answer is (C) …`; a response names it after an answer marker, at its very start (`D. it can't
 * be A`, `B。不是 A`), or — in prose — as the last option letter it mentions.
 */

const LETTER = 'ABCDE';
const MARKERS = [
  'answer is',
  'answer:',
  'choice is',
  'option is',
  'réponse est',
  'réponse :',
  'réponse:',
  '答案是',
  '答案：',
  '答案:',
];

export function goldChoice(gold: string): string | null {
  const g = normalizeAnswer(gold).trim();
  if (g.length === 1 && LETTER.includes(g)) return g;
  const paren = /^\(([A-E])\)/.exec(g);
  if (paren) return paren[1] as string;
  const named = /^([A-E])\s+[A-Z][a-z]/.exec(g) ?? /^([A-E])\.\s/.exec(g);
  if (named) return named[1] as string;
  const labelled = /^(?:choice|option)\s*\(?([A-E])\)?$/i.exec(g);
  if (labelled) return labelled[1] as string;
  return afterMarker(g);
}

export function responseChoice(response: string): string | null {
  const r = normalizeAnswer(response.slice(-2000)).trim();
  const marked = afterMarker(r);
  if (marked) return marked;
  const lead = /^\(?([A-E])\)?(?=$|[\s.,:;)。、，]|[^\t -\u007f])/.exec(r);
  if (lead) return lead[1] as string;
  if (words(r) >= 3) {
    let last: string | null = null;
    for (const m of r.matchAll(/(?<![A-Za-z])[A-E](?![A-Za-z])/g)) last = m[0];
    return last;
  }
  return null;
}

function afterMarker(text: string): string | null {
  const lower = text.toLowerCase();
  for (const marker of MARKERS) {
    const at = lower.lastIndexOf(marker);
    if (at === -1) continue;
    const m = /^[\s*:：]*(?:for sure\s+)?(?:\(?([A-E])\)?(?![A-Za-z])|\(([a-e])\))/.exec(
      text.slice(at + marker.length),
    );
    if (m) return (m[1] ?? (m[2] as string).toUpperCase()) as string;
  }
  return null;
}

function words(s: string): number {
  return s.split(/\s+/).filter((w) => /^[A-Za-z'’]{2,}[.,]?$/.test(w)).length;
}
