import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { findTorchPython, NO_TORCH_MESSAGE } from '../../support/torch-python.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const python = findTorchPython();
if (!python) console.warn(`engines/torch Python tests ${NO_TORCH_MESSAGE}`);

describe('PyTorch trainer (python3 -m unittest, engines/torch/tests)', () => {
  it.skipIf(!python)(
    'objective golden vectors, on-policy identity, trainer steps, checkpoints, the stdio server',
    () => {
      const r = spawnSync(
        python as string,
        ['-m', 'unittest', 'discover', '-s', 'engines/torch/tests', '-t', 'engines/torch'],
        {
          cwd: ROOT,
          encoding: 'utf8',
          timeout: 240_000,
          env: { ...process.env, PYTHONDONTWRITEBYTECODE: '1' },
        },
      );
      // unittest reports on stderr; show it whole when it fails.
      expect(r.status, `${r.stderr}\n${r.stdout}`).toBe(0);
      expect(r.stderr).toMatch(/Ran \d+ tests/);
    },
    300_000,
  );
});
