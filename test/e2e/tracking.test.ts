import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../util/free-port.js';
import { runCli } from '../support/cli-run.js';

/**
 * Experiment tracking against the real things: a run reports to an `mlflow server` from PyPI, and its
 * TensorBoard event files are read back by the `tensorboard` package's own reader. Both come from
 * .venv-tracking (`npm run setup:tracking`); outside CI the suite skips without it.
 */

const SETUP = 'npm run setup:tracking';
const python = resolve(process.env.NFT_TRACKING_VENV ?? '.venv-tracking', 'bin', 'python');
const ready =
  existsSync(python) &&
  spawnSync(python, ['-c', 'import mlflow, tensorboard'], { encoding: 'utf8' }).status === 0;
if (!ready && process.env.CI === 'true')
  throw new Error(`${python} cannot import mlflow and tensorboard: run ${SETUP}`);
if (!ready)
  console.warn(`skipping the tracking tests: no ${python} with mlflow and tensorboard; set up with ${SETUP}`);

const STEPS = 20;

describe.skipIf(!ready)('experiment tracking', () => {
  const dir = mkdtempSync(join(tmpdir(), 'nft-tracking-'));
  let server: ChildProcess | undefined;
  let uri = '';
  const out = join(dir, 'run');
  const tensorboard = join(dir, 'tb');

  beforeAll(async () => {
    const port = await freePort();
    uri = `http://127.0.0.1:${port}`;
    server = spawn(
      join(python, '..', 'mlflow'),
      [
        'server',
        '--host',
        '127.0.0.1',
        '--port',
        String(port),
        '--workers',
        '1',
        '--backend-store-uri',
        `sqlite:///${join(dir, 'mlflow.db')}`,
        '--default-artifact-root',
        join(dir, 'artifacts'),
      ],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    let log = '';
    server.stderr?.on('data', (b: Buffer) => {
      log += b.toString();
    });
    const deadline = Date.now() + 120_000;
    while (Date.now() < deadline) {
      const ok = await fetch(`${uri}/health`).then(
        (r) => r.ok,
        () => false,
      );
      if (ok) break;
      if (server.exitCode !== null) throw new Error(`mlflow server exited: ${log}`);
      await new Promise((r) => setTimeout(r, 500));
    }
    const run = runCli([
      'run',
      '--steps',
      String(STEPS),
      '--eval-every',
      '10',
      '--target-accuracy',
      '1',
      '--no-metrics',
      '--out',
      out,
      '--mlflow',
      uri,
      '--tensorboard',
      tensorboard,
    ]);
    expect(await run.exit, run.stderr()).toBe(0);
  }, 240_000);

  afterAll(() => {
    server?.kill('SIGTERM');
    rmSync(dir, { recursive: true, force: true });
  });

  const stepLosses = () =>
    readFileSync(join(out, 'metrics.jsonl'), 'utf8')
      .split('\n')
      .filter((l) => l.includes('"type":"step"'))
      .map((l) => JSON.parse(l) as { policyVersion: number; loss: number });

  const api = async <T>(path: string, body?: unknown): Promise<T> => {
    const r = await fetch(`${uri}/api/2.0/mlflow/${path}`, {
      method: body ? 'POST' : 'GET',
      headers: { 'Content-Type': 'application/json' },
      ...(body !== undefined && { body: JSON.stringify(body) }),
    });
    expect(r.ok, `${path}: ${r.status}`).toBe(true);
    return (await r.json()) as T;
  };

  it('puts the run in MLflow: finished, its configuration as parameters, every step’s loss', async () => {
    const { experiment } = await api<{ experiment: { experiment_id: string } }>(
      'experiments/get-by-name?experiment_name=nft-train',
    );
    const { runs } = await api<{
      runs: {
        info: { run_id: string; status: string };
        data: { params: { key: string; value: string }[] };
      }[];
    }>('runs/search', { experiment_ids: [experiment.experiment_id] });
    expect(runs).toHaveLength(1);
    const run = runs[0] as (typeof runs)[number];
    expect(run.info.status).toBe('FINISHED');
    const params = Object.fromEntries(run.data.params.map((p) => [p.key, p.value]));
    expect(params['objective.name']).toBe('nft');
    expect(params.steps).toBe(String(STEPS));
    const history = await api<{ metrics: { step: number; value: number }[] }>(
      `metrics/get-history?run_id=${run.info.run_id}&metric_key=loss`,
    );
    const got = history.metrics
      .map((m) => [m.step, m.value])
      .sort((a, b) => (a[0] as number) - (b[0] as number));
    expect(got).toEqual(stepLosses().map((s) => [s.policyVersion, s.loss]));
    const accuracy = await api<{ metrics: { step: number }[] }>(
      `metrics/get-history?run_id=${run.info.run_id}&metric_key=eval_accuracy_arithmetic`,
    );
    expect(accuracy.metrics.map((m) => m.step).sort((a, b) => a - b)).toEqual([0, 10, 20]);
  });

  it('writes TensorBoard event files that TensorBoard’s reader loads, step for step', () => {
    const script = `
import json, sys
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
acc = EventAccumulator(sys.argv[1]); acc.Reload()
print(json.dumps({tag: [[e.step, e.value] for e in acc.Scalars(tag)] for tag in acc.Tags()["scalars"]}))
`;
    const r = spawnSync(python, ['-c', script, tensorboard], { encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    const scalars = JSON.parse(r.stdout) as Record<string, [number, number][]>;
    const losses = stepLosses();
    expect(scalars.loss?.map(([step]) => step)).toEqual(losses.map((s) => s.policyVersion));
    // Stored as float32 (simple_value).
    for (const [i, [, v]] of (scalars.loss ?? []).entries())
      expect(v).toBeCloseTo((losses[i] as { loss: number }).loss, 6);
    expect(Object.keys(scalars)).toEqual(
      expect.arrayContaining(['train_accuracy', 'grad_norm', 'entropy', 'eval_accuracy_arithmetic']),
    );
  });
});
