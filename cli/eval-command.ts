import { createWriteStream, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError } from '../config/parse-run-config.js';
import { type Benchmark, BenchmarkError, loadBenchmark } from '../evaluation/benchmark.js';
import { type DatasetResult, evaluateBenchmark } from '../evaluation/evaluate.js';
import { defaultPassKs } from '../evaluation/pass-at-k.js';
import { markdownTable, summarise } from '../evaluation/report.js';
import { resolveTemplate, TemplateError } from '../evaluation/templates.js';
import { createEvalEngine } from '../runtime/eval-engine.js';
import { buildConfig } from './config-input.js';
import { EvalProgress } from './eval-progress.js';
import { type CommandSpec, parseCommand } from './options.js';

export const evalSpec = {
  command: 'nft-train eval',
  summary: 'avg@k and pass@k of a policy on math benchmarks',
  about: `Samples k responses to every problem, scores each with the math verifier, and reports per dataset:
  avg@k    the mean share of correct responses (the paper's headline number with k = 32)
  pass@j   the chance that j of the k responses include a correct one, with the unbiased estimator
           1 − C(k−c, j)/C(k, j) from c correct of k (j ≤ k; default: powers of two up to k, and k)

Datasets: JSON Lines files such as ../shared/data/eval/{aime24,aime25,amc23,math500,minerva_math,
olympiadbench}.jsonl: rows {"id", "problem", "answer"}, or OlympiadBench's, which add "answers" and
"source_fields".is_multiple_answer (a response must give every answer, in any order) and .error (a
numeric tolerance). An invalid row stops the evaluation and is named with its field and the fix.`,
  options: {
    dataset: {
      type: 'string',
      value: 'FILE',
      multiple: true,
      required: 'a benchmark JSONL file',
      help: 'a benchmark file (repeat for several)',
    },
    engine: {
      type: 'string',
      choices: ['embedded', 'openai'],
      default: 'embedded',
      help: "embedded: the tiny CPU model from the base checkpoint (it sees only the digits and symbols of a prompt's end and cannot solve these problems: it checks the pipeline); openai: an OpenAI-compatible server (vLLM, SGLang, serve-policy)",
    },
    url: {
      type: 'string',
      value: 'URL',
      help: 'the server for --engine openai, without /v1 (e.g. http://127.0.0.1:8000)',
    },
    model: {
      type: 'string',
      value: 'NAME',
      defaultText: "the server's first",
      help: 'served model name for --engine openai',
    },
    k: { type: 'integer', min: 1, default: 32, help: 'responses per problem' },
    temperature: { type: 'number', min: 0, default: 0.6, help: 'sampling temperature' },
    'top-p': { type: 'number', above: 0, max: 1, default: 0.7, help: 'nucleus sampling' },
    'max-tokens': { type: 'integer', min: 1, default: 8192, help: 'response length cap' },
    template: {
      type: 'string',
      value: 'T',
      default: 'dapo',
      help: 'dapo (DAPO\'s "… Answer: \\boxed{$Answer}" instruction), boxed ("Please reason step by step, and put your final answer within \\boxed{}."), or a file with {problem} where the problem goes',
    },
    'pass-at': {
      type: 'list',
      item: 'integer',
      min: 1,
      defaultText: 'powers of two up to --k, and --k',
      help: 'the j of pass@j, e.g. 1,8,32',
    },
    limit: { type: 'integer', min: 1, help: 'only the first N problems of each file' },
    'batch-size': { type: 'integer', min: 1, default: 16, help: 'problems per generate call' },
    seed: { type: 'integer', min: 0, default: 1, help: 'sampling seed' },
    weights: {
      type: 'string',
      value: 'PATH',
      help: "with --engine embedded: these weights instead of the base (a run's OUT/policy, or a weights file)",
    },
    config: { type: 'string', value: 'FILE', help: 'run configuration (model, checkpoint, openai settings)' },
    out: { type: 'string', value: 'DIR', default: 'runs/eval', help: 'where to write' },
  },
  notes: `Writes DIR/results.jsonl (one line per problem: its samples with the extracted answer and the
verifier's reason, avg and pass@j), DIR/summary.md (the table) and DIR/summary.json; progress on
stderr; the table, then the summary as one JSON line last on stdout.`,
} as const satisfies CommandSpec;

export async function evalCommand(argv: string[]): Promise<number> {
  const args = parseCommand(evalSpec, argv);
  if (!args) return 0;
  const { values } = args;
  const { dataset: files, engine: engineName, k, temperature, limit, seed } = values;
  const topP = values['top-p'];
  const maxTokens = values['max-tokens'];
  const batchSize = values['batch-size'];
  if (values.url !== undefined && engineName !== 'openai')
    throw new ConfigError('--url is the server of --engine openai');
  if (values.weights !== undefined && engineName !== 'embedded')
    throw new ConfigError('--weights is for --engine embedded: a server loads its own weights');
  const passAt = values['pass-at'] ?? defaultPassKs(k);
  for (const j of passAt) if (j > k) throw new ConfigError(`--pass-at ${j}: pass@j needs j ≤ --k (${k})`);
  const template = templateOf(values.template);
  const config = buildConfig(values.config, {
    engine: engineName,
    seed,
    'openai.url': values.url,
    'openai.model': values.model,
    'model.initFrom': values.weights,
    metrics: false,
  });

  const benchmarks = await loadBenchmarks(files, limit);
  if (!benchmarks) return 2;

  const { out } = values;
  mkdirSync(out, { recursive: true });
  const progress = new EvalProgress();
  const { engine, label, dispose } = await createEvalEngine(config, (line) => progress.message(line));
  const resultsFile = createWriteStream(join(out, 'results.jsonl'));
  const datasets: DatasetResult[] = [];
  try {
    for (const benchmark of benchmarks) {
      progress.message(`${benchmark.name}: ${benchmark.problems.length} problems × ${k} samples (${label})`);
      progress.begin();
      const { summary } = await evaluateBenchmark(
        engine,
        benchmark,
        {
          k,
          temperature,
          topP,
          maxTokens,
          passAt,
          template,
          batchSize,
          seed,
          budgetMs: config.verify.budgetMs,
        },
        {
          problem: (r) => resultsFile.write(`${JSON.stringify(r)}\n`),
          progress: (p) => progress.update(p),
        },
      );
      if (summary.failedSamples > 0)
        progress.message(
          `${benchmark.name}: the engine could not answer ${summary.failedSamples / k} problems (counted wrong; see "error" in results.jsonl)`,
        );
      datasets.push(summary);
    }
  } finally {
    await new Promise((resolve) => resultsFile.end(resolve));
    dispose();
  }
  const summary = summarise(
    { engine: label, template: template.name, k, temperature, topP, maxTokens, seed, passAt },
    datasets,
  );
  const table = markdownTable(summary);
  writeFileSync(join(out, 'summary.md'), table);
  writeFileSync(join(out, 'summary.json'), `${JSON.stringify(summary, null, 2)}\n`);
  console.log(table);
  console.log(JSON.stringify(summary));
  return 0;
}

function templateOf(name: string): ReturnType<typeof resolveTemplate> {
  try {
    return resolveTemplate(name);
  } catch (err) {
    if (err instanceof TemplateError) throw new ConfigError(err.message);
    throw err;
  }
}

/**
 * Every file is read and validated before any sampling: a bad row fails fast, not after hours.
 * Undefined when a file is not a benchmark (said on stderr).
 */
async function loadBenchmarks(files: string[], limit: number | undefined): Promise<Benchmark[] | undefined> {
  const benchmarks: Benchmark[] = [];
  for (const file of files) {
    try {
      benchmarks.push(await loadBenchmark(file, limit === undefined ? {} : { limit }));
    } catch (err) {
      if (err instanceof BenchmarkError) {
        console.error(`nft-train eval: ${err.message}`);
        return undefined;
      }
      throw err;
    }
  }
  const names = new Set<string>();
  for (const b of benchmarks) {
    if (names.has(b.name))
      throw new ConfigError(`--dataset: two files are named ${b.name}; give each dataset once`);
    names.add(b.name);
  }
  return benchmarks;
}
