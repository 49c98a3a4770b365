import { type ChildProcess, spawn } from 'node:child_process';

/** A running `nft-train` command, started from source the way a user would start the built one. */
export interface CliRun {
  child: ChildProcess;
  /** Resolves with the exit code (null when killed by a signal). */
  exit: Promise<number | null>;
  /** Everything written to stderr so far. */
  stderr(): string;
  exited(): boolean;
}

/** Runs `nft-train <args>`; `onStderr` sees each new chunk and all of stderr so far. */
export function runCli(
  args: string[],
  onStderr?: (chunk: string, all: string) => void,
  env?: Record<string, string>,
): CliRun {
  const child = spawn(process.execPath, ['--import', 'tsx', 'cli/main.ts', ...args], {
    stdio: ['ignore', 'ignore', 'pipe'],
    ...(env ? { env: { ...process.env, ...env } } : {}),
  });
  let stderr = '';
  let done = false;
  child.stderr?.on('data', (b: Buffer) => {
    const chunk = b.toString();
    stderr += chunk;
    onStderr?.(chunk, stderr);
  });
  const exit = new Promise<number | null>((resolve) =>
    child.once('exit', (code) => {
      done = true;
      resolve(code);
    }),
  );
  return { child, exit, stderr: () => stderr, exited: () => done };
}
