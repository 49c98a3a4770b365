import { parseArgs } from 'node:util';
import { loadOrBuildBase } from '../engines/embedded/pretrain.js';
import { buildConfig } from './config-input.js';
import { integerFlag } from './flags.js';

export const pretrainHelp = `nft-train pretrain — build the base checkpoint of the embedded policy

Usage: nft-train pretrain [--config FILE] [--seed N]

Trains the tiny transformer with supervised next-token prediction on the arithmetic task until greedy
held-out exact match first reaches about 30% (a mediocre policy that RL can improve), counted in
steps so a seed always gives the same weights. The result is cached under model.checkpoint
(default .cache/base) keyed by the model, task and seed; 'nft-train run' builds it on first use.

Options:
  --config FILE   run configuration (its model and dataset.arithmetic sections matter here)
  --seed N        base seed (model.baseSeed; default 0)
  -h, --help      this text

Prints the report as one JSON line last: held-out accuracy, steps, seconds, path.`;

export async function pretrainCommand(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      config: { type: 'string' },
      seed: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
  });
  if (values.help) {
    console.log(pretrainHelp);
    return;
  }
  const config = buildConfig(values.config, { 'model.baseSeed': integerFlag('--seed', values.seed) });
  const base = await loadOrBuildBase({
    model: config.model,
    arithmetic: config.dataset.arithmetic,
    seed: config.model.baseSeed,

    log: (line) => process.stderr.write(`${line}\n`),
  });
  console.log(JSON.stringify({ ...base.report, path: base.path, cached: base.cached }));
}
