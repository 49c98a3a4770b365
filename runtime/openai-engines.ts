import type { Blobs } from '../bus/bus.js';
import type { RunConfig } from '../config/run-config.js';
import { OpenAIPolicy } from '../engines/openai/policy.js';
import type { TrainerEngine } from '../engines/types.js';
import type { EmbeddedEnginesConfig } from './embedded-engines.js';
import type { RunEngines } from './engine-types.js';

/**
 * What the OpenAI engines read of the run configuration: `openai` for the policies, and the embedded
 * engines' part for the trainer (which includes the torch trainer's).
 */
export type OpenAIEnginesConfig = EmbeddedEnginesConfig & Pick<RunConfig, 'openai'>;

/**
 * `engine: openai`: each generator samples from the OpenAI-compatible server at `openai.url`. The
 * learner trains with the embedded trainer, whose exports (`blob:` refs) the policy engine writes into
 * `openai.weightsDir` for the server to load, or with `trainer: torch` the PyTorch trainer, whose
 * exports (`file://` refs) the server reads where they are.
 */
export async function createOpenAIEngines(
  config: OpenAIEnginesConfig,
  blobs: Blobs,
  log: (line: string) => void,
): Promise<RunEngines> {
  const { url, syncTimeoutSeconds, ...openai } = config.openai;
  if (!url)
    throw new Error(
      'engine openai: openai.url is not set; give --url http://HOST:PORT or openai.url in the config',
    );
  // The embedded engines (and the base checkpoint they start from) are built only when the trainer needs them.
  let embedded: Promise<RunEngines> | undefined;
  let trainer: Promise<TrainerEngine> | undefined;
  const trainerOf = async (): Promise<TrainerEngine> => {
    if (config.trainer === 'torch' && config.torch.model.kind === 'hf') {
      const { createTorchTrainer } = await import('./torch-trainer.js');
      return createTorchTrainer(config, undefined, log);
    }
    embedded ??= import('./embedded-engines.js').then((m) => m.createEmbeddedEngines(config, blobs, log));
    return (await embedded).trainer();
  };
  const policies = new Set<OpenAIPolicy>();
  return {
    trainer: () => {
      trainer ??= trainerOf();
      return trainer;
    },
    policy: async (seed) => {
      const policy = new OpenAIPolicy({
        ...openai,
        url,
        blobs,
        seed,
        log,
        syncTimeoutMs: syncTimeoutSeconds * 1000,
      });
      policies.add(policy);
      return policy;
    },
    dispose: () => {
      for (const p of policies) p.dispose();
      // A trainer that failed to start has nothing to dispose; its error went to whoever asked for it.
      if (embedded) void embedded.then((e) => e.dispose()).catch(ignore);
      else void trainer?.then((t) => t.dispose()).catch(ignore);
    },
  };
}

function ignore(): void {}
