import { describe, expect, it } from 'vitest';
import { BOS, CharTokenizer, defaultTokenizer, EOS, PAD } from '../../../engines/embedded/tokenizer.js';

describe('CharTokenizer', () => {
  it('round-trips every arithmetic prompt and answer character', () => {
    for (const text of ['12+34=', '46', '99-7=', '0', '(1+2)*3/4.5, 6 ']) {
      const ids = defaultTokenizer.encode(text);
      expect(ids).toHaveLength(text.length);
      expect(defaultTokenizer.decode(ids)).toBe(text);
    }
  });

  it('keeps the special tokens apart from characters and renders them as nothing', () => {
    expect(new Set([PAD, BOS, EOS]).size).toBe(3);
    const ids = defaultTokenizer.encode('7+8=');
    for (const id of ids) expect([PAD, BOS, EOS]).not.toContain(id);
    expect(defaultTokenizer.decode([BOS, ...ids, EOS, PAD])).toBe('7+8=');
    expect(defaultTokenizer.vocabSize).toBe(3 + defaultTokenizer.characters.length);
  });

  it('names the unknown character, its position and the vocabulary', () => {
    expect(() => defaultTokenizer.encode('12+x=')).toThrow(
      /unknown character "x" \(U\+0078\) at index 3 of "12\+x="/,
    );
    expect(() => new CharTokenizer('01').encode('2')).toThrow(/knows only "01"/);
  });

  it('rejects token ids outside the vocabulary', () => {
    expect(() => defaultTokenizer.decode([defaultTokenizer.vocabSize])).toThrow(/outside the vocabulary/);
    expect(() => defaultTokenizer.decode([-1])).toThrow(/outside the vocabulary/);
  });
});
