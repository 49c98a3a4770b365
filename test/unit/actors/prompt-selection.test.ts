import { describe, expect, it } from 'vitest';
import type { ProblemSource } from '../../../actors/coordinator/problems.js';
import {
  type GroupOutcome,
  initialSelection,
  recordOutcome,
  restoreSelection,
  type SelectionEnv,
  type SelectionState,
  selectionDraft,
  selectionSnapshot,
  skipChance,
  sourceIndexOf,
} from '../../../actors/coordinator/prompt-selection.js';
import { PromptTable } from '../../../actors/coordinator/prompt-table.js';
import { parseRunConfig } from '../../../config/parse-run-config.js';
import { arithmeticBucket } from '../../../datasets/arithmetic.js';

const problem = (i: number) => ({ id: `p${i}`, prompt: `${i}+1=`, answer: String(i + 1), dataSource: 't' });
const BUCKETS = ['easy', 'mid', 'hard'];

/** Endless problems, each its own prompt; bucket `i mod 3` when `buckets`. */
function source(opts: { buckets?: boolean; size?: number } = {}): ProblemSource {
  const size = opts.size;
  return {
    train: (i) => problem(size === undefined ? i : i % size),
    ...(size === undefined ? {} : { size }),
    ...(opts.buckets ? { bucketOf: (p) => BUCKETS[Number(p.id.slice(1)) % 3] } : {}),
    heldOut: [],
    heldOutName: 'none',
  };
}

function env(over: Partial<SelectionEnv> = {}, selection: object = {}): SelectionEnv {
  return {
    source: source(),
    config: parseRunConfig({ selection: { allRight: { halfLifeSteps: 10 }, ...selection } }).selection,
    seed: 1,
    version: 0,
    promptsPerStep: 4,
    ...over,
  };
}

/** The state once task `taskIndex`, made of the source's problem at `position`, ended so. */
function heard(s: SelectionState, e: SelectionEnv, position: number, outcome: GroupOutcome, taskIndex = 0) {
  return recordOutcome({ ...s, pending: new Map([[taskIndex, position]]) }, e, taskIndex, outcome);
}

const allRight: GroupOutcome = { kind: 'no-signal', correctRate: 1, samples: 8 };
const allWrong: GroupOutcome = { kind: 'no-signal', correctRate: 0, samples: 8 };
const learning: GroupOutcome = { kind: 'signal', correctRate: 0.5, samples: 8 };

function draw(s: SelectionState, e: SelectionEnv, tasks: number, first = 0) {
  const draft = selectionDraft(s, e);
  const ids: string[] = [];
  for (let i = first; i < first + tasks; i++) ids.push(draft.next(i)?.id ?? 'none');
  return { ids, state: draft.state() };
}

describe('prompt selection: history of a prompt', () => {
  it('skips a prompt that was all right or all wrong with a chance that halves every halfLifeSteps', () => {
    const e = env({}, { allWrong: { skipProbability: 0.5, halfLifeSteps: 5 } });
    const s = heard(initialSelection(), e, 0, allRight);
    expect(s.allRight).toBe(1);
    expect(s.pending.size).toBe(0);
    expect(skipChance(s, e, problem(0))).toBeCloseTo(0.9);
    expect(skipChance(s, { ...e, version: 10 }, problem(0))).toBeCloseTo(0.45);
    expect(skipChance(s, { ...e, version: 20 }, problem(0))).toBeCloseTo(0.225);
    expect(skipChance(s, e, problem(1))).toBe(0);
    // Twice in a row is surer; the last one, all wrong, is remembered for less long.
    const twice = heard(s, { ...e, version: 20 }, 0, allWrong);
    expect(twice.allWrong).toBe(1);
    expect(skipChance(twice, { ...e, version: 20 }, problem(0))).toBeCloseTo(0.75);
    expect(skipChance(twice, { ...e, version: 25 }, problem(0))).toBeCloseTo(0.375);
    // A group with signal clears the history.
    expect(skipChance(heard(twice, e, 0, learning), e, problem(0))).toBe(0);
  });

  it('takes one pass over a finite dataset as the half-life when none is set', () => {
    const e = env({ source: source({ size: 1600 }) }, { allRight: {} });
    const s = heard(initialSelection(), e, 0, allRight);
    // 1600 problems at 4 per step: a pass is 400 steps.
    expect(skipChance(s, { ...e, version: 400 }, problem(0))).toBeCloseTo(0.45);
  });

  it('passes over prompts of the next pass it learned nothing from, and counts them', () => {
    const e = env({ source: source({ size: 10 }) }, { allRight: { skipProbability: 1, halfLifeSteps: 1e9 } });
    let s = initialSelection();
    const first = draw(s, e, 10);
    s = first.state;
    expect(first.ids).toEqual(Array.from({ length: 10 }, (_, i) => `p${i}`));
    for (let t = 0; t < 10; t++) s = recordOutcome(s, e, t, t % 2 === 0 ? allRight : learning);
    // The second pass: only the prompts that carried signal come back.
    const second = draw(s, e, 5, 10);
    expect(second.ids).toEqual(['p1', 'p3', 'p5', 'p7', 'p9']);
    expect(second.state.skipped).toBe(5);
    expect(sourceIndexOf(second.state, 10)).toBe(11);
    // Without selection every problem is taken in order.
    const off = env({ source: source({ size: 10 }) }, { enabled: false });
    expect(draw(s, off, 2, 10).ids).toEqual(['p0', 'p1']);
  });

  it('takes a problem after maxSkipsPerTask in a row, and ends where the source ends', () => {
    const e = env(
      { source: source({ size: 4 }) },
      { allWrong: { skipProbability: 1, halfLifeSteps: 1e9 }, maxSkipsPerTask: 2 },
    );
    let s = initialSelection();
    for (let t = 0; t < 4; t++) s = heard(s, e, t, allWrong, t);
    expect(draw(s, e, 1).ids).toEqual(['p2']);
    const finite: SelectionEnv = {
      ...e,
      source: { ...e.source, train: (i) => (i < 4 ? problem(i) : undefined) },
    };
    expect(draw(initialSelection(), finite, 5).ids).toEqual(['p0', 'p1', 'p2', 'p3', 'none']);
  });
});

describe('prompt selection: difficulty buckets', () => {
  it('favours buckets still being learned over solved and hopeless ones', () => {
    const e = env({ source: source({ buckets: true }) }, { buckets: { enabled: true } });
    let s = initialSelection();
    for (let i = 0; i < 30; i++)
      s = heard(s, e, i, i % 3 === 0 ? allRight : i % 3 === 1 ? learning : allWrong);
    expect(s.buckets.get('mid')).toMatchObject({ groups: 10, signal: 10, samples: 80, correct: 40 });
    // Each prompt was seen once; a new one of a bucket is judged by its bucket only.
    expect(skipChance(s, e, problem(31))).toBeCloseTo(0);
    expect(skipChance(s, e, problem(30))).toBeCloseTo(0.9);
    expect(skipChance(s, e, problem(32))).toBeCloseTo(0.9);
    // Off (the default), buckets are only counted.
    expect(skipChance(s, env({ source: source({ buckets: true }) }), problem(30))).toBe(0);
    const { ids } = draw(s, e, 300, 0);
    const mid = ids.filter((id) => Number(id.slice(1)) % 3 === 1).length;
    // Taken with chance 1 against 0.1 and 0.1: about 5 in 6.
    expect(mid / ids.length).toBeGreaterThan(0.75);
    expect(mid / ids.length).toBeLessThan(0.92);
  });

  it('forgets old outcomes of a bucket: its share follows the recent groups', () => {
    const e = env({ source: source({ buckets: true }) }, { buckets: { halfLifeSteps: 1 } });
    let s = initialSelection();
    for (let i = 0; i < 10; i++) s = heard(s, e, 3 * i, allWrong);
    s = heard(s, { ...e, version: 10 }, 3, learning);
    const easy = s.buckets.get('easy');
    expect(easy?.groups).toBeCloseTo(1 + 10 / 1024);
    expect(easy?.signal).toBe(1);
  });

  it('sorts arithmetic prompts by operand digits and the columns that carry or borrow', () => {
    expect(arithmeticBucket('12+34=')).toBe('2+2:00');
    expect(arithmeticBucket('37+45=')).toBe('2+2:10');
    expect(arithmeticBucket('55+55=')).toBe('2+2:11');
    expect(arithmeticBucket('73+45=')).toBe('2+2:01');
    expect(arithmeticBucket('91-19=')).toBe('2-2:10');
    expect(arithmeticBucket('9+15=')).toBe('1+2:10');
    expect(arithmeticBucket('what')).toBeUndefined();
  });
});

describe('prompt selection: reproducible', () => {
  it('draws the same problems from the same state and seed, in one plan or several', () => {
    const e = env({ source: source({ buckets: true, size: 50 }) });
    let s = initialSelection();
    for (let i = 0; i < 50; i++) s = heard(s, e, i, i % 4 === 0 ? learning : i % 2 ? allRight : allWrong);
    const once = draw(s, e, 40);
    expect(draw(s, e, 40)).toEqual(once);
    const part = draw(s, e, 15);
    expect([...part.ids, ...draw(part.state, e, 25, 15).ids]).toEqual(once.ids);
    expect(once.state.skipped).toBeGreaterThan(0);
    expect(draw(s, { ...e, seed: 2 }, 40).ids).not.toEqual(once.ids);
  });

  it('keeps its whole state through a snapshot (JSON, as the key-value store keeps it)', () => {
    const e = env({ source: source({ buckets: true, size: 50 }) });
    let s = initialSelection();
    for (let i = 0; i < 20; i++) s = heard(s, e, i, i % 3 === 1 ? learning : allRight);
    s = draw(s, e, 12).state;
    const snap = selectionSnapshot(s);
    expect(snap.pending).toHaveLength(12);
    const back = restoreSelection(JSON.parse(JSON.stringify(snap)), 99);
    expect(selectionSnapshot(back)).toEqual(snap);
    expect(draw(back, e, 20, 12)).toEqual(draw(s, e, 20, 12));
    for (let t = 0; t < 12; t++) expect(sourceIndexOf(back, t)).toBe(sourceIndexOf(s, t));
  });

  it('reads a snapshot from before prompt selection as every task made of the problem at its index', () => {
    const s = restoreSelection(undefined, 7);
    expect(s.cursor).toBe(7);
    expect(sourceIndexOf(s, 3)).toBe(3);
  });
});

describe('prompt table', () => {
  it('keeps at most its cap, forgetting the least recently set, and copies one shard per change', () => {
    let t = PromptTable.empty();
    for (let i = 0; i < 2000; i++) t = t.with(`k${i}`, { streak: 1, version: i, allRight: i % 2 === 0 }, 256);
    expect(t.size).toBeLessThanOrEqual(256);
    expect(t.size).toBeGreaterThan(128);
    expect(t.get('k1999')).toEqual({ streak: 1, version: 1999, allRight: false });
    expect(t.get('k0')).toBeUndefined();
    const before = t;
    const after = t.with('k1999', undefined, 256);
    expect(after.get('k1999')).toBeUndefined();
    expect(before.get('k1999')?.version).toBe(1999);
    expect(after.with('absent', undefined, 256)).toBe(after);
    // Its text, re-encoded only where a shard changed, gives back the same table in the same order.
    expect(PromptTable.decode(after.encode()).entries()).toEqual(after.entries());
    expect(PromptTable.decode(t.encode()).encode()).toBe(t.encode());
    expect(PromptTable.decode(PromptTable.empty().encode()).size).toBe(0);
  });
});
