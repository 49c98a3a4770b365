import { missingPythonModules, projectPython, SETUP_PYTHON } from '../../engines/torch/python.js';

/**
 * The Python the real-engine tests use: the project's environment (`npm run setup:python` makes
 * .venv; $NFT_TORCH_PYTHON overrides). Outside CI a test may skip when it lacks a module, with a
 * message naming the set-up command; with CI=true it never skips: it runs and fails with that message.
 */
export interface TestPython {
  /** The interpreter, when it imports every module asked for. */
  python: string | undefined;
  /** Skip the suite: only outside CI, and only when `python` is undefined. */
  skip: boolean;
  /** Why there is no interpreter, naming the fix. */
  reason: string;
  /** The interpreter, or the reason as an error (what a test that runs in CI calls first). */
  require(): string;
}

const cache = new Map<string, TestPython>();

export function testPython(modules: readonly string[] = ['torch']): TestPython {
  const key = modules.join(',');
  const known = cache.get(key);
  if (known) return known;
  const candidate = projectPython();
  const missing = missingPythonModules(candidate, modules);
  const python = missing ? undefined : candidate;
  const reason = missing ?? '';
  const found: TestPython = {
    python,
    skip: !python && !process.env.CI,
    reason,
    require() {
      if (!python) throw new Error(reason);
      return python;
    },
  };
  if (found.skip) console.warn(`skipped (${modules.join(', ')}): ${reason} — set up with ${SETUP_PYTHON}`);
  cache.set(key, found);
  return found;
}
