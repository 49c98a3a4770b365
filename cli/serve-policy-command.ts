import { parseArgs } from 'node:util';
import { ConfigError } from '../config/run-config.js';
import { loadOrBuildBase } from '../engines/embedded/pretrain.js';
import { startPolicyServer } from '../engines/openai/server/server.js';
import { defaultWeightReaders, readWeights } from '../engines/openai/server/weight-readers.js';
import { buildConfig } from './config-input.js';
import { integerFlag } from './flags.js';

export const servePolicyHelp = `nft-train serve-policy — the embedded policy behind an OpenAI-compatible HTTP API

Usage: nft-train serve-policy [options]

Serves the part of vLLM's and SGLang's API the OpenAI policy engine uses (--engine openai), so runs,
tests and the Kubernetes rollout pods can use it in place of a GPU inference server:

  POST /v1/completions, /v1/chat/completions   n, temperature, top_p, max_tokens, seed, logprobs,
                                                return_tokens_as_token_ids, return_token_ids
  POST /tokenize                               prompt ids
  POST /update_weights_from_disk               {model_path, weight_version}: load new weights
  GET  /v1/models, /health, /get_model_info, /model_info, /get_weight_version

It starts from the base checkpoint of the run configuration's model (built and cached on first use).

Options:
  --port N            port to listen on (default 8000; 0 = any free one)
  --host ADDRESS      address to listen on (default 127.0.0.1)
  --config FILE       run configuration (YAML or JSON): the model and the base checkpoint
  --seed N            seed of sampling when a request brings none (default: the run's seed)
  --model-name NAME   the served model name (default nft-embedded)
  --weights PATH      start from these weights (a weights directory or file) instead of the base
  -h, --help          this text

Prints the URL it listens on as one line on stdout. SIGTERM or SIGINT: stops accepting connections,
finishes the requests in flight and exits 143 / 130.`;

export async function servePolicyCommand(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      port: { type: 'string' },
      host: { type: 'string' },
      config: { type: 'string' },
      seed: { type: 'string' },
      'model-name': { type: 'string' },
      weights: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
  });
  if (values.help) {
    console.log(servePolicyHelp);
    return 0;
  }
  const port = integerFlag('--port', values.port) ?? 8000;
  if (port < 0 || port > 65535) throw new ConfigError(`--port ${port}: expected 0–65535`);
  const config = buildConfig(values.config, { seed: integerFlag('--seed', values.seed) });
  const log = (line: string) => console.error(`serve-policy: ${line}`);
  const weights = values.weights
    ? await readWeights(values.weights, defaultWeightReaders)
    : (
        await loadOrBuildBase({
          model: config.model,
          arithmetic: config.dataset.arithmetic,
          seed: config.model.baseSeed,
          log,
        })
      ).weights;
  const server = await startPolicyServer({
    model: config.model,
    weights,
    modelName: values['model-name'],
    host: values.host,
    port,
    seed: config.seed,
    log,
  });
  console.log(`serving ${values['model-name'] ?? 'nft-embedded'} on ${server.url}`);
  const signal = await new Promise<NodeJS.Signals>((resolve) => {
    process.once('SIGTERM', () => resolve('SIGTERM'));
    process.once('SIGINT', () => resolve('SIGINT'));
  });
  log(`${signal}: finishing the requests in flight`);
  await server.close();
  return signal === 'SIGTERM' ? 143 : 130;
}
