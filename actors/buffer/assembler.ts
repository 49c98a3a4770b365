import type { DropReason, Group, Scored } from '../../bus/messages.js';
import { hasSignal, isTooStale } from '../../nft/index.js';

/**
 * Turns scored samples into batches: complete groups per task, drop groups without signal (all correct
 * or all wrong) and groups too stale for the step they would train in, and emit `promptsPerStep` groups
 * per batch. Pure bookkeeping: it says what to publish and acknowledge, the buffer actor does it.
 */

export type AssemblerAction<H> =
  /** `correctRate`: a filtered group's (0 all wrong, 1 all right). */
  | { type: 'drop'; taskId: string; reason: DropReason; handles: H[]; correctRate?: number }
  | { type: 'batch'; step: number; groups: Group[]; handles: H[] }
  /** A sample of a group already settled (a redelivery): acknowledge it, nothing else. */
  | { type: 'ack'; handles: H[] };

interface Held<H> {
  scored: Scored;
  handle: H;
}

interface ReadyGroup<H> {
  group: Group;
  handles: H[];
}

export interface AssemblerOptions {
  promptsPerStep: number;
  maxStaleness: number;
  /** The step the next batch trains in: the learner trains batch k at policy version k. */
  nextStep: number;
}

export class BatchAssembler<H> {
  private readonly partial = new Map<string, Map<number, Held<H>>>();
  private readonly settled = new Set<string>();
  private ready: ReadyGroup<H>[] = [];
  private finished = false;
  nextStep: number;
  duplicates = 0;

  constructor(private readonly opts: AssemblerOptions) {
    this.nextStep = opts.nextStep;
  }

  get readyGroups(): number {
    return this.ready.length;
  }

  /** Every held handle, so the actor can keep them from being redelivered while it waits. */
  heldHandles(): H[] {
    const out: H[] = [];
    for (const g of this.partial.values()) for (const h of g.values()) out.push(h.handle);
    for (const r of this.ready) out.push(...r.handles);
    return out;
  }

  add(scored: Scored, handle: H): AssemblerAction<H>[] {
    if (this.settled.has(scored.taskId)) {
      this.duplicates++;
      return [{ type: 'ack', handles: [handle] }];
    }
    let samples = this.partial.get(scored.taskId);
    if (!samples) {
      samples = new Map();
      this.partial.set(scored.taskId, samples);
    }
    if (samples.has(scored.sampleIndex)) this.duplicates++;
    samples.set(scored.sampleIndex, { scored, handle });
    if (samples.size < scored.groupSize) return [];

    this.partial.delete(scored.taskId);
    this.settled.add(scored.taskId);
    const held = [...samples.values()].sort((a, b) => a.scored.sampleIndex - b.scored.sampleIndex);
    const rewards = held.map((h) => h.scored.reward);
    const group: Group = {
      taskId: scored.taskId,
      correctRate: rewards.reduce((a, b) => a + b, 0) / rewards.length,
      samples: held.map((h) => h.scored),
    };
    const handles = held.map((h) => h.handle);
    if (this.finished) return [{ type: 'drop', taskId: group.taskId, reason: 'surplus', handles }];
    if (!hasSignal(rewards)) {
      const { taskId, correctRate } = group;
      return [{ type: 'drop', taskId, reason: 'filtered', handles, correctRate }];
    }
    this.ready.push({ group, handles });
    return this.emitBatches();
  }

  /**
   * The coordinator counted these tasks as failed, their groups never to be complete: let go of what is
   * held of them (acknowledged, nothing reported) and take no more of them.
   */
  release(taskIds: readonly string[]): AssemblerAction<H>[] {
    const handles: H[] = [];
    for (const taskId of taskIds) {
      for (const held of this.partial.get(taskId)?.values() ?? []) handles.push(held.handle);
      this.partial.delete(taskId);
      const i = this.ready.findIndex((r) => r.group.taskId === taskId);
      if (i >= 0) handles.push(...(this.ready.splice(i, 1)[0]?.handles ?? []));
      this.settled.add(taskId);
    }
    return handles.length > 0 ? [{ type: 'ack', handles }] : [];
  }

  /** The run needs no more batches: what is held now or completes later is surplus. */
  finish(): AssemblerAction<H>[] {
    this.finished = true;
    const actions = this.ready.map(
      (r): AssemblerAction<H> => ({
        type: 'drop',
        taskId: r.group.taskId,
        reason: 'surplus',
        handles: r.handles,
      }),
    );
    this.ready = [];
    return actions;
  }

  private emitBatches(): AssemblerAction<H>[] {
    const actions: AssemblerAction<H>[] = [];
    while (this.ready.length >= this.opts.promptsPerStep) {
      const step = this.nextStep;
      const fresh: ReadyGroup<H>[] = [];
      for (const r of this.ready) {
        const oldest = Math.min(...r.group.samples.map((s) => s.policyVersion));
        if (isTooStale(step, oldest, this.opts.maxStaleness)) {
          actions.push({ type: 'drop', taskId: r.group.taskId, reason: 'stale', handles: r.handles });
        } else fresh.push(r);
      }
      this.ready = fresh;
      if (fresh.length < this.opts.promptsPerStep) break;
      const taken = this.ready.splice(0, this.opts.promptsPerStep);
      actions.push({
        type: 'batch',
        step,
        groups: taken.map((r) => r.group),
        handles: taken.flatMap((r) => r.handles),
      });
      this.nextStep++;
    }
    return actions;
  }
}
