/**
 * Character-level tokenizer for the built-in arithmetic task: one token per character, plus three
 * special tokens. A tiny vocabulary keeps the embedding and the output head (and so the one-hot
 * products that replace gathers on wasm) cheap.
 */

export const PAD = 0;
export const BOS = 1;
export const EOS = 2;
const SPECIALS = ['<pad>', '<bos>', '<eos>'];

/** Digits, the task's operators, and a few symbols so that slightly different prompts still encode. */
export const CHARACTERS = '0123456789+-=*/()., ';

export class CharTokenizer {
  readonly pad = PAD;
  readonly bos = BOS;
  readonly eos = EOS;
  readonly vocabSize: number;
  private readonly ids = new Map<string, number>();
  private readonly chars: string[];

  constructor(readonly characters: string = CHARACTERS) {
    this.chars = [...characters];
    this.chars.forEach((ch, i) => {
      this.ids.set(ch, SPECIALS.length + i);
    });
    this.vocabSize = SPECIALS.length + this.chars.length;
  }

  /** Text to token ids, without BOS/EOS. Throws on a character the vocabulary lacks. */
  encode(text: string): number[] {
    const out: number[] = [];
    let index = 0;
    for (const ch of text) {
      const id = this.ids.get(ch);
      if (id === undefined) {
        const code = `U+${(ch.codePointAt(0) ?? 0).toString(16).toUpperCase().padStart(4, '0')}`;
        throw new Error(
          `tokenizer: unknown character ${JSON.stringify(ch)} (${code}) at index ${index} of ${JSON.stringify(text)}; ` +
            `the embedded tokenizer knows only ${JSON.stringify(this.characters)}`,
        );
      }
      out.push(id);
      index++;
    }
    return out;
  }

  /** Token ids to text; special tokens (PAD, BOS, EOS) render as nothing. */
  decode(ids: readonly number[]): string {
    let text = '';
    for (const id of ids) {
      if (!Number.isInteger(id) || id < 0 || id >= this.vocabSize) {
        throw new Error(`tokenizer: token id ${id} is outside the vocabulary [0, ${this.vocabSize})`);
      }
      if (id >= SPECIALS.length) text += this.chars[id - SPECIALS.length];
    }
    return text;
  }
}

export const defaultTokenizer = new CharTokenizer();
