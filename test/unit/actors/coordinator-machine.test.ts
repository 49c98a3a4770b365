import { describe, expect, it } from 'vitest';
import { createActor, fromPromise, SimulatedClock, waitFor } from 'xstate';
import { coordinatorMachine, DRAIN_TIMEOUT_MS } from '../../../actors/coordinator/machine.js';
import type { ProblemSource } from '../../../actors/coordinator/problems.js';
import { type CoordinatorSnapshot, snapshotOf } from '../../../actors/coordinator/snapshot.js';
import type { Task } from '../../../bus/messages.js';
import { parseRunConfig } from '../../../config/parse-run-config.js';
import { evalAnswers, trainedEvent } from '../../support/messages.js';

const problem = (i: number) => ({
  id: `p${i}`,
  prompt: `${i}+1=`,
  answer: String(i + 1),
  dataSource: 'arithmetic',
});

function harness(opts: {
  maxStaleness: number;
  promptsPerStep: number;
  everySteps?: number;
  trainSize?: number;
  targetAccuracy?: number;
  /** Holds every publish open until it resolves, as a slow bus would. */
  publishGate?: Promise<void>;
  resume?: CoordinatorSnapshot;
  version?: number;
  clock?: SimulatedClock;
}) {
  const source: ProblemSource = {
    train: (i) => (opts.trainSize !== undefined && i >= opts.trainSize ? undefined : problem(i)),
    heldOut: [problem(100), problem(101)],
    heldOutName: 'held',
  };
  const config = parseRunConfig({
    maxStaleness: opts.maxStaleness,
    promptsPerStep: opts.promptsPerStep,
    groupSize: 2,
    eval: { everySteps: opts.everySteps ?? 0, targetAccuracy: opts.targetAccuracy ?? 1 },
  });
  const published: Task[] = [];
  const announced: string[] = [];
  const snapshots: CoordinatorSnapshot[] = [];
  const machine = coordinatorMachine.provide({
    actors: {
      publishTasks: fromPromise<void, { tasks: Task[]; snapshot: CoordinatorSnapshot }>(async ({ input }) => {
        snapshots.push(input.snapshot);
        published.push(...input.tasks);
        await opts.publishGate;
      }),
    },
    actions: {
      announceDone: (_, reason) => void announced.push(`done: ${reason}`),
      announceEval: (_, r) => void announced.push(`eval ${r.round}: ${r.accuracy}`),
    },
  });
  const input = {
    config,
    source,
    ...(opts.resume ? { resume: opts.resume } : {}),
    ...(opts.version !== undefined ? { version: opts.version } : {}),
  };
  const actor = createActor(machine, { input, ...(opts.clock ? { clock: opts.clock } : {}) }).start();
  const train = () => published.filter((t) => t.kind === 'train');
  const answerEval = async (round: number, correct: boolean[]) => {
    for (const event of evalAnswers(published, round, correct)) actor.send(event);
    await settle();
  };
  return { actor, published, announced, snapshots, train, answerEval };
}

const settle = () => new Promise((r) => setTimeout(r, 10));

describe('coordinator machine', () => {
  it('evaluates the base policy before releasing any training task', async () => {
    const h = harness({ maxStaleness: 0, promptsPerStep: 2 });
    await settle();
    expect(h.published.map((t) => t.taskId)).toEqual(['e0-0', 'e0-1']);
    expect(h.actor.getSnapshot().value).toEqual({ baseline: 'waiting' });
    await h.answerEval(0, [true, false]);
    expect(h.announced).toContain('eval 0: 0.5');
    expect(h.train().map((t) => t.taskId)).toEqual(['t0', 't1']);
  });

  it('maxStaleness 0: releases one step of tasks per policy version, replacing dropped ones', async () => {
    const h = harness({ maxStaleness: 0, promptsPerStep: 2 });
    await settle();
    await h.answerEval(0, [false, false]);
    expect(h.train().map((t) => t.taskId)).toEqual(['t0', 't1']);
    expect(h.train().every((t) => t.minPolicyVersion === 0)).toBe(true);

    h.actor.send({ type: 'DROPPED', taskId: 't0', reason: 'filtered' });
    await settle();
    expect(h.train().map((t) => t.taskId)).toEqual(['t0', 't1', 't2']);

    h.actor.send({ type: 'POLICY', version: 1 });
    await settle();
    const released = h.train().map((t) => [t.taskId, t.minPolicyVersion]);
    expect(released).toEqual([
      ['t0', 0],
      ['t1', 0],
      ['t2', 0],
      ['t3', 1],
      ['t4', 1],
    ]);
  });

  it('maxStaleness 2 lets generation run up to 3 steps ahead, and no further', async () => {
    const h = harness({ maxStaleness: 2, promptsPerStep: 4 });
    await settle();
    await h.answerEval(0, [true, true]);
    expect(h.train()).toHaveLength(12);
    h.actor.send({ type: 'TRAINED', event: trainedEvent(0, ['t0', 't1', 't2', 't3']) });
    await settle();
    expect(h.train()).toHaveLength(12);
    h.actor.send({ type: 'POLICY', version: 1 });
    await settle();
    expect(h.train()).toHaveLength(16);
  });

  it('evaluates every N versions, and the final version when the learner is done, then drains', async () => {
    const h = harness({ maxStaleness: 0, promptsPerStep: 1, everySteps: 2 });
    await settle();
    await h.answerEval(0, [false, false]);
    for (let v = 1; v <= 3; v++) {
      h.actor.send({ type: 'TRAINED', event: trainedEvent(v - 1, [`t${v - 1}`]) });
      h.actor.send({ type: 'POLICY', version: v });
      await settle();
    }
    const rounds = () => [
      ...new Set(h.published.filter((t) => t.kind === 'eval').map((t) => t.minPolicyVersion)),
    ];
    expect(rounds()).toEqual([0, 2]);
    await h.answerEval(1, [true, false]);
    h.actor.send({ type: 'RUN_DONE', reason: 'reached 3 steps' });
    await settle();
    expect(rounds()).toEqual([0, 2, 3]);
    expect(h.announced).toContain('done: reached 3 steps');
    expect(h.actor.getSnapshot().value).toEqual({ finishing: 'evaluating' });
    await h.answerEval(2, [true, true]);
    // t3 was released at version 3 and is still out: the coordinator waits for its outcome.
    expect(h.actor.getSnapshot().value).toEqual({ finishing: 'draining' });
    h.actor.send({ type: 'DROPPED', taskId: 't3', reason: 'surplus' });
    await waitFor(h.actor, (s) => s.status === 'done');
    const { ledger, evals } = h.actor.getSnapshot().context;
    expect(ledger.counts()).toMatchObject({
      tasksDispatched: 4,
      groupsTrained: 3,
      groupsDropped: 1,
      lost: 0,
    });
    expect(evals.map((e) => e.accuracy)).toEqual([0, 0.5, 1]);
  });

  it('counts answers that come back before the publish of their round has finished', async () => {
    let open = () => {};
    const publishGate = new Promise<void>((resolve) => {
      open = resolve;
    });
    const h = harness({ maxStaleness: 0, promptsPerStep: 1, publishGate });
    await settle();
    await h.answerEval(0, [true, false]);
    expect(h.announced).toContain('eval 0: 0.5');
    open();
    await settle();
    expect(h.train().map((t) => t.taskId)).toEqual(['t0']);
  });

  it('evaluates the final version once when its periodic round is still out at the end', async () => {
    const h = harness({ maxStaleness: 0, promptsPerStep: 1, everySteps: 1 });
    await settle();
    await h.answerEval(0, [false, false]);
    h.actor.send({ type: 'TRAINED', event: trainedEvent(0, ['t0']) });
    h.actor.send({ type: 'POLICY', version: 1 });
    h.actor.send({ type: 'RUN_DONE', reason: 'reached 1 steps' });
    await settle();
    const rounds = h.published.filter((t) => t.kind === 'eval').map((t) => t.evalRound);
    expect([...new Set(rounds)]).toEqual([0, 1]);
    await h.answerEval(1, [true, true]);
    h.actor.send({ type: 'DROPPED', taskId: 't1', reason: 'surplus' });
    await waitFor(h.actor, (s) => s.status === 'done');
    expect(h.actor.getSnapshot().context.evals.map((e) => e.policyVersion)).toEqual([0, 1]);
  });

  it('ends the run when a finite dataset is used up and every task is accounted for', async () => {
    const h = harness({ maxStaleness: 4, promptsPerStep: 1, trainSize: 2 });
    await settle();
    await h.answerEval(0, [false, false]);
    expect(h.train()).toHaveLength(2);
    h.actor.send({ type: 'DROPPED', taskId: 't0', reason: 'filtered' });
    h.actor.send({ type: 'TRAINED', event: trainedEvent(0, ['t1']) });
    h.actor.send({ type: 'POLICY', version: 1 });
    await settle();
    expect(h.announced).toContain('done: dataset exhausted');
  });

  it('stops early once held-out accuracy reaches the target', async () => {
    const h = harness({ maxStaleness: 0, promptsPerStep: 1, everySteps: 1, targetAccuracy: 0.9 });
    await settle();
    await h.answerEval(0, [true, true]);
    expect(h.announced.some((a) => a.startsWith('done'))).toBe(false);
    h.actor.send({ type: 'TRAINED', event: trainedEvent(0, ['t0']) });
    h.actor.send({ type: 'POLICY', version: 1 });
    await settle();
    await h.answerEval(1, [true, true]);
    expect(h.announced.some((a) => a.startsWith('done: target'))).toBe(true);
  });
});

describe('coordinator resume', () => {
  it('continues from its snapshot: counts, dispatch position and evaluations carry over', async () => {
    const first = harness({ maxStaleness: 0, promptsPerStep: 2, everySteps: 2 });
    await settle();
    await first.answerEval(0, [true, false]);
    first.actor.send({ type: 'DROPPED', taskId: 't0', reason: 'filtered' });
    await settle();
    first.actor.send({ type: 'TRAINED', event: trainedEvent(0, ['t1', 't2']) });
    first.actor.send({ type: 'POLICY', version: 1 });
    await settle();
    first.actor.send({ type: 'TRAINED', event: trainedEvent(1, ['t3']) });
    first.actor.send({ type: 'POLICY', version: 2 });
    await settle();
    // Version 2's evaluation is under way when the coordinator dies.
    expect(first.published.filter((t) => t.evalRound === 1)).toHaveLength(2);
    const saved = snapshotOf(first.actor.getSnapshot().context);
    first.actor.stop();
    // Through JSON, as the key-value store keeps it.
    const resume = JSON.parse(JSON.stringify(saved)) as CoordinatorSnapshot;

    const second = harness({ maxStaleness: 0, promptsPerStep: 2, everySteps: 2, resume, version: 2 });
    await settle();
    const ctx = second.actor.getSnapshot().context;
    expect(ctx.ledger.counts()).toEqual(first.actor.getSnapshot().context.ledger.counts());
    expect(ctx.stats.steps).toBe(2);
    // The base evaluation is not repeated; the interrupted round runs again under a new number.
    expect(
      second.published.filter((t) => t.kind === 'eval').map((t) => [t.evalRound, t.minPolicyVersion]),
    ).toEqual([
      [2, 2],
      [2, 2],
    ]);
    // Admission control counts what the first coordinator dispatched: nothing new until version 3.
    expect(second.train()).toEqual([]);
    second.actor.send({ type: 'POLICY', version: 3 });
    await settle();
    // Training tasks continue after the last one dispatched, none issued twice.
    const before = first.train().map((t) => t.taskId);
    const after = second.train().map((t) => t.taskId);
    expect(after.filter((id) => before.includes(id))).toEqual([]);
    expect(Number(after[0]?.slice(1))).toBe(before.length);
    // A step reported again after a learner restart is counted once.
    second.actor.send({ type: 'TRAINED', event: trainedEvent(1, ['t3']) });
    await settle();
    expect(second.actor.getSnapshot().context.stats.steps).toBe(2);
    expect(second.actor.getSnapshot().context.ledger.counts().duplicatesTrained).toBe(0);
  });

  it('changes nothing in place: an event gives a new context and leaves the one before as it was', async () => {
    const h = harness({ maxStaleness: 0, promptsPerStep: 2 });
    await settle();
    await h.answerEval(0, [true, true]);
    const before = h.actor.getSnapshot().context;
    const countsBefore = before.ledger.counts();
    h.actor.send({ type: 'DROPPED', taskId: 't0', reason: 'filtered' });
    const after = h.actor.getSnapshot().context;
    expect(after.ledger.counts().groupsDropped).toBe(1);
    expect(before.ledger.counts()).toEqual(countsBefore);
    expect(before.ledger.isSettled('t0')).toBe(false);
  });

  it('closes a finished run after the drain timeout of the machine clock, counting what never came back as lost', async () => {
    const clock = new SimulatedClock();
    const h = harness({ maxStaleness: 0, promptsPerStep: 2, clock });
    await settle();
    await h.answerEval(0, [true, true]);
    expect(h.train().map((t) => t.taskId)).toEqual(['t0', 't1']);
    h.actor.send({ type: 'RUN_DONE', reason: 'test' });
    await settle();
    // The final policy (still version 0) was evaluated by the base round: nothing more to evaluate.
    expect(h.actor.getSnapshot().value).toEqual({ finishing: 'draining' });
    clock.increment(DRAIN_TIMEOUT_MS - 1);
    expect(h.actor.getSnapshot().status).toBe('active');
    clock.increment(1);
    expect(h.actor.getSnapshot().status).toBe('done');
    expect(h.actor.getSnapshot().context.ledger.counts().lost).toBe(2);
  });
});
