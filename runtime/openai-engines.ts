import type { Blobs } from '../bus/bus.js';
import type { RunConfig } from '../config/run-config.js';
import { OpenAIPolicy } from '../engines/openai/policy.js';
import type { RunEngines } from './engines.js';

/**
 * `engine: openai`: each generator samples from the OpenAI-compatible server at `openai.url`; the
 * learner trains with the embedded trainer, whose exports (`blob:` refs) the policy engine writes into
 * `openai.weightsDir` for the server to load. The trainer is the seam for a GPU trainer later.
 */
export async function createOpenAIEngines(
  config: RunConfig,
  blobs: Blobs,
  log: (line: string) => void,
): Promise<RunEngines> {
  const { url, ...openai } = config.openai;
  if (!url)
    throw new Error(
      'engine openai: openai.url is not set; give --url http://HOST:PORT or openai.url in the config',
    );
  const { createEmbeddedEngines } = await import('./embedded-engines.js');
  const embedded = await createEmbeddedEngines(config, blobs, log);
  const policies = new Set<OpenAIPolicy>();
  return {
    trainer: embedded.trainer,
    policy: async (seed) => {
      const policy = new OpenAIPolicy({ ...openai, url, blobs, seed, log });
      policies.add(policy);
      return policy;
    },
    dispose: () => {
      for (const p of policies) p.dispose();
      embedded.dispose();
    },
  };
}
