import type { GeneratedSample, PolicyEngine } from '../engines/types.js';
import { deriveSeed } from '../util/random.js';
import type { Benchmark, BenchmarkProblem } from './benchmark.js';
import { passAtK } from './pass-at-k.js';
import { type SampleScore, scoreResponse } from './score.js';
import { applyTemplate, type PromptTemplate } from './templates.js';

/** Samples k responses per problem from a policy engine and scores them: avg@k and pass@j per dataset. */

export interface EvalSettings {
  /** Responses sampled per problem (n of the pass@k estimator). */
  k: number;
  temperature: number;
  topP: number;
  maxTokens: number;
  /** pass@j is reported for each of these (each ≤ k). */
  passAt: number[];
  template: PromptTemplate;
  /** Problems per generate() call: an inference server batches them. */
  batchSize: number;
  seed: number;
  /** Verifier time budget per response, in milliseconds. */
  budgetMs?: number;
}

export interface SampleResult extends SampleScore {
  text: string;
  tokens: number;
  finishReason: GeneratedSample['finishReason'] | 'error';
}

export interface ProblemResult {
  dataset: string;
  id: string;
  gold: string;
  parts: string[];
  n: number;
  correct: number;
  /** Mean correctness of the n samples. */
  avg: number;
  passAt: Record<string, number>;
  /** The engine could not generate this problem; its samples count as wrong. */
  error?: string;
  samples: SampleResult[];
}

export interface DatasetResult {
  dataset: string;
  path: string;
  problems: number;
  k: number;
  /** avg@k: mean over problems of the share of correct samples. */
  avg: number;
  /** pass@j: mean over problems of the unbiased estimator. */
  passAt: Record<string, number>;
  /** Samples the engine failed to produce (counted as wrong), cut at max tokens, without an answer. */
  failedSamples: number;
  truncatedSamples: number;
  noAnswerSamples: number;
  seconds: number;
}

export interface Progress {
  dataset: string;
  problemsDone: number;
  problems: number;
  samplesCorrect: number;
  samplesDone: number;
}

export function problemResult(
  dataset: string,
  problem: BenchmarkProblem,
  samples: SampleResult[],
  passAt: number[],
  error?: string,
): ProblemResult {
  const n = samples.length;
  const correct = samples.filter((s) => s.correct).length;
  return {
    dataset,
    id: problem.id,
    gold: problem.gold,
    parts: problem.parts,
    n,
    correct,
    avg: n > 0 ? correct / n : 0,
    passAt: Object.fromEntries(passAt.map((k) => [String(k), passAtK(n, correct, k)])),
    ...(error !== undefined ? { error } : {}),
    samples,
  };
}

export function datasetResult(
  benchmark: Pick<Benchmark, 'name' | 'path'>,
  results: ProblemResult[],
  settings: Pick<EvalSettings, 'k' | 'passAt'>,
  seconds: number,
): DatasetResult {
  const mean = (f: (r: ProblemResult) => number) =>
    results.length > 0 ? results.reduce((s, r) => s + f(r), 0) / results.length : 0;
  const count = (f: (s: SampleResult) => boolean) =>
    results.reduce((n, r) => n + r.samples.filter(f).length, 0);
  return {
    dataset: benchmark.name,
    path: benchmark.path,
    problems: results.length,
    k: settings.k,
    avg: mean((r) => r.avg),
    passAt: Object.fromEntries(
      settings.passAt.map((k) => [String(k), mean((r) => r.passAt[String(k)] ?? 0)]),
    ),
    failedSamples: count((s) => s.finishReason === 'error'),
    truncatedSamples: count((s) => s.finishReason === 'length'),
    noAnswerSamples: count((s) => s.reason === 'no-answer'),
    seconds,
  };
}

/**
 * Evaluates one benchmark. Problems go to the engine `batchSize` at a time; a batch the engine rejects
 * is retried a problem at a time, so one prompt it cannot take (too long, say) costs only that problem,
 * whose samples then count as wrong with the engine's error recorded.
 */
export async function evaluateBenchmark(
  engine: PolicyEngine,
  benchmark: Benchmark,
  settings: EvalSettings,
  on: { problem?: (r: ProblemResult) => void; progress?: (p: Progress) => void } = {},
): Promise<{ summary: DatasetResult; results: ProblemResult[] }> {
  const started = performance.now();
  const results: ProblemResult[] = [];
  let samplesCorrect = 0;
  const { k, temperature, topP, maxTokens } = settings;
  for (let start = 0; start < benchmark.problems.length; start += settings.batchSize) {
    const batch = benchmark.problems.slice(start, start + settings.batchSize);
    const seed = deriveSeed(settings.seed, `${benchmark.name}/${start}`);
    const generated = await generateOrSplit(engine, batch, settings.template, {
      n: k,
      temperature,
      topP,
      maxTokens,
      seed,
    });
    batch.forEach((problem, i) => {
      const outcome = generated[i] as GeneratedSample[] | { error: string };
      const samples: SampleResult[] =
        'error' in outcome
          ? Array.from({ length: k }, () => ({
              correct: false,
              extracted: null,
              reason: 'engine-error' as const,
              text: '',
              tokens: 0,
              finishReason: 'error' as const,
            }))
          : outcome.map((s) => ({
              ...scoreResponse(s.text, problem, settings.budgetMs),
              text: s.text,
              tokens: s.tokenIds.length,
              finishReason: s.finishReason,
            }));
      const result = problemResult(
        benchmark.name,
        problem,
        samples,
        settings.passAt,
        'error' in outcome ? outcome.error : undefined,
      );
      samplesCorrect += result.correct;
      results.push(result);
      on.problem?.(result);
    });
    on.progress?.({
      dataset: benchmark.name,
      problemsDone: results.length,
      problems: benchmark.problems.length,
      samplesCorrect,
      samplesDone: results.length * k,
    });
  }
  const seconds = (performance.now() - started) / 1000;
  return { summary: datasetResult(benchmark, results, settings, seconds), results };
}

async function generateOrSplit(
  engine: PolicyEngine,
  problems: BenchmarkProblem[],
  template: PromptTemplate,
  params: Parameters<PolicyEngine['generate']>[1],
): Promise<(GeneratedSample[] | { error: string })[]> {
  const prompts = problems.map((p) => applyTemplate(template, p.problem));
  const check = (samples: GeneratedSample[] | undefined): GeneratedSample[] => {
    if (!samples || samples.length !== params.n)
      throw new Error(`the engine returned ${samples?.length ?? 0} samples, asked for ${params.n}`);
    return samples;
  };
  try {
    const generations = await engine.generate(prompts, params);
    if (generations.length !== prompts.length)
      throw new Error(`the engine returned ${generations.length} generations for ${prompts.length} prompts`);
    return generations.map((g) => check(g.samples));
  } catch (err) {
    if (prompts.length === 1) return [{ error: errorText(err) }];
  }
  const out: (GeneratedSample[] | { error: string })[] = [];
  for (const [i, prompt] of prompts.entries()) {
    try {
      const [g] = await engine.generate([prompt], {
        ...params,
        seed: deriveSeed(params.seed ?? 0, String(i)),
      });
      out.push(check(g?.samples));
    } catch (err) {
      out.push({ error: errorText(err) });
    }
  }
  return out;
}

function errorText(err: unknown): string {
  const text = err instanceof Error ? err.message : String(err);
  return text.length > 500 ? `${text.slice(0, 500)}…` : text;
}
