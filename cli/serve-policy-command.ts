import { loadOrBuildBase } from '../engines/embedded/pretrain.js';
import { startPolicyServer } from '../engines/openai/server/server.js';
import { defaultWeightReaders, readWeights } from '../engines/openai/server/weight-readers.js';
import { buildConfig } from './config-input.js';
import { type CommandSpec, parseCommand } from './options.js';

export const servePolicySpec = {
  command: 'nft-train serve-policy',
  summary: 'the embedded policy behind an OpenAI-compatible HTTP API',
  about: `Serves the part of vLLM's and SGLang's API the OpenAI policy engine uses (--engine openai), so runs,
tests and the Kubernetes rollout pods can use it in place of a GPU inference server:

  POST /v1/completions, /v1/chat/completions   n, temperature, top_p, max_tokens, seed, logprobs,
                                                return_tokens_as_token_ids, return_token_ids
  POST /tokenize                               prompt ids
  POST /update_weights_from_disk               {model_path, weight_version}: load new weights
  GET  /v1/models, /health, /get_model_info, /model_info, /get_weight_version

It starts from the base checkpoint of the run configuration's model (built and cached on first use).`,
  options: {
    port: {
      type: 'integer',
      min: 0,
      max: 65535,
      default: 8000,
      help: 'port to listen on (0 = any free one)',
    },
    host: { type: 'string', value: 'ADDRESS', default: '127.0.0.1', help: 'address to listen on' },
    config: {
      type: 'string',
      value: 'FILE',
      help: 'run configuration (YAML or JSON): the model and the base checkpoint',
    },
    seed: {
      type: 'integer',
      config: 'seed',
      defaultText: "the run's seed",
      help: 'seed of sampling when a request brings none',
    },
    'model-name': { type: 'string', value: 'NAME', default: 'nft-embedded', help: 'the served model name' },
    weights: {
      type: 'string',
      value: 'PATH',
      help: 'start from these weights (a weights directory or file) instead of the base',
    },
  },
  notes: `Prints the URL it listens on as one line on stdout. SIGTERM or SIGINT: stops accepting connections,
finishes the requests in flight and exits 143 / 130.`,
} as const satisfies CommandSpec;

export async function servePolicyCommand(argv: string[]): Promise<number> {
  const args = parseCommand(servePolicySpec, argv);
  if (!args) return 0;
  const { values } = args;
  const config = buildConfig(values.config, args.overrides);
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
    port: values.port,
    seed: config.seed,
    log,
  });
  console.log(`serving ${values['model-name']} on ${server.url}`);
  const signal = await new Promise<NodeJS.Signals>((resolve) => {
    process.once('SIGTERM', () => resolve('SIGTERM'));
    process.once('SIGINT', () => resolve('SIGINT'));
  });
  log(`${signal}: finishing the requests in flight`);
  await server.close();
  return signal === 'SIGTERM' ? 143 : 130;
}
