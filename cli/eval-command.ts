import { createWriteStream, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { ConfigError } from '../config/run-config.js';
import { type Benchmark, BenchmarkError, loadBenchmark } from '../evaluation/benchmark.js';
import { type DatasetResult, evaluateBenchmark } from '../evaluation/evaluate.js';
import { defaultPassKs } from '../evaluation/pass-at-k.js';
import { markdownTable, summarise } from '../evaluation/report.js';
import { resolveTemplate, TemplateError } from '../evaluation/templates.js';
import { createEvalEngine } from '../runtime/eval-engine.js';
import { buildConfig } from './config-input.js';
import { EvalProgress } from './eval-progress.js';
import { integerFlag, listFlag, numberFlag } from './flags.js';

export const evalHelp = `nft-train eval — avg@k and pass@k of a policy on math benchmarks

Usage: nft-train eval --dataset FILE [--dataset FILE …] [--engine embedded|openai [--url URL]]
                      [--k 32] [--temperature 0.6] [--top-p 0.7] [--max-tokens N]
                      [--template dapo|boxed|FILE] [--pass-at 1,4,16] [--limit N] [--out DIR]

Samples k responses to every problem, scores each with the math verifier, and reports per dataset:
  avg@k    the mean share of correct responses (the paper's headline number with k = 32)
  pass@j   the chance that j of the k responses include a correct one, with the unbiased estimator
           1 − C(k−c, j)/C(k, j) from c correct of k (j ≤ k; default: powers of two up to k, and k)

Datasets: JSON Lines files such as ../shared/data/eval/{aime24,aime25,amc23,math500,minerva_math,
olympiadbench}.jsonl: rows {"id", "problem", "answer"}, or OlympiadBench's, which add "answers" and
"source_fields".is_multiple_answer (a response must give every answer, in any order) and .error (a
numeric tolerance). An invalid row stops the evaluation and is named with its field and the fix.

Options:
  --dataset FILE        a benchmark file (repeat for several)
  --engine NAME         embedded (default: the tiny CPU model from the base checkpoint; it sees only the
                        digits and symbols of a prompt's end and cannot solve these problems: it checks
                        the pipeline) | openai (an OpenAI-compatible server: vLLM, SGLang, serve-policy)
  --url URL             the server for --engine openai, without /v1 (e.g. http://127.0.0.1:8000)
  --model NAME          served model name for --engine openai (default: the server's first)
  --k N                 responses per problem (default 32)
  --temperature X       sampling temperature (default 0.6)
  --top-p X             nucleus sampling (default 0.7)
  --max-tokens N        response length cap (default 8192)
  --template T          dapo (DAPO's "… Answer: \\boxed{$Answer}" instruction, default), boxed ("Please
                        reason step by step, and put your final answer within \\boxed{}."), or a file
                        with {problem} where the problem goes
  --pass-at LIST        the j of pass@j, e.g. 1,8,32
  --limit N             only the first N problems of each file
  --batch-size N        problems per generate call (default 16)
  --seed N              sampling seed (default 1)
  --config FILE         run configuration (model, checkpoint, openai settings)
  --out DIR             where to write (default runs/eval)
  -h, --help            this text

Writes DIR/results.jsonl (one line per problem: its samples with the extracted answer and the
verifier's reason, avg and pass@j), DIR/summary.md (the table) and DIR/summary.json; progress on
stderr; the table, then the summary as one JSON line last on stdout.`;

export async function evalCommand(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      dataset: { type: 'string', multiple: true },
      engine: { type: 'string' },
      url: { type: 'string' },
      model: { type: 'string' },
      k: { type: 'string' },
      temperature: { type: 'string' },
      'top-p': { type: 'string' },
      'max-tokens': { type: 'string' },
      template: { type: 'string' },
      'pass-at': { type: 'string' },
      limit: { type: 'string' },
      'batch-size': { type: 'string' },
      seed: { type: 'string' },
      config: { type: 'string' },
      out: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
  });
  if (values.help) {
    console.log(evalHelp);
    return 0;
  }
  const files = values.dataset ?? [];
  if (files.length === 0) throw new ConfigError('give at least one --dataset FILE (a benchmark JSONL file)');
  const engineName = values.engine ?? 'embedded';
  if (engineName !== 'embedded' && engineName !== 'openai')
    throw new ConfigError(`--engine ${JSON.stringify(engineName)}: expected embedded or openai`);
  if (values.url !== undefined && engineName !== 'openai')
    throw new ConfigError('--url is the server of --engine openai');
  const k = positive('--k', integerFlag('--k', values.k) ?? 32);
  const temperature = numberFlag('--temperature', values.temperature) ?? 0.6;
  if (temperature < 0) throw new ConfigError(`--temperature ${temperature}: expected ≥ 0`);
  const topP = numberFlag('--top-p', values['top-p']) ?? 0.7;
  if (!(topP > 0 && topP <= 1)) throw new ConfigError(`--top-p ${topP}: expected a number in (0, 1]`);
  const maxTokens = positive('--max-tokens', integerFlag('--max-tokens', values['max-tokens']) ?? 8192);
  const limit =
    values.limit === undefined ? undefined : positive('--limit', integerFlag('--limit', values.limit));
  const batchSize = positive('--batch-size', integerFlag('--batch-size', values['batch-size']) ?? 16);
  const seed = integerFlag('--seed', values.seed) ?? 1;
  const passAt =
    values['pass-at'] === undefined
      ? defaultPassKs(k)
      : listFlag(values['pass-at'], []).map((s) => {
          const j = positive('--pass-at', integerFlag('--pass-at', s));
          if (j > k) throw new ConfigError(`--pass-at ${j}: pass@j needs j ≤ --k (${k})`);
          return j;
        });
  let template: ReturnType<typeof resolveTemplate>;
  try {
    template = resolveTemplate(values.template ?? 'dapo');
  } catch (err) {
    if (err instanceof TemplateError) throw new ConfigError(err.message);
    throw err;
  }
  const config = buildConfig(values.config, {
    engine: engineName,
    seed,
    'openai.url': values.url,
    'openai.model': values.model,
    metrics: false,
  });

  // Every file is read and validated before any sampling: a bad row fails fast, not after hours.
  const benchmarks: Benchmark[] = [];
  for (const file of files) {
    try {
      benchmarks.push(await loadBenchmark(file, limit === undefined ? {} : { limit }));
    } catch (err) {
      if (err instanceof BenchmarkError) {
        console.error(`nft-train eval: ${err.message}`);
        return 2;
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

  const out = values.out ?? 'runs/eval';
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

function positive(flag: string, n: number | undefined): number {
  if (n === undefined || n < 1) throw new ConfigError(`${flag} ${n}: expected a whole number ≥ 1`);
  return n;
}
