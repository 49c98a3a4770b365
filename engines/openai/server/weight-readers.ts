import { readFile, stat } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readSafetensors, safetensorsToEmbedded } from '../../torch/weights.js';
import { EMBEDDED_WEIGHTS_FILE } from '../weights-dir.js';

/**
 * How serve-policy reads a `model_path` given to `/update_weights_from_disk`: a directory holding one
 * of the readers' files, or such a file itself. Each reader turns its format into the bytes the
 * embedded model loads (the export container of `Transformer.toBytes`); add one by passing it in
 * `PolicyServerOptions.readers`.
 */
export interface WeightReader {
  /** The format's name, for messages. */
  format: string;
  /** The file this format has in a weights directory. */
  fileName: string;
  read(file: string): Promise<Uint8Array>;
}

/** The embedded trainer's export, as the OpenAI policy engine writes it into its weights directory. */
export const embeddedWeightsReader: WeightReader = {
  format: 'nft-embedded-weights',
  fileName: EMBEDDED_WEIGHTS_FILE,
  read: async (file) => {
    const bytes = await readFile(file);
    return new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  },
};

/**
 * The torch trainer's export of the embedded model (`<exportDir>/v<version>/model.safetensors`: the
 * embedded parameter names and shapes, the architecture in the metadata).
 */
export const safetensorsWeightsReader: WeightReader = {
  format: 'safetensors (torch trainer export of the embedded model)',
  fileName: 'model.safetensors',
  read: async (file) => safetensorsToEmbedded(await readSafetensors(file), file),
};

export const defaultWeightReaders: readonly WeightReader[] = [
  embeddedWeightsReader,
  safetensorsWeightsReader,
];

/**
 * Reads `modelPath` (a path, or a `file://` URI) with the first reader that knows it; the error lists
 * what would have been read.
 */
export async function readWeights(path: string, readers: readonly WeightReader[]): Promise<Uint8Array> {
  const modelPath = path.startsWith('file://') ? localPath(path) : path;
  const info = await stat(modelPath).catch(() => undefined);
  if (!info) throw new WeightPathError(`model_path ${JSON.stringify(modelPath)}: no such file or directory`);
  if (info.isFile()) {
    const reader = readers.find((r) => r.fileName === basename(modelPath)) ?? readers[0];
    if (!reader) throw new WeightPathError('no weight readers configured');
    return reader.read(modelPath);
  }
  for (const reader of readers) {
    const file = join(modelPath, reader.fileName);
    if (
      await stat(file)
        .then((s) => s.isFile())
        .catch(() => false)
    )
      return reader.read(file);
  }
  throw new WeightPathError(
    `model_path ${JSON.stringify(modelPath)}: none of ${readers.map((r) => r.fileName).join(', ')} in it`,
  );
}

function localPath(uri: string): string {
  try {
    return fileURLToPath(uri);
  } catch (err) {
    throw new WeightPathError(`model_path ${JSON.stringify(uri)}: ${(err as Error).message}`);
  }
}

/** A path the caller got wrong (HTTP 400), as opposed to a server fault. */
export class WeightPathError extends Error {
  override name = 'WeightPathError';
}
