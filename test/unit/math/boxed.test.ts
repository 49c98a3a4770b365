import { describe, expect, it } from 'vitest';
import { lastBoxed, matchingBrace } from '../../../math/boxed.js';

describe('lastBoxed', () => {
  it('returns the content of the last box', () => {
    expect(lastBoxed('first \\boxed{1}, then \\boxed{2}.')).toBe('2');
  });

  it('matches nested braces', () => {
    expect(lastBoxed('\\boxed{\\frac{1}{\\sqrt{2}}} done')).toBe('\\frac{1}{\\sqrt{2}}');
  });

  it('treats escaped braces as literal characters', () => {
    expect(lastBoxed('\\boxed{\\{1, 2\\}}')).toBe('\\{1, 2\\}');
    expect(lastBoxed('\\boxed{\\}x}')).toBe('\\}x');
  });

  it('accepts a space before the brace and \\fbox', () => {
    expect(lastBoxed('\\boxed {7}')).toBe('7');
    expect(lastBoxed('\\boxed{1} \\fbox{8}')).toBe('8');
  });

  it('ignores longer command names and boxes without a group', () => {
    expect(lastBoxed('\\boxedx{3}')).toBeNull();
    expect(lastBoxed('\\boxed 5 and \\boxed{6}')).toBe('6');
  });

  it('keeps the last complete box when a later one is unclosed (truncated response)', () => {
    expect(lastBoxed('\\boxed{4} wait \\boxed{\\frac{1}{2')).toBe('4');
    expect(lastBoxed('\\boxed{\\frac{1}{2')).toBeNull();
  });

  it('returns null without a box', () => {
    expect(lastBoxed('the answer is 4')).toBeNull();
  });

  it('stays fast on pathological input', () => {
    const t = performance.now();
    lastBoxed(`${'\\boxed{'.repeat(20_000)}x`);
    lastBoxed('\\boxed{}'.repeat(20_000));
    expect(performance.now() - t).toBeLessThan(500);
  });
});

describe('matchingBrace', () => {
  it('finds the closing brace or -1', () => {
    expect(matchingBrace('{a{b}c}d', 0)).toBe(6);
    expect(matchingBrace('{a{b}c', 0)).toBe(-1);
    expect(matchingBrace('{\\\\}', 0)).toBe(3);
  });
});
