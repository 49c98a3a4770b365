import { readdirSync, readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { extractAnswer, MAX_RESPONSE_CHARS, VERIFY_REASONS, verify } from '../../../math/index.js';
import { sharedDataDir } from '../../support/shared-data.js';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const mathDir = resolve(repoRoot, 'math');
const evalDir = resolve(sharedDataDir(), 'eval');

describe('verify (default mode)', () => {
  it.each([
    ['46', '46', 'whole'],
    ['The sum is 46.', '46', 'last-number'],
    ['x = 46', '46', 'whole'],
    ['Answer: 46', '46', 'answer-marker'],
    ['**Final Answer:** $46$', '46', 'answer-marker'],
    ['so the final answer is 12 apples.', '12', 'answer-marker'],
    ['We compute $3 + 4 = 7$ and we are done', '7', 'math'],
    ['so \\boxed{\\frac{1}{2}}', '1/2', 'boxed'],
    ['\\boxed{025}', '25', 'boxed'],
    ['The total is 1,234 apples', '1234', 'last-number'],
    ['we get -7', '-7', 'last-number'],
  ])('%j matches %j (via %s)', (response, gold, source) => {
    expect(verify(response, gold)).toEqual({ correct: true, extracted: expect.any(String), reason: 'match' });
    expect(extractAnswer(response)?.source).toBe(source);
  });

  it('prefers a box over an answer marker, a marker over math, math over the last number', () => {
    expect(verify('\\boxed{3}\nAnswer: 4', '3').correct).toBe(true);
    expect(verify('Answer: 4\nso $y = 5$', '4').correct).toBe(true);
    expect(verify('first $y = 5$ then 6 more', '5').correct).toBe(true);
    expect(verify('x = \n 12 is it', '12').extracted).toBe('12');
    // After a marker: the value after its last "=", else its first number.
    expect(verify('The answer is (35 + 70 = 105).', '105').correct).toBe(true);
    expect(verify('Réponse: il aura encore 220 $ à payer d’ici 12 mois.', '220').correct).toBe(true);
  });

  it('reports a wrong answer as mismatch with what it extracted', () => {
    expect(verify('\\boxed{45}', '46')).toEqual({ correct: false, extracted: '45', reason: 'mismatch' });
    expect(verify('3-5', '-5')).toEqual({ correct: false, extracted: '3-5', reason: 'mismatch' });
  });

  it('reports no-answer when nothing can be extracted', () => {
    expect(verify('I am not sure how to solve this.', '46')).toEqual({
      correct: false,
      extracted: null,
      reason: 'no-answer',
    });
    expect(verify('', '46').reason).toBe('no-answer');
    expect(verify('\\boxed{}', '46').reason).toBe('no-answer');
  });

  it('reports invalid-gold for an empty gold answer', () => {
    expect(verify('\\boxed{4}', ' $ ')).toEqual({ correct: false, extracted: '4', reason: 'invalid-gold' });
  });

  it('only considers the last MAX_RESPONSE_CHARS characters', () => {
    const padding = 'x'.repeat(MAX_RESPONSE_CHARS);
    expect(verify(`\\boxed{46} ${padding}`, '46').reason).toBe('no-answer');
    expect(verify(`${padding} \\boxed{46}`, '46').reason).toBe('match');
  });

  it('stays fast on adversarial input', () => {
    const inputs = [
      '1'.repeat(200_000),
      '1,'.repeat(100_000),
      `${'Answer'.repeat(30_000)}:`,
      '='.repeat(100_000),
      '-'.repeat(100_000),
      '{'.repeat(100_000),
    ];
    const t = performance.now();
    for (const s of inputs) verify(s, '1');
    expect(performance.now() - t).toBeLessThan(1000);
  });
});

describe('verify (strict-box mode)', () => {
  it('accepts a box near the end', () => {
    expect(verify('work...\nAnswer: \\boxed{46}', '46', { mode: 'strict-box' })).toEqual({
      correct: true,
      extracted: '46',
      reason: 'match',
    });
  });

  it('rejects an unboxed answer that default mode accepts', () => {
    for (const response of ['Answer: 46', 'x = 46', '46', '$46$']) {
      expect(verify(response, '46').correct).toBe(true);
      expect(verify(response, '46', { mode: 'strict-box' })).toEqual({
        correct: false,
        extracted: null,
        reason: 'no-answer',
      });
    }
  });

  it('ignores a box before the last 300 characters', () => {
    const response = `\\boxed{46}${' and more'.repeat(40)}`;
    expect(verify(response, '46').correct).toBe(true);
    expect(verify(response, '46', { mode: 'strict-box' }).reason).toBe('no-answer');
  });
});

describe('VERIFY_REASONS', () => {
  it('is the closed set of reasons', () => {
    expect([...VERIFY_REASONS]).toEqual(['match', 'mismatch', 'no-answer', 'invalid-gold', 'timeout']);
  });
});

describe('gold answers of the eval sets', () => {
  const files = readdirSync(evalDir).filter((f) => f.endsWith('.jsonl'));

  it('finds the six eval files', () => {
    expect(files).toHaveLength(6);
  });

  it.each(files)('%s: every gold answer, boxed, verifies against itself', (file) => {
    const lines = readFileSync(resolve(evalDir, file), 'utf8').split('\n').filter(Boolean);
    const failures = lines
      .map((l) => JSON.parse(l) as { id: string; answer: string })
      .filter((r) => !verify(`The final answer is $\\boxed{${r.answer}}$.`, r.answer).correct)
      .map((r) => r.id);
    expect(failures).toEqual([]);
  });

  it('aime24: zero-padded gold answers match unpadded responses', () => {
    const rows = readFileSync(resolve(evalDir, 'aime24.jsonl'), 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as { answer: string });
    const padded = rows.filter((r) => r.answer.startsWith('0'));
    expect(padded.length).toBe(7);
    for (const r of padded) expect(verify(`\\boxed{${Number(r.answer)}}`, r.answer).correct).toBe(true);
  });
});

describe('math/ is pure', () => {
  it('imports only its own files and mathjs (the evaluator)', () => {
    const offenders: string[] = [];
    for (const file of readdirSync(mathDir).filter((f) => f.endsWith('.ts'))) {
      const source = readFileSync(resolve(mathDir, file), 'utf8');
      for (const m of source.matchAll(/\b(?:from|import)\s*\(?\s*'([^']+)'/g)) {
        const spec = m[1] ?? '';
        if (!spec.startsWith('./') && spec !== 'mathjs') offenders.push(`${file}: ${spec}`);
      }
    }
    expect(offenders).toEqual([]);
  });
});
