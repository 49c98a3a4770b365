import type { ModelConfig } from '../../config/run-config.js';
import type { BlobStore, PolicyRef } from '../types.js';
import type { Architecture } from './params.js';
import { type CharTokenizer, defaultTokenizer } from './tokenizer.js';

/**
 * The embedded model's weights as data, without TensorFlow.js: the architecture a model
 * config gives, and where a policy reference's bytes are. The main thread reads weights through this
 * (the final policy, --init-from) without loading the tensor library the engine threads use.
 */

export type ModelShape = Pick<ModelConfig, 'layers' | 'dModel' | 'heads' | 'contextLength'>;

export function architectureOf(model: ModelShape, tokenizer: CharTokenizer = defaultTokenizer): Architecture {
  const { layers, dModel, heads, contextLength } = model;
  return { layers, dModel, heads, contextLength, vocabSize: tokenizer.vocabSize };
}

/**
 * Reads the weights a `PolicyRef` names: `blob:<key>` in the bus's blob store (the embedded trainer's
 * export), or `file://<dir>` (the torch trainer's export of the embedded model: dir/model.safetensors).
 */
export async function readWeights(blobs: BlobStore | undefined, ref: PolicyRef): Promise<Uint8Array> {
  if (ref.uri.startsWith('file://')) {
    const { readExportedEmbedded } = await import('../torch/weights.js');
    return readExportedEmbedded(ref.uri);
  }
  if (!ref.uri.startsWith('blob:'))
    throw new Error(`embedded policy: cannot load ${ref.uri}, only blob:<key> and file://<dir> URIs`);
  if (!blobs) throw new Error('embedded policy: load() needs a BlobStore');
  const key = ref.uri.slice('blob:'.length);
  const bytes = await blobs.get(key);
  if (!bytes) throw new Error(`embedded policy: no blob ${key} for policy version ${ref.version}`);
  return bytes;
}
