import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { testPython } from '../../support/torch-python.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
// The Hugging Face and FSDP tests need PyTorch 2 and transformers: the project's environment.
const torch = testPython(['torch', 'transformers', 'safetensors', 'tokenizers']);

describe.skipIf(torch.skip)('PyTorch trainer (python -m unittest, engines/torch/tests)', () => {
  it('objective golden vectors, on-policy identity, trainer steps, checkpoints, the stdio server, Hugging Face models, FSDP on 2 ranks', () => {
    const r = spawnSync(
      torch.require(),
      ['-m', 'unittest', 'discover', '-s', 'engines/torch/tests', '-t', 'engines/torch'],
      {
        cwd: ROOT,
        encoding: 'utf8',
        timeout: 600_000,
        env: { ...process.env, PYTHONDONTWRITEBYTECODE: '1' },
      },
    );
    // unittest reports on stderr; show it whole when it fails.
    expect(r.status, `${r.stderr}\n${r.stdout}`).toBe(0);
    const ran = /Ran (\d+) tests/.exec(r.stderr);
    expect(ran, r.stderr).not.toBeNull();
    // A skipped Python test is a test that did not run: with the project's environment none may skip.
    expect(r.stderr, r.stderr).not.toMatch(/skipped=\d+/);
  }, 660_000);
});
