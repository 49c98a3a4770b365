import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { createMetrics, createOperatorMetrics } from '../../../telemetry/metrics.js';

/**
 * Prometheus' own linter on what the run and the operator expose: `promtool check metrics` (Debian's
 * prometheus package, which .ci/run installs) reads the /metrics text and names every problem.
 */

const promtool = spawnSync('promtool', ['--version'], { encoding: 'utf8' }).status === 0;
const SETUP = 'promtool not found: install it with `apt-get install --no-install-recommends prometheus`';
if (!promtool && process.env.CI === 'true') throw new Error(`${SETUP} (CI=true: this test must run)`);
if (!promtool) console.warn(`skipping the promtool checks: ${SETUP}`);

function check(text: string): { status: number | null; output: string } {
  const r = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8' });
  return { status: r.status, output: `${r.stdout}${r.stderr}`.trim() };
}

describe.skipIf(!promtool)('promtool check metrics', () => {
  it('finds nothing to say about the run’s metrics, every family with a sample and the run label', async () => {
    const m = createMetrics(undefined, { run: 'arith' });
    m.policyVersion.set(3);
    m.sampleStaleness.observe(1);
    m.tasksDispatched.inc({ kind: 'train' });
    m.evalAccuracy.set({ dataset: 'arithmetic' }, 0.5);
    m.termGradNorm.set({ term: 'negative' }, 0.2);
    m.policyEntropy.set(0.4);
    const text = await m.registry.metrics();
    expect(text).toMatch(/^nft_policy_version\{run="arith"\} 3$/m);
    expect(text).toMatch(/^process_cpu_seconds_total\{run="arith"\} /m);
    expect(text).toMatch(/^nodejs_eventloop_lag_p99_seconds\{run="arith"\} /m);
    expect(check(text)).toEqual({ status: 0, output: '' });
  });

  it('finds nothing to say about the operator’s metrics', async () => {
    const m = createOperatorMetrics();
    m.reconciles.inc({ result: 'ok' });
    expect(check(await m.registry.metrics())).toEqual({ status: 0, output: '' });
  });

  it('would say something about a badly named metric (the check is live)', () => {
    const r = check('# HELP bad_counter a counter\n# TYPE bad_counter counter\nbad_counter 1\n');
    expect(r.output).toMatch(/counter metrics should have "_total" suffix/);
  });
});
