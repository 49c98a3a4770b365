import { loadOrBuildBase } from '../engines/embedded/pretrain.js';
import { buildConfig } from './config-input.js';
import { type CommandSpec, parseCommand } from './options.js';

export const pretrainSpec = {
  command: 'nft-train pretrain',
  summary: 'build the base checkpoint of the embedded policy',
  about: `Trains the tiny transformer with supervised next-token prediction on the arithmetic task until greedy
held-out exact match first reaches about 30% (a mediocre policy that RL can improve), counted in
steps so a seed always gives the same weights. The result is cached under model.checkpoint
(default .cache/base) keyed by the model, task and seed; 'nft-train run' builds it on first use.`,
  options: {
    config: {
      type: 'string',
      value: 'FILE',
      help: 'run configuration (its model and dataset.arithmetic sections matter here)',
    },
    seed: { type: 'integer', config: 'model.baseSeed', help: 'base seed (model.baseSeed)' },
  },
  notes: 'Prints the report as one JSON line last: held-out accuracy, steps, seconds, path.',
} as const satisfies CommandSpec;

export async function pretrainCommand(argv: string[]): Promise<void> {
  const args = parseCommand(pretrainSpec, argv);
  if (!args) return;
  const config = buildConfig(args.values.config, args.overrides);
  const base = await loadOrBuildBase({
    model: config.model,
    arithmetic: config.dataset.arithmetic,
    seed: config.model.baseSeed,

    log: (line) => process.stderr.write(`${line}\n`),
  });
  console.log(JSON.stringify({ ...base.report, path: base.path, cached: base.cached }));
}
