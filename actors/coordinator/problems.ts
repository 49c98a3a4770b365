import type { RunConfig } from '../../config/run-config.js';
import { arithmeticTask } from '../../datasets/arithmetic.js';
import { loadProblems } from '../../datasets/index.js';
import type { Problem } from '../../datasets/problem.js';
import { createRng, deriveSeed, shuffle } from '../../util/random.js';

/** The coordinator's view of the data: the i-th training prompt of the run, and the held-out set. */
export interface ProblemSource {
  /** Undefined once `epochs` passes over a finite dataset are used up. */
  train(index: number): Problem | undefined;
  heldOut: Problem[];
  heldOutName: string;
}

export async function openProblemSource(
  config: RunConfig,
  log: (line: string) => void,
): Promise<ProblemSource> {
  const { dataset, seed } = config;
  if (dataset.train === 'arithmetic') {
    const task = arithmeticTask(dataset.arithmetic, seed);
    return { train: (i) => task.train(i), heldOut: task.heldOut, heldOutName: 'arithmetic' };
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
    orders.clear();
    orders.set(epoch, order);
    return order;
  };
  return {
    train: (i) => {
      const epoch = Math.floor(i / problems.length);
      if (epoch >= dataset.epochs) return undefined;
      return epochOrder(epoch)[i % problems.length];
    },
    heldOut: [],
    heldOutName: 'none',
  };
}
