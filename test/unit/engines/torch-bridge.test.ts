import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../../engines/embedded/backend.js';
import { Transformer } from '../../../engines/embedded/model.js';
import { packSequences, tokenLogprobs } from '../../../engines/embedded/sequences.js';
import { defaultTokenizer } from '../../../engines/embedded/tokenizer.js';
import { TorchTrainer, type TorchTrainerOptions } from '../../../engines/torch/bridge.js';
import { TorchTrainerError } from '../../../engines/torch/process.js';
import { parseSafetensors, readExportedEmbedded } from '../../../engines/torch/weights.js';
import type { TrainBatch } from '../../../engines/types.js';
import { resolveObjective } from '../../../nft/index.js';
import { testPython } from '../../support/torch-python.js';

const torch = testPython(['torch']);

const arch = { layers: 2, dModel: 32, heads: 4, contextLength: 24, vocabSize: defaultTokenizer.vocabSize };
const enc = (s: string) => defaultTokenizer.encode(s);
const EOS = defaultTokenizer.eos;

/** Four groups of four answers to arithmetic prompts, two right and two wrong in each. */
function batch(step: number): TrainBatch {
  const prompts = ['1+2=', '12+34=', '7+80=', '99+9='];
  return {
    step,
    groups: prompts.map((p, gi) => ({
      taskId: `t${step}-${gi}`,
      samples: ['3', '46', '87', '108', '5', '4'].slice(gi % 3, (gi % 3) + 4).map((answer, j) => {
        const responseTokenIds = [...enc(answer), EOS];
        return {
          promptTokenIds: enc(p),
          responseTokenIds,
          logprobs: responseTokenIds.map(() => -Math.log(arch.vocabSize) + 0.01 * j),
          reward: j % 2,
        };
      }),
    })),
  };
}

describe.skipIf(torch.skip)('TorchTrainer (bridge to python3 -m nft_torch.server, CPU, tiny model)', () => {
  let base: Transformer;
  const trainers: TorchTrainer[] = [];
  const create = async (o: Partial<TorchTrainerOptions> = {}) => {
    const t = await TorchTrainer.create({
      python: torch.require(),
      model: { kind: 'embedded', arch, weights: base.toBytes() },
      objective: resolveObjective({ name: 'nft' }),
      optimizer: { learningRate: 3e-3, gradClip: 1 },
      seed: 1,
      ...o,
    });
    trainers.push(t);
    return t;
  };

  beforeAll(async () => {
    await initBackend();
    base = new Transformer(arch, 11, false);
  });
  afterAll(async () => {
    await Promise.all(trainers.map((t) => t.close()));
    base.dispose();
  });

  it('gives the same per-token log-probs as the TF.js model for the same weights (within 1e-4)', async () => {
    const temperature = 0.7;
    const t = await create({ temperature });
    expect(t.info.tiny).toBe(true);
    const pairs = batch(0).groups.flatMap((g) => g.samples);
    const packed = packSequences(pairs, arch.contextLength);
    const logp = tokenLogprobs(base, packed, temperature);
    const values = (await logp.data()) as Float32Array;
    logp.dispose();
    const torch = await t.logprobs(pairs);
    let worst = 0;
    pairs.forEach((p, b) => {
      const start = b * packed.length + (packed.responseStart[b] as number);
      const want = Array.from(values.subarray(start, start + p.responseTokenIds.length));
      expect(torch[b]).toHaveLength(want.length);
      want.forEach((w, i) => {
        worst = Math.max(worst, Math.abs(w - (torch[b]?.[i] as number)));
      });
    });
    expect(worst).toBeLessThan(1e-4);
  });

  it('takes steps, round-trips save/restore exactly, and exports weights the embedded model loads', async () => {
    const t = await create();
    const first = await t.step(batch(0));
    expect(Number.isFinite(first.loss)).toBe(true);
    expect(first.gradNorm).toBeGreaterThan(0);
    expect(first.samples).toBe(16);
    expect(Object.keys(first.terms).sort()).toEqual([
      'clipFraction',
      'negative',
      'positive',
      'ratioMax',
      'ratioMean',
    ]);
    let last = first;
    for (let i = 1; i < 6; i++) last = await t.step(batch(0));
    expect(last.loss).toBeLessThan(first.loss);

    const state = await t.save();
    expect(parseSafetensors(state).metadata.step).toBe('6');
    const next = await t.step(batch(1));
    const other = await create({ seed: 99, model: { kind: 'embedded', arch } });
    await other.restore(state);
    // The same contents (the safetensors package writes its metadata in no fixed order, so not bytes).
    const [mine, theirs] = [parseSafetensors(state), parseSafetensors(await other.save())];
    expect(theirs.metadata).toEqual(mine.metadata);
    expect([...theirs.tensors.keys()].sort()).toEqual([...mine.tensors.keys()].sort());
    for (const [name, tensor] of mine.tensors) expect(theirs.tensors.get(name), name).toEqual(tensor);
    const replay = await other.step(batch(1));
    expect(replay.loss).toBe(next.loss);
    expect(replay.gradNorm).toBe(next.gradNorm);

    const ref = await t.export(7);
    expect(ref.version).toBe(7);
    expect(ref.uri).toMatch(/^file:\/\/\/.*\/v7$/);
    const config = JSON.parse(await readFile(`${fileURLToPath(ref.uri)}/config.json`, 'utf8'));
    expect(config).toMatchObject({ model_type: 'nft-embedded', ...arch });
    // The embedded model with the exported weights computes what the torch model does.
    const policyModel = new Transformer(arch, 0, false);
    policyModel.loadBytes(await readExportedEmbedded(ref.uri));
    const pairs = batch(2).groups.flatMap((g) => g.samples);
    const packed = packSequences(pairs, arch.contextLength);
    const logp = tokenLogprobs(policyModel, packed, 1);
    const values = (await logp.data()) as Float32Array;
    tf.dispose(logp);
    policyModel.dispose();
    const torch = await t.logprobs(pairs);
    const b = 5;
    const start = b * packed.length + (packed.responseStart[b] as number);
    const want = Array.from(values.subarray(start, start + (torch[b]?.length ?? 0)));
    for (const [i, w] of want.entries()) expect(Math.abs(w - (torch[b]?.[i] as number))).toBeLessThan(1e-4);
  });

  it('turns request errors and crashes into errors naming the op, the field and the stderr tail', async () => {
    const t = await create();
    const bad = batch(0);
    const s = bad.groups[0]?.samples[0];
    if (s) s.logprobs = [-1];
    await expect(t.step(bad)).rejects.toThrow(/task t0-0 has a sample with 2 tokens but 1 log-probs/);
    const missing = t.restoreFrom('/nonexistent/checkpoint.safetensors');
    await expect(missing).rejects.toMatchObject({ op: 'restore', field: 'path' });
    await expect(missing).rejects.toThrow(/names no file/);

    await expect(create({ module: 'nft_torch.no_such_module' })).rejects.toThrow(
      /'init' failed: trainer process exited \(code 1\)[\s\S]*No module named nft_torch.no_such_module/,
    );
    const err = await create({ optimizer: { learningRate: -1 } }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TorchTrainerError);
    expect(err).toMatchObject({ op: 'init', field: 'optimizer.learningRate' });
  });
});
