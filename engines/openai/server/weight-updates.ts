import { versionNumber } from '../schema.js';
import { BadRequest, loadRequestSchema, parseRequest } from './requests.js';
import type { ServedPolicy } from './served-policy.js';
import { readWeights, WeightPathError, type WeightReader } from './weight-readers.js';

/**
 * `POST /update_weights_from_disk` (SGLang's): reads `model_path` with the first reader that knows it
 * and serves it as `weight_version` (a whole number; the next one when not given). A path the caller
 * got wrong, or weights the model cannot load, is a 400 naming `model_path`.
 */
export async function updateWeightsFromDisk(
  served: ServedPolicy,
  readers: readonly WeightReader[],
  raw: unknown,
  log?: (line: string) => void,
): Promise<unknown> {
  const body = parseRequest(loadRequestSchema, raw);
  const next = nextVersion(served.version, body.weight_version ?? undefined);
  const bytes = await readWeights(body.model_path, readers).catch((err) => {
    throw err instanceof WeightPathError ? new BadRequest(err.message, 'model_path') : err;
  });
  await served.load(next, body.model_path, bytes).catch((err) => {
    // The file was read: what fails now is its content (format, architecture): the caller's to fix.
    throw new BadRequest(
      `model_path ${JSON.stringify(body.model_path)}: ${(err as Error).message}`,
      'model_path',
    );
  });
  log?.(`serving weights version ${served.version} from ${body.model_path}`);
  return {
    success: true,
    message: `loaded ${body.model_path} as weight version ${served.version}`,
    num_paused_requests: 0,
    weight_version: String(served.version),
  };
}

/** The version a load is served as: the one requested, else the one after `current`. */
function nextVersion(current: number, requested: string | number | undefined): number {
  const next = requested === undefined ? current + 1 : versionNumber(requested);
  if (next === undefined)
    throw new BadRequest(
      `weight_version: ${JSON.stringify(requested)} is not a whole number ≥ 0 (serve-policy numbers its versions)`,
      'weight_version',
    );
  return next;
}
