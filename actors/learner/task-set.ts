import { trainIndexOf } from '../../bus/task-ids.js';

/**
 * The tasks the learner has settled, for the whole run: it trains a task at most once however often the
 * bus delivers it, and its checkpoint carries the set. Training tasks are named `t<index>` and dispatched
 * in order, so they are kept as a bitmap by index (a run of 100,000 tasks is 12.5 kB); any other id is
 * kept as it is.
 */

export interface EncodedTaskSet {
  /** Base64 bitmap: bit i set when task `t<i>` is in the set. */
  indexed: string;
  others: string[];
}

export class TaskSet {
  private bits = new Uint8Array(64);
  private readonly others = new Set<string>();
  private count = 0;

  has(taskId: string): boolean {
    const i = indexOf(taskId);
    if (i === undefined) return this.others.has(taskId);
    return i >> 3 < this.bits.length && ((this.bits[i >> 3] as number) & (1 << (i & 7))) !== 0;
  }

  private add(taskId: string): void {
    if (this.has(taskId)) return;
    this.count++;
    const i = indexOf(taskId);
    if (i === undefined) {
      this.others.add(taskId);
      return;
    }
    if (i >> 3 >= this.bits.length) {
      const grown = new Uint8Array(Math.max(this.bits.length * 2, (i >> 3) + 1));
      grown.set(this.bits);
      this.bits = grown;
    }
    this.bits[i >> 3] = (this.bits[i >> 3] as number) | (1 << (i & 7));
  }

  /** A new set with these tasks added; this one is left as it is. */
  with(taskIds: Iterable<string>): TaskSet {
    const copy = new TaskSet();
    copy.bits = this.bits.slice();
    for (const id of this.others) copy.others.add(id);
    copy.count = this.count;
    for (const id of taskIds) copy.add(id);
    return copy;
  }

  get size(): number {
    return this.count;
  }

  encode(): EncodedTaskSet {
    let used = this.bits.length;
    while (used > 0 && this.bits[used - 1] === 0) used--;
    return { indexed: Buffer.from(this.bits.subarray(0, used)).toString('base64'), others: [...this.others] };
  }

  static decode(encoded: EncodedTaskSet): TaskSet {
    const ids: string[] = [...encoded.others];
    const bytes = Buffer.from(encoded.indexed, 'base64');
    for (let byte = 0; byte < bytes.length; byte++)
      for (let bit = 0; bit < 8; bit++)
        if (((bytes[byte] as number) & (1 << bit)) !== 0) ids.push(`t${byte * 8 + bit}`);
    return new TaskSet().with(ids);
  }
}

function indexOf(taskId: string): number | undefined {
  const i = trainIndexOf(taskId);
  return i !== undefined && i < 2 ** 31 ? i : undefined;
}
