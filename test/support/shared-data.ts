import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The public datasets the tests and benchmarks read by path (never copied into the project): the
 * `shared/data` folder beside the repository. A clone made elsewhere (e.g. under /tmp) finds it beside
 * the repository it was cloned from; `NFT_SHARED_DATA` names it outright.
 */
export function sharedDataDir(): string {
  const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
  const candidates = [
    process.env.NFT_SHARED_DATA,
    resolve(repoRoot, '..', 'shared', 'data'),
    originSharedData(repoRoot),
  ].filter((p): p is string => p !== undefined);
  const found = candidates.find((p) => existsSync(p));
  if (!found)
    throw new Error(
      `the shared datasets are not at ${candidates.join(' or ')}: set NFT_SHARED_DATA to the shared/data folder`,
    );
  return found;
}

/** `<origin>/../shared/data` when this checkout was cloned from a local repository. */
function originSharedData(repoRoot: string): string | undefined {
  try {
    const origin = execFileSync('git', ['-C', repoRoot, 'config', '--get', 'remote.origin.url'], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    }).trim();
    return origin.startsWith('/') ? resolve(origin, '..', 'shared', 'data') : undefined;
  } catch {
    return undefined;
  }
}
