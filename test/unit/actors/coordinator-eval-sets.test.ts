import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createActor, fromPromise } from 'xstate';
import { coordinatorMachine } from '../../../actors/coordinator/machine.js';
import type { ProblemSource } from '../../../actors/coordinator/problems.js';
import type { CoordinatorSnapshot } from '../../../actors/coordinator/snapshot.js';
import type { Task } from '../../../bus/messages.js';
import { parseRunConfig } from '../../../config/parse-run-config.js';
import { BUILTIN_TEMPLATES } from '../../../evaluation/templates.js';
import { loadEvalSets } from '../../../runtime/problem-source.js';
import { summariseCoordinator } from '../../../runtime/summary.js';
import { evalAnswers } from '../../support/messages.js';

const problem = (i: number, dataSource = 'arithmetic') => ({
  id: `p${i}`,
  prompt: `${i}+1=`,
  answer: String(i + 1),
  dataSource,
});

/** A coordinator with the held-out split (2 problems) and one more dataset (3 problems). */
function harness(targetAccuracy = 1) {
  const source: ProblemSource = {
    train: (i) => problem(i),
    heldOut: [problem(100), problem(101)],
    heldOutName: 'held',
    evalSets: [
      { name: 'bench', problems: [problem(200, 'bench'), problem(201, 'bench'), problem(202, 'bench')] },
    ],
  };
  const config = parseRunConfig({
    maxStaleness: 0,
    promptsPerStep: 2,
    groupSize: 2,
    eval: { everySteps: 2, targetAccuracy },
  });
  const published: Task[] = [];
  const announced: string[] = [];
  const machine = coordinatorMachine.provide({
    actors: {
      publishTasks: fromPromise<void, { tasks: Task[]; snapshot: CoordinatorSnapshot }>(async ({ input }) => {
        published.push(...input.tasks);
      }),
    },
    actions: {
      announceDone: (_, reason) => void announced.push(`done: ${reason}`),
      announceEval: (_, r) => void announced.push(`${r.dataset} v${r.policyVersion}: ${r.accuracy}`),
    },
  });
  const actor = createActor(machine, { input: { config, source } }).start();
  const answer = async (round: number, correct: boolean[]) => {
    for (const event of evalAnswers(published, round, correct)) actor.send(event);
    await settle();
  };
  return { actor, published, announced, answer, config };
}

const settle = () => new Promise((r) => setTimeout(r, 10));

describe('coordinator: evaluation on several datasets', () => {
  it('evaluates every dataset at the base and every N versions, one round each', async () => {
    const h = harness();
    await settle();
    expect(h.published.map((t) => [t.taskId, t.dataset])).toEqual([
      ['e0-0', 'held'],
      ['e0-1', 'held'],
      ['e1-0', 'bench'],
      ['e1-1', 'bench'],
      ['e1-2', 'bench'],
    ]);
    await h.answer(0, [true, false]);
    // Training waits for every dataset's base round.
    expect(h.published.some((t) => t.kind === 'train')).toBe(false);
    await h.answer(1, [true, true, false]);
    expect(h.published.filter((t) => t.kind === 'train')).toHaveLength(2);
    expect(h.announced).toEqual(['held v0: 0.5', `bench v0: ${2 / 3}`]);

    h.actor.send({ type: 'POLICY', version: 1 });
    h.actor.send({ type: 'POLICY', version: 2 });
    await settle();
    const v2 = h.published.filter((t) => t.kind === 'eval' && t.minPolicyVersion === 2);
    expect(v2.map((t) => [t.taskId, t.dataset])).toEqual([
      ['e2-0', 'held'],
      ['e2-1', 'held'],
      ['e3-0', 'bench'],
      ['e3-1', 'bench'],
      ['e3-2', 'bench'],
    ]);
    await h.answer(3, [true, true, true]);
    await h.answer(2, [false, true]);
    expect(h.announced.slice(2)).toEqual(['bench v2: 1', 'held v2: 0.5']);
  });

  it('reads the target accuracy on the first dataset only, and so do base and final accuracy', async () => {
    const h = harness(0.9);
    await settle();
    await h.answer(0, [false, false]);
    await h.answer(1, [false, false, false]);
    h.actor.send({ type: 'POLICY', version: 2 });
    await settle();
    await h.answer(3, [true, true, true]);
    expect(h.announced.some((a) => a.startsWith('done'))).toBe(false);
    await h.answer(2, [true, true]);
    expect(h.announced).toContain('done: target accuracy reached');
    const summary = summariseCoordinator(h.config, h.actor.getSnapshot().context, 2);
    expect(summary.baseAccuracy).toBe(0);
    expect(summary.finalAccuracy).toBe(1);
    expect(summary.targetReached).toMatchObject({ policyVersion: 2, accuracy: 1 });
    expect(summary.evals.map((e) => e.dataset)).toEqual(['held', 'bench', 'bench', 'held']);
  });
});

describe('loadEvalSets', () => {
  const file = (name: string, lines: object[]) => {
    const path = join(mkdtempSync(join(tmpdir(), 'nft-eval-sets-')), name);
    writeFileSync(path, `${lines.map((l) => JSON.stringify(l)).join('\n')}\n`);
    return path;
  };

  it('puts each problem into the template, names it by its dataset, keeps multi-answer golds as lists', async () => {
    const path = file('olymp.jsonl', [
      {
        id: 1,
        problem: 'Find all n.',
        answer: '$1$,$3$',
        answers: ['$1$,$3$'],
        source_fields: { is_multiple_answer: true },
      },
      { id: 2, problem: 'Find m.', answer: '7', answers: ['7'] },
    ]);
    const config = parseRunConfig({
      engine: 'simulated',
      eval: { datasets: [path], template: 'boxed', limit: 1 },
    });
    const [set] = await loadEvalSets(config);
    expect(set?.name).toBe('olymp');
    expect(set?.problems).toEqual([
      {
        id: 'olymp/1',
        prompt: BUILTIN_TEMPLATES.boxed.replace('{problem}', 'Find all n.'),
        answer: '1, 3',
        dataSource: 'olymp',
      },
    ]);
  });

  it('refuses benchmark prompts the embedded policy cannot read, before the run starts', async () => {
    const path = file('words.jsonl', [{ id: 'a', problem: 'What is 2+2?', answer: '4' }]);
    const config = parseRunConfig({ eval: { datasets: [path] } });
    await expect(loadEvalSets(config)).rejects.toThrow(/not a prompt the embedded policy can read/);
  });
});
