import { loadOrBuildHfBase } from '../engines/torch/hf-base.js';
import { buildConfig } from './config-input.js';
import { type CommandSpec, parseCommand } from './options.js';

export const makeModelSpec = {
  command: 'nft-train make-model',
  summary: 'build the small Hugging Face model of the real-engine path',
  about: `Makes, without any model hub, a Qwen2-architecture causal LM of about three million parameters: a
byte-level BPE tokenizer trained here with the tokenizers library (digits split one by one), the model
built from its config, and supervised pretraining with the PyTorch trainer on the arithmetic task until
greedy held-out exact match first reaches the target. The directory holds what save_pretrained writes
(config, safetensors weights, tokenizer files, generation config) and nft-base.json (how it was made
and how good it is); vLLM, transformers and the torch trainer load it as it is.

Needs the project's Python environment (npm run setup:python). The result is cached under
~/.cache/nft-train/hf-base/<key> ($XDG_CACHE_HOME when set), the key a digest of the maker's source,
the problems, the seed and the target; --out writes a fresh build elsewhere. Takes a few minutes on
two cores the first time.`,
  options: {
    out: { type: 'string', value: 'DIR', defaultText: 'the cache', help: 'write the model here' },
    config: {
      type: 'string',
      value: 'FILE',
      help: 'run configuration (its dataset.arithmetic section sets the problems)',
    },
    seed: { type: 'integer', min: 0, default: 1, help: 'initialisation and training stream' },
    target: { type: 'number', above: 0, max: 1, default: 0.3, help: 'held-out exact match to stop at' },
  },
  notes:
    'Prints the report as one JSON line last: path, parameters, vocabulary, steps, held-out accuracy, seconds.',
} as const satisfies CommandSpec;

export async function makeModelCommand(argv: string[]): Promise<void> {
  const args = parseCommand(makeModelSpec, argv);
  if (!args) return;
  const { values } = args;
  const config = buildConfig(values.config, {});
  const base = await loadOrBuildHfBase({
    arithmetic: config.dataset.arithmetic,
    seed: values.seed,
    target: values.target,
    ...(values.out ? { out: values.out } : {}),
    log: (line) => process.stderr.write(`${line}\n`),
  });
  console.log(JSON.stringify({ path: base.path, cached: base.cached, ...base.report }));
}
