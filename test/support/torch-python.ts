import { spawnSync } from 'node:child_process';

/**
 * A Python that can `import torch`: $NFT_TORCH_PYTHON, python3 on PATH, or Debian's /usr/bin/python3
 * (python3-torch installs there; a pyenv or venv python3 on PATH may lack it). undefined if none.
 */
export function findTorchPython(): string | undefined {
  const candidates = [process.env.NFT_TORCH_PYTHON, 'python3', '/usr/bin/python3'].filter(
    (c): c is string => !!c,
  );
  for (const python of candidates) {
    const r = spawnSync(python, ['-c', 'import torch'], { stdio: 'ignore', timeout: 60_000 });
    if (r.status === 0) return python;
  }
  return undefined;
}

export const NO_TORCH_MESSAGE =
  'skipped: no python3 with torch (apt-get install python3-torch, or set NFT_TORCH_PYTHON)';
