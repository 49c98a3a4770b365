import { describe, expect, it } from 'vitest';
import { createActor, fromPromise } from 'xstate';
import { type CoordinatorEvent, coordinatorMachine } from '../../../actors/coordinator/machine.js';
import type { ProblemSource } from '../../../actors/coordinator/problems.js';
import { type CoordinatorSnapshot, snapshotOf } from '../../../actors/coordinator/snapshot.js';
import type { Task } from '../../../bus/messages.js';
import { parseRunConfig } from '../../../config/parse-run-config.js';
import { trainedEvent } from '../../support/messages.js';
import { runSummaryOf } from '../../support/run-checks.js';

/** Four prompts over and over (a finite dataset read in passes), no evaluation set. */
const PROMPTS = 4;
const source: ProblemSource = {
  train: (i) => ({ id: `p${i % PROMPTS}`, prompt: `${i % PROMPTS}+1=`, answer: '', dataSource: 't' }),
  size: PROMPTS,
  heldOut: [],
  heldOutName: 'none',
};

function harness(opts: { resume?: CoordinatorSnapshot; version?: number; selection?: object } = {}) {
  const config = parseRunConfig({
    maxStaleness: 0,
    promptsPerStep: 2,
    groupSize: 2,
    eval: { everySteps: 0, targetAccuracy: 1 },
    selection: {
      allRight: { skipProbability: 1, halfLifeSteps: 1e6 },
      allWrong: { skipProbability: 1, halfLifeSteps: 1e6 },
      ...opts.selection,
    },
  });
  const published: Task[] = [];
  const machine = coordinatorMachine.provide({
    actors: {
      publishTasks: fromPromise<void, { tasks: Task[]; snapshot: CoordinatorSnapshot }>(async ({ input }) => {
        published.push(...input.tasks);
      }),
    },
  });
  const input = {
    config,
    source,
    ...(opts.resume ? { resume: opts.resume } : {}),
    ...(opts.version !== undefined ? { version: opts.version } : {}),
  };
  const actor = createActor(machine, { input }).start();
  const send = async (...events: CoordinatorEvent[]) => {
    for (const e of events) actor.send(e);
    await new Promise((r) => setTimeout(r, 10));
  };
  const train = () => published.filter((t) => t.kind === 'train').map((t) => `${t.taskId}:${t.problem.id}`);
  return { actor, config, send, train };
}

const filtered = (taskId: string, correctRate: number): CoordinatorEvent => ({
  type: 'DROPPED',
  taskId,
  reason: 'filtered',
  correctRate,
});

function trained(step: number, taskIds: string[], correctRates: number[]): CoordinatorEvent {
  return { type: 'TRAINED', event: trainedEvent(step, taskIds, { correctRates }) };
}

describe('coordinator prompt selection', () => {
  it('passes over prompts whose groups were all right or all wrong, and counts them', async () => {
    const h = harness();
    await h.send();
    expect(h.train()).toEqual(['t0:p0', 't1:p1']);
    await h.send(filtered('t0', 1));
    expect(h.train()).toEqual(['t0:p0', 't1:p1', 't2:p2']);
    await h.send(filtered('t1', 0), filtered('t2', 1));
    // p0, p1 and p2 had no signal: the next pass takes p3, then p3 again (the only one left).
    expect(h.train().slice(3)).toEqual(['t3:p3', 't4:p3']);
    const ctx = h.actor.getSnapshot().context;
    expect(ctx.selection.skipped).toBe(3);
    const summary = runSummaryOf(h.config, ctx);
    expect(summary).toMatchObject({ skippedPrompts: 3, filteredShare: 0.6 });
    expect(summary.promptSelection).toMatchObject({ enabled: true, allRight: 2, allWrong: 1 });
  });

  it('forgets a prompt once its group carries signal', async () => {
    const h = harness();
    await h.send();
    await h.send(filtered('t0', 1));
    // t2 is p2; t0's prompt p0 is skipped in the next pass until a group of it trains.
    await h.send(trained(0, ['t1', 't2'], [0.5, 0.5]), { type: 'POLICY', version: 1 });
    expect(h.train()).toEqual(['t0:p0', 't1:p1', 't2:p2', 't3:p3', 't4:p1']);
    expect(h.actor.getSnapshot().context.selection.pending.size).toBe(2);
  });

  it('a restarted coordinator chooses the same problems as the one before would have', async () => {
    const first = harness();
    await first.send();
    await first.send(filtered('t0', 1), filtered('t1', 0));
    const saved = JSON.parse(JSON.stringify(snapshotOf(first.actor.getSnapshot().context)));
    const second = harness({ resume: saved, version: 0 });
    const next: CoordinatorEvent[] = [
      filtered('t2', 0),
      trained(0, ['t3'], [0.5]),
      { type: 'POLICY', version: 1 },
    ];
    await first.send(...next);
    await second.send(...next);
    const before = first.train().length - second.train().length;
    expect(second.train()).toEqual(first.train().slice(before));
    expect(second.actor.getSnapshot().context.selection.skipped).toBe(
      first.actor.getSnapshot().context.selection.skipped,
    );
  });

  it('takes every problem in order when off, and resumes a snapshot from before selection', async () => {
    const h = harness({ selection: { enabled: false } });
    await h.send();
    await h.send(filtered('t0', 1), filtered('t1', 0));
    expect(h.train()).toEqual(['t0:p0', 't1:p1', 't2:p2', 't3:p3']);
    const { selection: _, ...old } = snapshotOf(h.actor.getSnapshot().context);
    const resumed = harness({ resume: JSON.parse(JSON.stringify(old)), version: 1 });
    await resumed.send();
    expect(resumed.train()).toEqual(['t4:p0', 't5:p1']);
  });
});
