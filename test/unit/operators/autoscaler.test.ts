import { describe, expect, it } from 'vitest';
import {
  decide,
  type ScalingPolicy,
  type ScalingSignals,
  type ScalingState,
} from '../../../operators/autoscaler/decide.js';

const policy: ScalingPolicy = { minReplicas: 1, maxReplicas: 8, upWindowSeconds: 30, downWindowSeconds: 300 };

/**
 * A model of demand: each rollout worker produces `perWorker` groups a second, the learner consumes
 * `learnerRate`. Fewer workers starve the learner; more are held back by admission control.
 */
function signalsFor(replicas: number, perWorker: number, learnerRate: number): ScalingSignals {
  const supply = replicas * perWorker;
  return {
    learnerIdleFraction: Math.max(0, 1 - supply / learnerRate),
    admissionBlockedFraction: Math.max(0, 1 - learnerRate / supply),
    pendingTasks: 16,
  };
}

function run(
  start: number,
  seconds: number,
  signals: (replicas: number, t: number) => ScalingSignals,
  p = policy,
) {
  let state: ScalingState = { replicas: start, history: [] };
  const trace: number[] = [];
  for (let t = 0; t <= seconds; t += 10) {
    const d = decide(state, signals(state.replicas, t), t, p);
    state = d.state;
    trace.push(d.replicas);
  }
  return trace;
}

const changes = (trace: number[]) => trace.filter((r, i) => i > 0 && r !== trace[i - 1]).length;

describe('rollout autoscaler', () => {
  it('scales up when the learner starves, after the up window, to about what keeps it busy', () => {
    // 1 worker makes 1 group/s, the learner trains 4/s: it idles 75% of the time.
    const trace = run(1, 600, (n) => signalsFor(n, 1, 4));
    expect(trace.slice(0, 3)).toEqual([1, 1, 1]); // nothing moves before the 30 s window is covered
    expect(trace.at(-1)).toBe(4);
    expect(changes(trace)).toBeLessThanOrEqual(2);
  });

  it('scales down on oversupply, slowly (the longer down window), and settles', () => {
    const trace = run(8, 3600, (n) => signalsFor(n, 1, 3));
    expect(trace.slice(0, 30).every((r) => r === 8)).toBe(true); // 300 s before the first step down
    // Settles with at most a third more supply than the learner uses (held back under 25% of the time).
    expect(trace.at(-1)).toBe(4);
    expect(Math.min(...trace)).toBeGreaterThanOrEqual(3); // never below what the learner needs
  });

  it('acts once its window is covered when signals come at intervals that do not divide it', () => {
    const p = { ...policy, upWindowSeconds: 3, downWindowSeconds: 5 };
    const oversupplied = { learnerIdleFraction: 0, admissionBlockedFraction: 0.9, pendingTasks: 2 };
    let state: ScalingState = { replicas: 4, history: [] };
    const trace: number[] = [];
    for (let t = 0; t <= 14; t += 2) {
      const d = decide(state, oversupplied, t, p);
      state = d.state;
      trace.push(d.replicas);
    }
    // Reports at 0, 2, 4, …: the 5 s window is covered at 6 s; the next step down waits until the
    // window holds only recommendations made at 3 workers (from 8 s on), at 14 s.
    expect(trace).toEqual([4, 4, 4, 3, 3, 3, 3, 2]);
  });

  it('does not flap when the signals alternate', () => {
    const starving: ScalingSignals = {
      learnerIdleFraction: 0.5,
      admissionBlockedFraction: 0,
      pendingTasks: 10,
    };
    const oversupplied: ScalingSignals = {
      learnerIdleFraction: 0,
      admissionBlockedFraction: 0.9,
      pendingTasks: 0,
    };
    const trace = run(3, 3600, (_n, t) => (Math.floor(t / 20) % 2 === 0 ? starving : oversupplied));
    expect(changes(trace)).toBe(0);
  });

  it('stays within min and max replicas whatever the demand', () => {
    const bounded = { ...policy, minReplicas: 2, maxReplicas: 5 };
    const up = run(2, 1200, (n) => signalsFor(n, 0.1, 10), bounded);
    const down = run(5, 3600, (n) => signalsFor(n, 10, 0.1), bounded);
    expect(Math.max(...up)).toBe(5);
    expect(Math.min(...down)).toBe(2);
    expect([...up, ...down].every((r) => r >= 2 && r <= 5)).toBe(true);
  });

  it('leaves a balanced run alone', () => {
    expect(changes(run(4, 3600, (n) => signalsFor(n, 1, 4)))).toBe(0);
  });
});
