#!/usr/bin/env node
import { ConfigError } from '../config/run-config.js';
import { actorCommand, actorHelp } from './actor-command.js';
import { compareCommand, compareHelp } from './compare-command.js';
import { pretrainCommand, pretrainHelp } from './pretrain-command.js';
import { runCommand, runHelp } from './run-command.js';
import { verifyCommand, verifyHelp } from './verify-command.js';

/** A command resolves to its exit status (a number), or to anything else for 0. */
const commands: Record<string, { run: (argv: string[]) => Promise<unknown>; help: string }> = {
  run: { run: runCommand, help: runHelp },
  pretrain: { run: pretrainCommand, help: pretrainHelp },
  compare: { run: compareCommand, help: compareHelp },
  verify: { run: verifyCommand, help: verifyHelp },
  actor: { run: actorCommand, help: actorHelp },
};

const usage = `nft-train — Negative-aware Fine-Tuning for math reasoning, as an actor pipeline

Usage: nft-train <command> [options]

Commands:
  run        train (the embedded default: all actors in one process, tiny policy, arithmetic task)
  pretrain   build the mediocre base checkpoint the embedded run starts from
  compare    run several objectives over seeds; write an accuracy plot and a table
  verify     check answers with the math verifier (one pair, or a JSONL file)
  actor      run one actor of a run as its own process, over NATS JetStream

Run 'nft-train <command> --help' for a command's options.`;

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '-h' || name === '--help' || name === 'help') {
    console.log(name === 'help' && rest[0] && commands[rest[0]] ? commands[rest[0]]?.help : usage);
    return 0;
  }
  const command = commands[name];
  if (!command) {
    console.error(`nft-train: unknown command ${JSON.stringify(name)}\n\n${usage}`);
    return 2;
  }
  try {
    const status = await command.run(rest);
    return typeof status === 'number' ? status : 0;
  } catch (err) {
    if (err instanceof ConfigError || (err as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
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
