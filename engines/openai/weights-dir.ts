import { mkdir, readdir, rename, rm, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BlobStore, PolicyRef } from '../types.js';

/**
 * Where the inference server finds a policy version's weights. `file://DIR` is already a path it can
 * read (the torch trainer writes checkpoints there); `blob:KEY` (the embedded trainer's export) is
 * fetched from the bus and written into `weightsDir` — on Kubernetes an emptyDir the generator and
 * the inference server share — as `v<version>/<EMBEDDED_WEIGHTS_FILE>`.
 */

/** The file name the embedded trainer's export gets in a weights directory; serve-policy reads it. */
export const EMBEDDED_WEIGHTS_FILE = 'embedded-weights.nfte';

/** Version directories kept in `weightsDir`: the one served and the one before, for a slow reader. */
const KEEP_VERSIONS = 2;

export async function weightsPath(
  ref: PolicyRef,
  weightsDir: string,
  blobs: BlobStore | undefined,
): Promise<string> {
  if (ref.uri.startsWith('file://')) return fileURLToPath(ref.uri);
  if (ref.uri.startsWith('/')) return ref.uri;
  if (!ref.uri.startsWith('blob:'))
    throw new Error(
      `openai policy: cannot load ${JSON.stringify(ref.uri)} (policy version ${ref.version}): expected file://DIR or blob:KEY`,
    );
  if (!blobs) throw new Error('openai policy: load() of a blob: URI needs a BlobStore');
  const key = ref.uri.slice('blob:'.length);
  const bytes = await blobs.get(key);
  if (!bytes) throw new Error(`openai policy: no blob ${key} for policy version ${ref.version}`);
  const dir = resolve(weightsDir, `v${ref.version}`);
  await mkdir(dir, { recursive: true });
  // Write then rename: the server never reads a half-written file.
  const file = join(dir, EMBEDDED_WEIGHTS_FILE);
  const tmp = `${file}.${process.pid}.tmp`;
  await writeFile(tmp, bytes);
  await rename(tmp, file);
  await prune(weightsDir, ref.version);
  return dir;
}

/** Removes version directories older than the last KEEP_VERSIONS, so an emptyDir does not fill up. */
async function prune(weightsDir: string, current: number): Promise<void> {
  const entries = await readdir(weightsDir).catch(() => [] as string[]);
  const old = entries
    .map((name) => ({ name, version: /^v(\d+)$/.exec(name)?.[1] }))
    .filter((e) => e.version !== undefined && Number(e.version) <= current - KEEP_VERSIONS);
  await Promise.all(old.map((e) => rm(join(weightsDir, e.name), { recursive: true, force: true })));
}
