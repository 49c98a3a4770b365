/**
 * A prompt whose last groups had no signal: how many in a row, the policy version of the last, and
 * whether it was all right (otherwise all wrong, or not known).
 */
export interface PromptRecord {
  streak: number;
  version: number;
  allRight: boolean;
}

/**
 * A value map from prompt keys to records, at most `cap` of them, that forgets the least recently set
 * first. It changes with every outcome and holds up to thousands of prompts, and the coordinator's
 * snapshot is taken many times a second, so it is kept in shards by the key's hash: setting a key
 * copies one shard, and the snapshot's text re-encodes only the shards that changed. Each shard holds
 * at most its share of `cap`.
 */
const SHARDS = 64;

type Shard = ReadonlyMap<string, PromptRecord>;

/** Each shard's entries as JSON tuples without the brackets, made once per shard (shards never change). */
const encoded = new WeakMap<Shard, string>();

export class PromptTable {
  private constructor(private readonly shards: readonly Shard[]) {}

  static empty(): PromptTable {
    return new PromptTable(Array.from({ length: SHARDS }, () => new Map<string, PromptRecord>()));
  }

  /** The table `encode` wrote; entries beyond `cap` are forgotten as `with` would. */
  static decode(text: string, cap = Number.POSITIVE_INFINITY): PromptTable {
    let t = PromptTable.empty();
    for (const [key, streak, version, right] of JSON.parse(text) as [string, number, number, number][])
      t = t.with(key, { streak, version, allRight: right === 1 }, cap);
    return t;
  }

  get(key: string): PromptRecord | undefined {
    return this.shards[shardOf(key)]?.get(key);
  }

  /** The table with `key` set to `record` (most recent), or removed (`undefined`). */
  with(key: string, record: PromptRecord | undefined, cap: number): PromptTable {
    const i = shardOf(key);
    const shard = this.shards[i] as Shard;
    if (record === undefined && !shard.has(key)) return this;
    const next = new Map(shard);
    next.delete(key);
    if (record !== undefined) next.set(key, record);
    const room = Math.ceil(cap / SHARDS);
    for (const oldest of next.keys()) {
      if (next.size <= room) break;
      next.delete(oldest);
    }
    const shards = [...this.shards];
    shards[i] = next;
    return new PromptTable(shards);
  }

  get size(): number {
    return this.shards.reduce((n, s) => n + s.size, 0);
  }

  /** Every entry, shard by shard, least recently set first within each. */
  entries(): [string, PromptRecord][] {
    return this.shards.flatMap((s) => [...s.entries()]);
  }

  /** JSON text of `[key, streak, version, allRight ? 1 : 0]` tuples in the order of `entries()`. */
  encode(): string {
    const parts: string[] = [];
    for (const shard of this.shards) {
      if (shard.size === 0) continue;
      let text = encoded.get(shard);
      if (text === undefined) {
        const tuples = [...shard].map(([k, r]) => [k, r.streak, r.version, r.allRight ? 1 : 0]);
        text = JSON.stringify(tuples).slice(1, -1);
        encoded.set(shard, text);
      }
      parts.push(text);
    }
    return `[${parts.join(',')}]`;
  }
}

/** FNV-1a of the key, modulo the shards. */
function shardOf(key: string): number {
  let h = 2166136261;
  for (let i = 0; i < key.length; i++) h = Math.imul(h ^ key.charCodeAt(i), 16777619);
  return (h >>> 0) % SHARDS;
}
