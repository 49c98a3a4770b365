import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The project's Python: $NFT_TORCH_PYTHON if set, else the environment `npm run setup:python` made
 * (.venv in the checkout), else python3 on PATH. The real-engine path (PyTorch 2, transformers, vLLM)
 * needs the project's environment; the embedded default needs no Python at all.
 */

export const SETUP_PYTHON = 'npm run setup:python';

/** The checkout's root: two levels above this file, in the sources and in dist/ alike. */
function checkoutRoot(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  for (const up of ['..', '../..']) {
    const root = resolve(here, up);
    if (existsSync(join(root, 'package.json'))) return root;
  }
  return resolve(here, '..');
}

export function venvPython(): string {
  return join(checkoutRoot(), process.env.NFT_VENV ?? '.venv', 'bin', 'python');
}

export function projectPython(): string {
  if (process.env.NFT_TORCH_PYTHON) return process.env.NFT_TORCH_PYTHON;
  const venv = venvPython();
  return existsSync(venv) ? venv : 'python3';
}

/** Undefined when `python` imports every module; else why not, in one line naming the fix. */
export function missingPythonModules(python: string, modules: readonly string[]): string | undefined {
  const r = spawnSync(python, ['-c', `import ${modules.join(', ')}`], { encoding: 'utf8', timeout: 120_000 });
  if (r.status === 0) return undefined;
  const why = (r.error?.message ?? r.stderr.trim().split('\n').at(-1) ?? '').trim();
  return `${python} cannot import ${modules.join(', ')} (${why}): run ${SETUP_PYTHON}, or set NFT_TORCH_PYTHON to a Python that has them`;
}
