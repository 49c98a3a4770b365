import { describe, expect, it } from 'vitest';
import type { Generation, PolicyEngine, SampleParams } from '../../../engines/types.js';
import type { Benchmark, BenchmarkProblem } from '../../../evaluation/benchmark.js';
import { type EvalSettings, evaluateBenchmark } from '../../../evaluation/evaluate.js';
import { markdownTable, summarise } from '../../../evaluation/report.js';
import { BUILTIN_TEMPLATES, PROBLEM_SLOT } from '../../../evaluation/templates.js';

/** A policy engine with known answers: the responses scripted for the problem a prompt carries. */
class ScriptedEngine implements PolicyEngine {
  version = 0;
  readonly prompts: string[][] = [];
  constructor(private readonly script: Record<string, string[]>) {}
  async generate(prompts: string[], params: SampleParams): Promise<Generation[]> {
    this.prompts.push(prompts);
    return prompts.map((prompt) => {
      const key = Object.keys(this.script).find((p) => prompt.includes(p));
      if (key === undefined || key.startsWith('BAD'))
        throw new Error(`cannot take ${JSON.stringify(prompt)}`);
      const texts = (this.script[key] as string[]).slice(0, params.n);
      return {
        prompt,
        promptTokenIds: [1],
        samples: texts.map(
          (text) => ({ text, tokenIds: [1, 2], logprobs: [0, 0], finishReason: 'stop' }) as const,
        ),
      };
    });
  }
  async load() {
    return undefined;
  }
  dispose(): void {}
}

const problem = (id: string, text: string, parts: string[]): BenchmarkProblem => ({
  id,
  problem: text,
  gold: parts.join(', '),
  parts,
  format: parts.length > 1 ? 'olympiadbench' : 'flat',
});

const benchmark: Benchmark = {
  name: 'scripted',
  path: 'scripted.jsonl',
  problems: [
    problem('p1', 'Problem one?', ['204']),
    problem('p2', 'Problem two (two answers)?', ['69', '84']),
    problem('p3', 'Problem three?', ['5']),
  ],
};

const script = {
  'Problem one?': ['\\boxed{204}', 'Answer: 204', '\\boxed{13}', 'no idea'],
  // Multi-answer: only a response with both answers (any order) is correct.
  'Problem two': ['\\boxed{84, 69}', '\\boxed{69}', '\\boxed{69}', '\\boxed{84}'],
  'Problem three?': ['\\boxed{4}', '\\boxed{6}', 'Answer: 7', '\\boxed{50}'],
};

const settings: EvalSettings = {
  k: 4,
  temperature: 0.6,
  topP: 0.7,
  maxTokens: 64,
  passAt: [1, 2, 4],
  template: { name: 'boxed', text: BUILTIN_TEMPLATES.boxed },
  batchSize: 2,
  seed: 1,
};

describe('evaluateBenchmark with a scripted engine', () => {
  it('computes avg@k and pass@j exactly, multi-answer rows included', async () => {
    const engine = new ScriptedEngine(script);
    const { summary, results } = await evaluateBenchmark(engine, benchmark, settings);
    expect(results.map((r) => r.correct)).toEqual([2, 1, 0]);
    expect(results[0]?.passAt['1']).toBeCloseTo(0.5, 14);
    expect(results[0]?.passAt['2']).toBeCloseTo(1 - 1 / 6, 14);
    expect(results[0]?.passAt['4']).toBe(1);
    expect(results[1]?.passAt['2']).toBeCloseTo(0.5, 14);
    expect(summary.avg).toBeCloseTo((0.5 + 0.25 + 0) / 3, 14);
    expect(summary.passAt['1']).toBeCloseTo(0.25, 14);
    expect(summary.passAt['2']).toBeCloseTo((5 / 6 + 0.5 + 0) / 3, 14);
    expect(summary.passAt['4']).toBeCloseTo(2 / 3, 14);
    expect(summary).toMatchObject({ problems: 3, k: 4, failedSamples: 0, noAnswerSamples: 1 });
    expect(results[0]?.samples.map((s) => s.extracted)).toEqual(['204', '204', '13', null]);
  });

  it('puts each problem into the template and sends batchSize problems per call', async () => {
    const engine = new ScriptedEngine(script);
    await evaluateBenchmark(engine, benchmark, settings);
    expect(engine.prompts.map((p) => p.length)).toEqual([2, 1]);
    expect(engine.prompts[0]?.[0]).toBe(BUILTIN_TEMPLATES.boxed.replace(PROBLEM_SLOT, 'Problem one?'));
  });

  it('counts a problem the engine cannot take as wrong, and still scores the rest of its batch', async () => {
    const engine = new ScriptedEngine({ ...script, BAD: [] });
    const withBad: Benchmark = {
      ...benchmark,
      problems: [problem('bad', 'BAD prompt', ['1']), ...benchmark.problems],
    };
    const { summary, results } = await evaluateBenchmark(engine, withBad, { ...settings, batchSize: 4 });
    expect(results[0]).toMatchObject({ id: 'bad', correct: 0, error: expect.stringMatching(/cannot take/) });
    expect(results.slice(1).map((r) => r.correct)).toEqual([2, 1, 0]);
    expect(summary.failedSamples).toBe(4);
    expect(summary.avg).toBeCloseTo((0 + 0.5 + 0.25 + 0) / 4, 14);
  });

  it('summarises datasets with their unweighted mean, as a markdown table', async () => {
    const engine = new ScriptedEngine(script);
    const a = (await evaluateBenchmark(engine, benchmark, settings)).summary;
    const b = { ...a, dataset: 'other', avg: 0.75, passAt: { '1': 0.75, '2': 1, '4': 1 } };
    const s = summarise(
      {
        engine: 'scripted',
        template: 'boxed',
        k: 4,
        temperature: 0.6,
        topP: 0.7,
        maxTokens: 64,
        seed: 1,
        passAt: [1, 2, 4],
      },
      [a, b],
    );
    expect(s.mean.avg).toBeCloseTo((0.25 + 0.75) / 2, 14);
    const table = markdownTable(s);
    expect(table).toContain('| dataset | problems | avg@4 | pass@1 | pass@2 | pass@4 |');
    expect(table).toContain('| scripted | 3 | 25.0 | 25.0 | 44.4 | 66.7 |');
    expect(table).toContain('| **mean** | 6 | 50.0 |');
  });
});
