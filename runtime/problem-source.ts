import type { EvalSet, ProblemSource } from '../actors/coordinator/problems.js';
import type { RunConfig } from '../config/run-config.js';
import { arithmeticBucket, arithmeticTask } from '../datasets/arithmetic.js';
import { loadProblems } from '../datasets/index.js';
import type { Problem } from '../datasets/problem.js';
import { CHARACTERS } from '../engines/embedded/tokenizer.js';
import { loadBenchmark } from '../evaluation/benchmark.js';
import { applyTemplate, resolveTemplate } from '../evaluation/templates.js';
import { createRng, deriveSeed, shuffle } from '../util/random.js';

/**
 * Where a run's problems come from: the training data (the built-in arithmetic task, or a verl file read
 * in epochs, shuffled per epoch by the run's seed) and the benchmark files evaluated during the run.
 */

/**
 * The configured benchmark files as problems: each problem put into the template, its gold the answer
 * the verifier compares (a multi-answer row's answers as a list), its data source the dataset's name.
 */
export async function loadEvalSets(config: RunConfig): Promise<EvalSet[]> {
  const { datasets, template, limit } = config.eval;
  if (datasets.length === 0) return [];
  const prompt = resolveTemplate(template);
  const sets: EvalSet[] = [];
  for (const path of datasets) {
    const b = await loadBenchmark(path, limit === undefined ? {} : { limit });
    if (sets.some((s) => s.name === b.name))
      throw new Error(`eval.datasets: two files are named ${b.name}; each dataset is reported by its name`);
    sets.push({
      name: b.name,
      problems: b.problems.map((p) => ({
        id: `${b.name}/${p.id}`,
        prompt: applyTemplate(prompt, p.problem),
        answer: p.gold,
        dataSource: b.name,
      })),
    });
  }
  if (config.engine === 'embedded') assertEmbeddedReadable(sets, config.model.contextLength);
  return sets;
}

const EMBEDDED_CHARACTERS = new Set(CHARACTERS);

/** The embedded policy reads only short prompts of digits and a few symbols; say so before the run starts. */
function assertEmbeddedReadable(sets: EvalSet[], contextLength: number): void {
  for (const set of sets)
    for (const p of set.problems)
      if ([...p.prompt].some((c) => !EMBEDDED_CHARACTERS.has(c)) || p.prompt.length >= contextLength)
        throw new Error(
          `eval.datasets: ${set.name} problem ${p.id} is not a prompt the embedded policy can read (only ` +
            `${JSON.stringify(CHARACTERS)}, under ${contextLength} characters with the template): evaluate ` +
            'benchmark files with engine openai, or use `nft-train eval`',
        );
}

export async function openProblemSource(
  config: RunConfig,
  log: (line: string) => void,
): Promise<ProblemSource> {
  const { dataset, seed } = config;
  if (dataset.train === 'arithmetic') {
    const task = arithmeticTask(dataset.arithmetic, seed);
    return {
      train: (i) => task.train(i),
      size: task.distinct,
      // Draws repeat prompts (ids are per draw): a prompt's history follows its text.
      keyOf: (p) => p.prompt,
      bucketOf: (p) => arithmeticBucket(p.prompt),
      heldOut: task.heldOut,
      heldOutName: 'arithmetic',
      evalSets: await loadEvalSets(config),
    };
  }
  const loaded = await loadProblems(dataset.train);
  if (loaded.skipped.length > 0) {
    log(
      `${dataset.train}: skipped ${loaded.skipped.length} of ${loaded.total} rows (first: ${loaded.skipped[0]?.reason})`,
    );
  }
  const problems = loaded.problems;
  const orders = new Map<number, Problem[]>();
  const epochOrder = (epoch: number): Problem[] => {
    const cached = orders.get(epoch);
    if (cached) return cached;
    const order = dataset.shuffle
      ? shuffle(problems, createRng(deriveSeed(seed, `epoch/${epoch}`)))
      : problems;
    // Two passes kept: outcomes of the last pass's tasks still come in after the next one starts.
    for (const old of orders.keys()) if (orders.size >= 2) orders.delete(old);
    orders.set(epoch, order);
    return order;
  };
  return {
    train: (i) => {
      const epoch = Math.floor(i / problems.length);
      if (epoch >= dataset.epochs) return undefined;
      return epochOrder(epoch)[i % problems.length];
    },
    size: problems.length,
    heldOut: [],
    heldOutName: 'none',
    evalSets: await loadEvalSets(config),
  };
}
