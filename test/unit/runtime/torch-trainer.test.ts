import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError, parseRunConfig } from '../../../config/parse-run-config.js';
import { encodeContainer } from '../../../engines/embedded/codec.js';
import { WEIGHTS_FORMAT } from '../../../engines/embedded/model.js';
import { paramSpecs } from '../../../engines/embedded/params.js';
import { readWeights as readPolicyWeights } from '../../../engines/embedded/policy.js';
import { defaultWeightReaders, readWeights } from '../../../engines/openai/server/weight-readers.js';
import { embeddedToSafetensors, readExportedEmbedded } from '../../../engines/torch/weights.js';
import { createTorchTrainer } from '../../../runtime/torch-trainer.js';
import { tinyArch, tinyEmbeddedWeights } from '../../support/tiny-weights.js';
import { testPython } from '../../support/torch-python.js';

const dirs: string[] = [];
const scratch = async () => {
  const dir = await mkdtemp(join(tmpdir(), 'nft-torch-runtime-'));
  dirs.push(dir);
  return dir;
};
afterAll(async () => {
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
});

const arch = tinyArch;
const embeddedBlob = () => tinyEmbeddedWeights(89, 11, 2);

describe('trainer: torch in the run configuration', () => {
  it('defaults to the embedded trainer; torch takes the embedded port and .cache/torch-exports', () => {
    expect(parseRunConfig({}).trainer).toBe('embedded');
    const c = parseRunConfig({ trainer: 'torch' });
    expect(c.torch).toEqual({
      model: { kind: 'embedded' },
      gradientCheckpointing: false,
      precision: 'auto',
      exportDir: '.cache/torch-exports',
    });
    const hf = parseRunConfig({
      engine: 'openai',
      openai: { url: 'http://127.0.0.1:8000' },
      trainer: 'torch',
      torch: {
        python: '/usr/bin/python3',
        launcher: ['torchrun', '--nproc-per-node=8'],
        model: { kind: 'hf', path: 'Qwen/Qwen2.5-Math-1.5B' },
        microBatchTokens: 16384,
        gradientCheckpointing: true,
        exportDir: '/weights',
        workDir: '/scratch',
      },
    });
    expect(hf.torch.model).toEqual({ kind: 'hf', path: 'Qwen/Qwen2.5-Math-1.5B' });
  });

  it('names the field and the fix when the combination cannot work', () => {
    const fails = (input: unknown, message: RegExp) => {
      expect(() => parseRunConfig(input)).toThrow(ConfigError);
      expect(() => parseRunConfig(input)).toThrow(message);
    };
    fails({ trainer: 'gpu' }, /trainer \(got "gpu"\): .*"embedded"\|"torch"/);
    fails(
      { engine: 'simulated', trainer: 'torch' },
      /trainer \(got "torch"\): engine simulated has its own timing-only trainer: use engine embedded or openai/,
    );
    fails(
      { engine: 'openai', openai: { url: 'http://h:1' }, trainer: 'torch', torch: { model: { kind: 'hf' } } },
      /torch\.model: kind hf needs path \(a hub name or local directory\) or config/,
    );
    fails(
      { trainer: 'torch', torch: { model: { kind: 'hf', path: 'Qwen/Qwen2.5-0.5B' } } },
      /torch\.model\.kind \(got "hf"\): the embedded policy cannot load a Hugging Face export: use engine openai/,
    );
    fails(
      { trainer: 'torch', torch: { model: { path: 'Qwen/Qwen2.5-0.5B' } } },
      /torch\.model\.path: only for kind hf .*set torch\.model\.kind hf/,
    );
    fails({ torch: { launcher: [] } }, /torch\.launcher \(got \[\]\)/);
    fails({ torch: { microBatchTokens: 0 } }, /torch\.microBatchTokens \(got 0\)/);
    fails({ torch: { device: 'cuda' } }, /torch\.device: unknown key \(known here: python, launcher, /);
  });
});

describe('loading the torch trainer export of the embedded model', () => {
  it('serve-policy reads model.safetensors from the directory, the file or a file:// URI; the embedded policy from file://', async () => {
    const dir = join(await scratch(), 'v7');
    const blob = embeddedBlob();
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, 'model.safetensors'), embeddedToSafetensors(blob));
    const uri = pathToFileURL(dir).href;
    expect(await readWeights(dir, defaultWeightReaders)).toEqual(blob);
    expect(await readWeights(join(dir, 'model.safetensors'), defaultWeightReaders)).toEqual(blob);
    expect(await readWeights(uri, defaultWeightReaders)).toEqual(blob);
    expect(await readPolicyWeights(undefined, { version: 7, uri })).toEqual(blob);
    await expect(readWeights(join(dir, '..'), defaultWeightReaders)).rejects.toThrow(
      /none of embedded-weights.nfte, model.safetensors in it/,
    );
    await expect(readPolicyWeights(undefined, { version: 1, uri: 's3://bucket/v1' })).rejects.toThrow(
      /only blob:<key> and file:\/\/<dir> URIs/,
    );
  });
});

const torch = testPython(['torch']);

describe.skipIf(torch.skip)('createTorchTrainer (runtime/torch-trainer.ts)', () => {
  it('starts the trainer from the base weights, exports file:// versions, keeps the last ones, exits on dispose', async () => {
    const root = await scratch();
    const exportDir = join(root, 'exports');
    const config = parseRunConfig({
      trainer: 'torch',
      maxStaleness: 1,
      model: { layers: 1, dModel: 8, heads: 2, contextLength: 4 },
      torch: { python: torch.require(), exportDir, workDir: join(root, 'work') },
    });
    const lines: string[] = [];
    const { defaultTokenizer } = await import('../../../engines/embedded/tokenizer.js');
    let k = 0;
    const specs = paramSpecs({ ...arch, vocabSize: defaultTokenizer.vocabSize });
    const base = encodeContainer({
      format: WEIGHTS_FORMAT,
      meta: { arch: { ...arch, vocabSize: defaultTokenizer.vocabSize } },
      arrays: specs.map((s) => ({
        name: s.name,
        shape: s.shape,
        values: Float32Array.from(
          { length: s.shape.reduce((a, b) => a * b, 1) },
          () => ((k++ % 13) - 6) / 50,
        ),
      })),
    });
    const trainer = await createTorchTrainer(config, base, (l) => lines.push(l));
    const pid = Number(/torch trainer: pid (\d+),/.exec(lines.join('\n'))?.[1]);
    expect(pid).toBeGreaterThan(0);
    try {
      const v0 = await trainer.export(0);
      expect(v0).toEqual({ version: 0, uri: pathToFileURL(join(exportDir, 'v0')).href });
      // Untrained: the export is the base weights.
      expect(await readExportedEmbedded(v0.uri)).toEqual(base);
      for (let v = 1; v <= 4; v++) await trainer.export(v);
      // maxStaleness 1 + 2 versions kept besides the newest.
      expect((await readdir(exportDir)).sort()).toEqual(['v2', 'v3', 'v4']);
    } finally {
      trainer.dispose();
    }
    await expect
      .poll(() => lines.some((l) => l === `torch trainer: pid ${pid} exited`), { timeout: 15_000 })
      .toBe(true);
    expect(() => process.kill(pid, 0)).toThrow();
    expect(existsSync(join(root, 'work'))).toBe(true);
  }, 120_000);
});
