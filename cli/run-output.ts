import {
  appendFileSync,
  existsSync,
  mkdirSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { deserialize, serialize } from 'node:v8';
import type { MemoryBusImage } from '../bus/memory.js';
import { EMBEDDED_WEIGHTS_FILE } from '../engines/openai/weights-dir.js';
import type { RunSummary } from '../runtime/summary.js';
import { InputError } from '../util/input-error.js';

/**
 * A run's output directory (`--out`), written as the run goes so that an interrupted run keeps it:
 *   config.json    the resolved run configuration (what `--resume` starts again from)
 *   metrics.jsonl  one line per step and per evaluation, appended as each happens
 *   summary.json   the outcome and accounting, at the end (doneReason `interrupted` after a signal)
 *   policy/        the final policy's weights, which `serve-policy --weights` and `eval --weights` load
 *   state/bus.bin  after an interruption: everything the run's bus held, for `--resume`
 */
export class RunOutput {
  readonly metricsFile: string;

  constructor(
    readonly dir: string,
    opts: { resume?: boolean } = {},
  ) {
    mkdirSync(dir, { recursive: true });
    this.metricsFile = join(dir, 'metrics.jsonl');
    if (!opts.resume) writeFileSync(this.metricsFile, '');
  }

  get policyDir(): string {
    return join(this.dir, 'policy');
  }

  writeConfig(config: unknown): void {
    atomicWrite(join(this.dir, 'config.json'), `${JSON.stringify(config, null, 2)}\n`);
  }

  /** One metrics line, on disk before the next step starts. */
  append(row: unknown): void {
    appendFileSync(this.metricsFile, `${JSON.stringify(row)}\n`);
  }

  writeSummary(summary: RunSummary): void {
    atomicWrite(join(this.dir, 'summary.json'), `${JSON.stringify(summary, null, 2)}\n`);
  }

  writePolicy(weights: Uint8Array): string {
    mkdirSync(this.policyDir, { recursive: true });
    const file = join(this.policyDir, EMBEDDED_WEIGHTS_FILE);
    atomicWrite(file, weights);
    return this.policyDir;
  }

  writeState(image: MemoryBusImage): string {
    mkdirSync(join(this.dir, 'state'), { recursive: true });
    const file = join(this.dir, 'state', 'bus.bin');
    atomicWrite(file, serialize(image));
    return file;
  }

  /** A finished run needs no state to resume from. */
  clearState(): void {
    rmSync(join(this.dir, 'state'), { recursive: true, force: true });
  }
}

/** What `--resume DIR` starts again from: the run's configuration and its bus. */
export function readResumable(dir: string): { config: unknown; image: MemoryBusImage } {
  const configFile = join(dir, 'config.json');
  const stateFile = join(dir, 'state', 'bus.bin');
  if (!existsSync(configFile))
    throw new InputError(
      `--resume ${dir}: no config.json there: give the --out directory of an interrupted run`,
    );
  if (!existsSync(stateFile))
    throw new InputError(
      `--resume ${dir}: no state/bus.bin: only an interrupted run can be resumed (this one finished, or was killed before it could save)`,
    );
  return {
    config: JSON.parse(readFileSync(configFile, 'utf8')),
    image: deserialize(readFileSync(stateFile)) as MemoryBusImage,
  };
}

/** Written whole or not at all: a kill mid-write leaves the previous file. */
function atomicWrite(file: string, data: string | Uint8Array): void {
  writeFileSync(`${file}.tmp`, data);
  renameSync(`${file}.tmp`, file);
}
