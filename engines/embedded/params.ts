import type { Rng } from '../../util/random.js';

/** The transformer's parameters: names, shapes and their seeded initialisation (GPT-2 style). */

export interface Architecture {
  layers: number;
  dModel: number;
  heads: number;
  contextLength: number;
  vocabSize: number;
}

interface ParamSpec {
  name: string;
  shape: number[];
  init: 'normal' | 'zeros' | 'ones';
  std?: number;
}

export function paramSpecs(a: Architecture): ParamSpec[] {
  const d = a.dModel;
  // GPT-2 scales the residual projections by 1/sqrt(2·layers) so that the residual stream's variance
  // does not grow with depth.
  const residualStd = 0.02 / Math.sqrt(2 * a.layers);
  const specs: ParamSpec[] = [
    { name: 'tokEmb', shape: [a.vocabSize, d], init: 'normal' },
    { name: 'posEmb', shape: [a.contextLength, d], init: 'normal' },
  ];
  for (let l = 0; l < a.layers; l++) {
    const p = `h${l}.`;
    specs.push(
      { name: `${p}ln1.g`, shape: [d], init: 'ones' },
      { name: `${p}ln1.b`, shape: [d], init: 'zeros' },
      { name: `${p}attn.q.w`, shape: [d, d], init: 'normal' },
      { name: `${p}attn.q.b`, shape: [d], init: 'zeros' },
      { name: `${p}attn.k.w`, shape: [d, d], init: 'normal' },
      { name: `${p}attn.k.b`, shape: [d], init: 'zeros' },
      { name: `${p}attn.v.w`, shape: [d, d], init: 'normal' },
      { name: `${p}attn.v.b`, shape: [d], init: 'zeros' },
      { name: `${p}attn.o.w`, shape: [d, d], init: 'normal', std: residualStd },
      { name: `${p}attn.o.b`, shape: [d], init: 'zeros' },
      { name: `${p}ln2.g`, shape: [d], init: 'ones' },
      { name: `${p}ln2.b`, shape: [d], init: 'zeros' },
      { name: `${p}mlp.fc.w`, shape: [d, 4 * d], init: 'normal' },
      { name: `${p}mlp.fc.b`, shape: [4 * d], init: 'zeros' },
      { name: `${p}mlp.proj.w`, shape: [4 * d, d], init: 'normal', std: residualStd },
      { name: `${p}mlp.proj.b`, shape: [d], init: 'zeros' },
    );
  }
  specs.push(
    { name: 'lnf.g', shape: [d], init: 'ones' },
    { name: 'lnf.b', shape: [d], init: 'zeros' },
    { name: 'head.w', shape: [d, a.vocabSize], init: 'normal' },
    { name: 'head.b', shape: [a.vocabSize], init: 'zeros' },
  );
  return specs;
}

function gaussian(rng: Rng): number {
  // Box–Muller; 1 − u keeps the log's argument in (0, 1].
  const u = 1 - rng();
  const v = rng();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
}

export function initialValues(spec: ParamSpec, rng: Rng): Float32Array {
  const n = spec.shape.reduce((x, y) => x * y, 1);
  const out = new Float32Array(n);
  if (spec.init === 'ones') out.fill(1);
  if (spec.init === 'normal') for (let i = 0; i < n; i++) out[i] = gaussian(rng) * (spec.std ?? 0.02);
  return out;
}
