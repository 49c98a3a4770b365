import type { ModelConfig } from '../config/run-config.js';
import { decodeContainer, WEIGHTS_FORMAT } from '../engines/embedded/codec.js';
import type { Architecture } from '../engines/embedded/params.js';
import { defaultTokenizer } from '../engines/embedded/tokenizer.js';
import { architectureOf } from '../engines/embedded/weights-ref.js';
import { defaultWeightReaders, readWeights } from '../engines/openai/server/weight-readers.js';
import { InputError } from '../util/input-error.js';

/**
 * The weights `model.initFrom` names (`--init-from`): a run's OUT/policy directory, an embedded weights
 * file, or a torch export of the embedded model, checked against the configured shape before any
 * engine starts, so that a mismatch is one line naming both shapes.
 */
export async function readInitialWeights(path: string, model: ModelConfig): Promise<Uint8Array> {
  const bytes = await readWeights(path, defaultWeightReaders).catch((err: unknown) => {
    throw new InputError(`--init-from ${path}: ${(err as Error).message}`);
  });
  let arch: Architecture;
  try {
    arch = decodeContainer<{ arch: Architecture }>(bytes, WEIGHTS_FORMAT).meta.arch;
  } catch (err) {
    throw new InputError(`--init-from ${path}: not embedded policy weights (${(err as Error).message})`);
  }
  const want = architectureOf(model, defaultTokenizer);
  if (JSON.stringify(arch) !== JSON.stringify(want))
    throw new InputError(
      `--init-from ${path}: weights of shape ${JSON.stringify(arch)}, but the model is ${JSON.stringify(want)}: set model (layers, dModel, heads, contextLength) to match`,
    );
  return bytes;
}
