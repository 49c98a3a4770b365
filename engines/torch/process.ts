import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import {
  responseSchema,
  resultSchemas,
  type TorchErrorPayload,
  type TorchOp,
  type TorchResult,
} from './protocol.js';

/** A failed request or a dead trainer process: names the op and carries the tail of its stderr. */
export class TorchTrainerError extends Error {
  constructor(
    message: string,
    readonly op: TorchOp,
    readonly field?: string,
    readonly stderrTail = '',
  ) {
    super(stderrTail ? `${message}\n--- trainer stderr (tail) ---\n${stderrTail}` : message);
    this.name = 'TorchTrainerError';
  }
}

export interface ProcessOptions {
  command: string;
  args: string[];
  env: NodeJS.ProcessEnv;
  cwd?: string;
  /** Lines of the child's stderr kept for error messages. */
  stderrLines?: number;
  /** Called with each stderr line (e.g. to forward it to a log). */
  onStderr?: (line: string) => void;
}

interface Pending {
  op: TorchOp;
  resolve: (v: unknown) => void;
  reject: (e: Error) => void;
  timer?: NodeJS.Timeout;
}

/** The Python server as a child process speaking JSON lines; requests are answered in order. */
export class TorchProcess {
  private readonly child: ChildProcessWithoutNullStreams;
  private readonly pending = new Map<number, Pending>();
  private readonly stderr: string[] = [];
  private nextId = 1;
  private exited: string | undefined;
  readonly done: Promise<void>;

  constructor(private readonly options: ProcessOptions) {
    this.child = spawn(options.command, options.args, { env: options.env, cwd: options.cwd, stdio: 'pipe' });
    const keep = options.stderrLines ?? 40;
    createInterface({ input: this.child.stderr }).on('line', (line) => {
      this.stderr.push(line);
      if (this.stderr.length > keep) this.stderr.shift();
      options.onStderr?.(line);
    });
    createInterface({ input: this.child.stdout }).on('line', (line) => this.onLine(line));
    this.child.stdin.on('error', () => {}); // a dead child surfaces through 'exit'
    this.done = new Promise((resolve) => {
      const finish = (why: string) => {
        if (this.exited) return;
        this.exited = why;
        // stderr may still be draining; give it a moment so the error carries the traceback.
        setTimeout(() => {
          this.failAll(why);
          resolve();
        }, 50);
      };
      this.child.on('error', (e) => finish(`could not start ${options.command}: ${e.message}`));
      this.child.on('exit', (code, signal) =>
        finish(`trainer process exited (${signal ? `signal ${signal}` : `code ${code}`})`),
      );
    });
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  get alive(): boolean {
    return this.exited === undefined;
  }

  stderrTail(): string {
    return this.stderr.join('\n');
  }

  request<O extends TorchOp>(
    op: O,
    fields: Record<string, unknown> = {},
    timeoutMs?: number,
  ): Promise<TorchResult<O>> {
    if (this.exited) {
      return Promise.reject(
        new TorchTrainerError(
          `torch trainer: '${op}' failed: ${this.exited}`,
          op,
          undefined,
          this.stderrTail(),
        ),
      );
    }
    const id = this.nextId++;
    return new Promise<unknown>((resolve, reject) => {
      const p: Pending = { op, resolve, reject };
      if (timeoutMs !== undefined) {
        p.timer = setTimeout(() => {
          this.pending.delete(id);
          reject(
            new TorchTrainerError(
              `torch trainer: '${op}' got no answer within ${timeoutMs} ms; stopping the trainer process`,
              op,
              undefined,
              this.stderrTail(),
            ),
          );
          this.kill();
        }, timeoutMs);
      }
      this.pending.set(id, p);
      this.child.stdin.write(`${JSON.stringify({ id, op, ...fields })}\n`);
    }).then((raw) => {
      const parsed = resultSchemas[op].safeParse(raw);
      if (!parsed.success) {
        const issue = parsed.error.issues[0];
        throw new TorchTrainerError(
          `torch trainer: '${op}' answered with an unexpected result: ${issue?.path.join('.') || 'result'}: ${issue?.message}`,
          op,
        );
      }
      return parsed.data as TorchResult<O>;
    });
  }

  private onLine(line: string): void {
    let msg: unknown;
    try {
      msg = JSON.parse(line);
    } catch {
      this.options.onStderr?.(`(stdout, not protocol) ${line}`);
      return;
    }
    const parsed = responseSchema.safeParse(msg);
    if (!parsed.success) {
      this.options.onStderr?.(`(stdout, not a protocol response) ${line}`);
      return;
    }
    const r = parsed.data;
    const id = typeof r.id === 'number' ? r.id : Number(r.id);
    const p = this.pending.get(id);
    if (!p) return;
    this.pending.delete(id);
    if (p.timer) clearTimeout(p.timer);
    if (r.ok) p.resolve(r.result);
    else p.reject(this.errorOf(p.op, r.error));
  }

  private errorOf(op: TorchOp, e: TorchErrorPayload): TorchTrainerError {
    // Protocol errors are the caller's to fix and say so themselves; others get the traceback too.
    const tail = e.type === 'protocol' ? '' : this.stderrTail();
    return new TorchTrainerError(
      `torch trainer: '${op}' failed: ${e.message}`,
      op,
      e.field ?? undefined,
      tail,
    );
  }

  private failAll(why: string): void {
    for (const [id, p] of this.pending) {
      this.pending.delete(id);
      if (p.timer) clearTimeout(p.timer);
      p.reject(
        new TorchTrainerError(`torch trainer: '${p.op}' failed: ${why}`, p.op, undefined, this.stderrTail()),
      );
    }
  }

  /** Closes stdin (the server exits at end of input). */
  end(): void {
    if (this.alive) this.child.stdin.end();
  }

  kill(signal: NodeJS.Signals = 'SIGKILL'): void {
    if (this.alive) this.child.kill(signal);
  }
}
