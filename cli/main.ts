#!/usr/bin/env node
import { closest } from '../util/did-you-mean.js';
import { InputError } from '../util/input-error.js';
import { type CommandSpec, formatHelp } from './options.js';
import { packageVersion } from './version.js';

/** A command resolves to its exit status (a number), or to anything else for 0; its table makes its help. */
interface Command {
  run: (argv: string[]) => Promise<unknown>;
  spec: CommandSpec;
}

/**
 * Each command is loaded only when it runs: an actor process that never verifies answers or trains
 * never pays for loading the math or tensor libraries.
 */
const commands: Record<string, () => Promise<Command>> = {
  run: async () => import('./run-command.js').then((m) => ({ run: m.runCommand, spec: m.runSpec })),
  pretrain: async () =>
    import('./pretrain-command.js').then((m) => ({ run: m.pretrainCommand, spec: m.pretrainSpec })),
  'make-model': async () =>
    import('./make-model-command.js').then((m) => ({ run: m.makeModelCommand, spec: m.makeModelSpec })),
  compare: async () =>
    import('./compare-command.js').then((m) => ({ run: m.compareCommand, spec: m.compareSpec })),
  verify: async () =>
    import('./verify-command.js').then((m) => ({ run: m.verifyCommand, spec: m.verifySpec })),
  eval: async () => import('./eval-command.js').then((m) => ({ run: m.evalCommand, spec: m.evalSpec })),
  actor: async () => import('./actor-command.js').then((m) => ({ run: m.actorCommand, spec: m.actorSpec })),
  'serve-policy': async () =>
    import('./serve-policy-command.js').then((m) => ({ run: m.servePolicyCommand, spec: m.servePolicySpec })),
  operator: async () =>
    import('./operator-command.js').then((m) => ({ run: m.operatorCommand, spec: m.operatorSpec })),
};

const usage = `nft-train — Negative-aware Fine-Tuning for math reasoning, as an actor pipeline

Usage: nft-train <command> [options]

Commands:
  run           train (the embedded default: all actors in one process, tiny policy, arithmetic task)
  pretrain      build the mediocre base checkpoint the embedded run starts from
  make-model    build the small Hugging Face model (Qwen2, tokenizer made here) of the real-engine path
  compare       run several objectives over seeds; write an accuracy plot and a table
  verify        check answers with the math verifier (one pair, or a JSONL file)
  eval          avg@k and pass@k of a policy on math benchmarks (AIME, AMC, MATH500, …)
  actor         run one actor of a run as its own process, over NATS JetStream
  serve-policy  the embedded policy behind an OpenAI-compatible HTTP API (for --engine openai)
  operator      the Kubernetes operator: reconcile TrainingRun resources into pods, scale rollout workers

Options:
  -V, --version  print the version (from package.json) and exit
  -h, --help     this text

Run 'nft-train <command> --help' for a command's options.`;

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === '-V' || name === '--version') {
    console.log(packageVersion());
    return 0;
  }
  if (name === undefined || name === '-h' || name === '--help' || name === 'help') {
    const load = name === 'help' && rest[0] ? commands[rest[0]] : undefined;
    console.log(load ? formatHelp((await load()).spec) : usage);
    return 0;
  }
  const load = commands[name];
  if (!load) {
    const guess = closest(name, Object.keys(commands));
    const hint = guess ? `; did you mean ${guess}?` : '';
    console.error(`nft-train: unknown command ${JSON.stringify(name)}${hint}\n\n${usage}`);
    return 2;
  }
  try {
    const status = await (await load()).run(rest);
    return typeof status === 'number' ? status : 0;
  } catch (err) {
    if (err instanceof InputError) {
      console.error(
        `nft-train ${name}: ${(err as Error).message}\nRun 'nft-train ${name} --help' for the options.`,
      );
      return 2;
    }
    console.error(`nft-train ${name} failed: ${(err as Error).stack ?? String(err)}`);
    return 1;
  }
}

main(process.argv.slice(2)).then((code) => {
  process.exitCode = code;
});
