import { parseArgs } from 'node:util';
import { loadOrBuildHfBase } from '../engines/torch/hf-base.js';
import { buildConfig } from './config-input.js';
import { integerFlag, numberFlag } from './flags.js';

export const makeModelHelp = `nft-train make-model — build the small Hugging Face model of the real-engine path

Usage: nft-train make-model [--out DIR] [--config FILE] [--seed N] [--target X]

Makes, without any model hub, a Qwen2-architecture causal LM of about three million parameters: a
byte-level BPE tokenizer trained here with the tokenizers library (digits split one by one), the model
built from its config, and supervised pretraining with the PyTorch trainer on the arithmetic task until
greedy held-out exact match first reaches the target. The directory holds what save_pretrained writes
(config, safetensors weights, tokenizer files, generation config) and nft-base.json (how it was made
and how good it is); vLLM, transformers and the torch trainer load it as it is.

Needs the project's Python environment (npm run setup:python). The result is cached under
~/.cache/nft-train/hf-base/<key> ($XDG_CACHE_HOME when set), the key a digest of the maker's source,
the problems, the seed and the target; --out writes a fresh build elsewhere. Takes a few minutes on
two cores the first time.

Options:
  --out DIR       write the model here (default: the cache)
  --config FILE   run configuration (its dataset.arithmetic section sets the problems)
  --seed N        initialisation and training stream (default 1)
  --target X      held-out exact match to stop at (default 0.3)
  -h, --help      this text

Prints the report as one JSON line last: path, parameters, vocabulary, steps, held-out accuracy, seconds.`;

export async function makeModelCommand(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      out: { type: 'string' },
      config: { type: 'string' },
      seed: { type: 'string' },
      target: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
  });
  if (values.help) {
    console.log(makeModelHelp);
    return;
  }
  const config = buildConfig(values.config, {});
  const target = numberFlag('--target', values.target);
  const base = await loadOrBuildHfBase({
    arithmetic: config.dataset.arithmetic,
    seed: integerFlag('--seed', values.seed) ?? 1,
    ...(target === undefined ? {} : { target }),
    ...(values.out ? { out: values.out } : {}),
    log: (line) => process.stderr.write(`${line}\n`),
  });
  console.log(JSON.stringify({ path: base.path, cached: base.cached, ...base.report }));
}
