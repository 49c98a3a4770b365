import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * Every test file, and every process a test starts, makes its temporary files under one directory
 * for the run (TMPDIR is inherited), removed when the run ends: a suite that leaves etcd data,
 * JetStream stores and checkpoints behind fills a CI machine's disk within a few runs.
 * Torch's compile cache, which defaults to the temporary directory, is kept under the user's cache
 * instead so a second run stays quick.
 */
export default function setup(): () => void {
  const root = mkdtempSync(join(tmpdir(), 'nft-test-run-'));
  const previous = process.env.TMPDIR;
  process.env.TMPDIR = root;
  if (process.env.TORCHINDUCTOR_CACHE_DIR === undefined) {
    const cache = join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'nft-train', 'torchinductor');
    mkdirSync(cache, { recursive: true });
    process.env.TORCHINDUCTOR_CACHE_DIR = cache;
  }
  return () => {
    if (previous === undefined) delete process.env.TMPDIR;
    else process.env.TMPDIR = previous;
    if (process.env.NFT_KEEP_TEST_TMP) console.log(`test files kept in ${root}`);
    else rmSync(root, { recursive: true, force: true });
  };
}
