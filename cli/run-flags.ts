import { parseRunConfig } from '../config/run-config.js';
import type { FlagOverrides } from './config-input.js';
import { integerFlag, numberFlag } from './flags.js';

/**
 * The flags that override run-configuration fields: each names its field, so parsing, the override
 * and the default shown in `--help` all come from this table and the config schema.
 */

interface RunFlag {
  flag: string;
  path: string;
  type: 'integer' | 'number' | 'string';
  help: string;
}

export const runFlags: RunFlag[] = [
  { flag: 'objective', path: 'objective.name', type: 'string', help: 'nft | rft | dapo | grpo | drgrpo' },
  { flag: 'run-id', path: 'runId', type: 'string', help: 'run id: prefix of its subjects and state' },
  {
    flag: 'engine',
    path: 'engine',
    type: 'string',
    help: 'embedded (learns) | simulated (timing only) | openai',
  },
  {
    flag: 'url',
    path: 'openai.url',
    type: 'string',
    help: 'OpenAI-compatible server for --engine openai',
  },
  {
    flag: 'trainer',
    path: 'trainer',
    type: 'string',
    help: "learner's trainer: embedded | torch (PyTorch)",
  },
  { flag: 'steps', path: 'steps', type: 'integer', help: 'optimisation steps' },
  { flag: 'seed', path: 'seed', type: 'integer', help: 'seed of the run: data order, sampling' },
  { flag: 'max-staleness', path: 'maxStaleness', type: 'integer', help: 'admission bound; 0 is on-policy' },
  { flag: 'group-size', path: 'groupSize', type: 'integer', help: 'responses per prompt' },
  { flag: 'prompts-per-step', path: 'promptsPerStep', type: 'integer', help: 'groups per optimisation step' },
  { flag: 'lr', path: 'model.learningRate', type: 'number', help: 'learning rate of the RL updates' },
  {
    flag: 'dataset',
    path: 'dataset.train',
    type: 'string',
    help: 'arithmetic, or a JSONL/Parquet file of verl rows',
  },
  {
    flag: 'target-accuracy',
    path: 'eval.targetAccuracy',
    type: 'number',
    help: 'stop at this held-out accuracy (1 = off)',
  },
  {
    flag: 'eval-every',
    path: 'eval.everySteps',
    type: 'integer',
    help: 'evaluate held-out accuracy every N steps',
  },
  { flag: 'out', path: 'out', type: 'string', help: 'where summary.json and metrics.jsonl go' },
  {
    flag: 'metrics-port',
    path: 'metricsPort',
    type: 'integer',
    help: 'Prometheus /metrics port (0 = any free)',
  },
];

/** `parseArgs` options for the table's flags. */
export function runFlagOptions(): Record<string, { type: 'string' }> {
  return Object.fromEntries(runFlags.map((f) => [f.flag, { type: 'string' as const }]));
}

/** Flag values → overrides of configuration paths; a malformed number names its flag. */
export function runFlagOverrides(values: Record<string, unknown>): FlagOverrides {
  const overrides: FlagOverrides = {};
  for (const f of runFlags) {
    const raw = values[f.flag] as string | undefined;
    overrides[f.path] =
      f.type === 'integer'
        ? integerFlag(`--${f.flag}`, raw)
        : f.type === 'number'
          ? numberFlag(`--${f.flag}`, raw)
          : raw;
  }
  return overrides;
}

/** The flags' lines of `--help`, each with the default the config schema gives it. */
export function runFlagHelp(): string {
  const defaults = parseRunConfig({}) as unknown as Record<string, unknown>;
  const valueAt = (path: string) =>
    path.split('.').reduce<unknown>((node, key) => (node as Record<string, unknown>)?.[key], defaults);
  return runFlags
    .map((f) => {
      const name = `  --${f.flag} ${f.type === 'string' ? 'VALUE' : 'N'}`.padEnd(26);
      return `${name}${f.help.padEnd(50)} (default ${String(valueAt(f.path) ?? 'none')})`;
    })
    .join('\n');
}
