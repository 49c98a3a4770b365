import { chatCompletions, completions, tokenize } from './completions.js';
import type { ServedPolicy } from './served-policy.js';
import type { WeightReader } from './weight-readers.js';
import { updateWeightsFromDisk } from './weight-updates.js';

/** An endpoint: the parsed JSON body of a POST (undefined for a GET) in, the answer's body out. */
export type Route = (body: unknown) => Promise<unknown>;

/** Endpoints by `METHOD /path`. */
export type Routes = Readonly<Record<string, Route>>;

/**
 * The part of vLLM's and SGLang's HTTP API the OpenAI policy engine uses: the sampling endpoints
 * (completions.ts), SGLang's weight load (weight-updates.ts), and what the server serves.
 */
export function policyRoutes(
  served: ServedPolicy,
  readers: readonly WeightReader[],
  log?: (line: string) => void,
): Routes {
  return {
    'POST /v1/completions': (raw) => completions(served, raw),
    'POST /v1/chat/completions': (raw) => chatCompletions(served, raw),
    'POST /tokenize': (raw) => tokenize(served, raw),
    'POST /update_weights_from_disk': (raw) => updateWeightsFromDisk(served, readers, raw, log),
    'GET /v1/models': async () => models(served),
    'GET /health': async () => ({}),
    'GET /get_model_info': async () => modelInfo(served),
    'GET /model_info': async () => modelInfo(served),
    'GET /get_weight_version': async () => ({ weight_version: String(served.version) }),
  };
}

function models(served: ServedPolicy) {
  return {
    object: 'list',
    data: [
      {
        id: served.name,
        object: 'model',
        created: served.created,
        owned_by: 'nft-train',
        root: served.modelPath,
        max_model_len: served.contextLength,
      },
    ],
  };
}

function modelInfo(served: ServedPolicy) {
  return {
    model_path: served.modelPath,
    tokenizer_path: null,
    is_generation: true,
    served_model_name: served.name,
    weight_version: String(served.version),
    max_model_len: served.contextLength,
  };
}
