import { setMaxListeners } from 'node:events';
import { Limiter } from './limiter.js';

/**
 * JSON over HTTP to an inference server, with the failure handling a fleet of GPU servers needs:
 * a timeout per attempt, retries with exponential backoff and jitter on what a restart or overload
 * looks like (connection refused or reset, 5xx, 429, timeouts), and an immediate, explicit error on
 * what retrying cannot fix (any other 4xx).
 */

export interface RetryPolicy {
  /** Retries after the first attempt (0: none). */
  retries: number;
  /** Delay before the first retry; doubled each time, capped at `maxDelayMs`, half of it random. */
  baseDelayMs: number;
  maxDelayMs: number;
}

export interface HttpClientOptions {
  baseUrl: string;
  /** Limit of one attempt, connection to last byte. */
  timeoutMs: number;
  retry: RetryPolicy;
  /** Requests in flight at once, over all callers of this client. */
  concurrency: number;
  apiKey?: string;
  /** Called before each retry with what went wrong; for logs and counters. */
  onRetry?: (info: { url: string; attempt: number; delayMs: number; error: Error }) => void;
}

/** The server answered with a status retrying will not change (4xx other than 408 and 429). */
export class HttpStatusError extends Error {
  override name = 'HttpStatusError';
  constructor(
    readonly method: string,
    readonly url: string,
    readonly status: number,
    readonly serverMessage: string,
  ) {
    super(`${method} ${url}: HTTP ${status}: ${serverMessage}`);
  }
}

/** Every attempt failed; `cause` is the last failure. */
export class RetriesExhaustedError extends Error {
  override name = 'RetriesExhaustedError';
  constructor(method: string, url: string, attempts: number, last: Error) {
    super(
      `${method} ${url} failed ${attempts} times (retries exhausted; raise openai.retries or check the server): ${last.message}`,
      { cause: last },
    );
  }
}

/** A failure worth another attempt: the server restarting, overloaded, or slow. */
export class TransientError extends Error {
  override name = 'TransientError';
  constructor(
    message: string,
    /** The server's Retry-After, when it sent one. */
    readonly retryAfterMs?: number,
  ) {
    super(message);
  }
}

const RETRY_STATUSES = new Set([408, 429, 500, 502, 503, 504]);

export class HttpClient {
  /** Retries made so far (all requests). */
  retries = 0;
  private readonly limiter: Limiter;
  private readonly closed = new AbortController();

  constructor(private readonly options: HttpClientOptions) {
    this.limiter = new Limiter(options.concurrency);
    // Every request and backoff in flight listens for close(): many at once are expected.
    setMaxListeners(0, this.closed.signal);
  }

  url(path: string): string {
    return `${this.options.baseUrl.replace(/\/+$/, '')}${path}`;
  }

  post(path: string, body: unknown): Promise<unknown> {
    return this.request('POST', path, body);
  }

  get(path: string): Promise<unknown> {
    return this.request('GET', path);
  }

  /**
   * One request with retries. `check` validates a parsed body; throwing a `TransientError` from it
   * retries the request (e.g. a server that aborted the generation while it swapped weights).
   */
  async request<T = unknown>(
    method: 'GET' | 'POST',
    path: string,
    body?: unknown,
    check: (json: unknown) => T = (json) => json as T,
  ): Promise<T> {
    const url = this.url(path);
    const { retry } = this.options;
    for (let attempt = 0; ; attempt++) {
      try {
        const json = await this.limiter.run(() => this.attempt(method, url, body));
        return check(json);
      } catch (err) {
        const error = err instanceof Error ? err : new Error(String(err));
        if (!(error instanceof TransientError) || this.closed.signal.aborted) throw error;
        if (attempt >= retry.retries) throw new RetriesExhaustedError(method, url, attempt + 1, error);
        const backoff = Math.min(retry.maxDelayMs, retry.baseDelayMs * 2 ** attempt);
        const jittered = backoff / 2 + (Math.random() * backoff) / 2;
        const delayMs = Math.min(retry.maxDelayMs, Math.max(jittered, error.retryAfterMs ?? 0));
        this.retries++;
        this.options.onRetry?.({ url, attempt: attempt + 1, delayMs, error });
        await sleep(delayMs, this.closed.signal);
      }
    }
  }

  /** Aborts requests in flight and stops retrying. */
  close(): void {
    this.closed.abort(new Error('the OpenAI policy engine was disposed'));
  }

  private async attempt(method: string, url: string, body: unknown): Promise<unknown> {
    const timeout = AbortSignal.timeout(this.options.timeoutMs);
    const signal = AbortSignal.any([timeout, this.closed.signal]);
    const headers: Record<string, string> = { accept: 'application/json' };
    if (body !== undefined) headers['content-type'] = 'application/json';
    if (this.options.apiKey) headers.authorization = `Bearer ${this.options.apiKey}`;
    let response: Response;
    let text: string;
    try {
      response = await fetch(url, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
        signal,
      });
      text = await response.text();
    } catch (err) {
      if (this.closed.signal.aborted) throw this.closed.signal.reason;
      if (timeout.aborted)
        throw new TransientError(`no answer within ${this.options.timeoutMs} ms (openai.timeoutMs)`);
      // fetch reports refused and reset connections as TypeError('fetch failed') with the cause.
      throw new TransientError(connectionFailure(err));
    }
    if (response.ok) {
      try {
        return text === '' ? {} : JSON.parse(text);
      } catch {
        throw new Error(`${method} ${url}: the answer is not JSON: ${text.slice(0, 200)}`);
      }
    }
    const message = serverMessage(text) || response.statusText;
    if (RETRY_STATUSES.has(response.status))
      throw new TransientError(`HTTP ${response.status}: ${message}`, retryAfter(response));
    throw new HttpStatusError(method, url, response.status, message);
  }
}

function connectionFailure(err: unknown): string {
  const cause = (err as { cause?: { code?: string; message?: string } }).cause;
  const code = cause?.code ? `${cause.code}: ` : '';
  return `connection failed: ${code}${cause?.message ?? (err as Error).message ?? String(err)}`;
}

/** The message in an OpenAI-style (`{error: {message}}`), vLLM (`{message}`) or FastAPI (`{detail}`) error. */
function serverMessage(text: string): string {
  try {
    const json = JSON.parse(text) as Record<string, unknown>;
    const error = json.error as Record<string, unknown> | string | undefined;
    const found = (typeof error === 'object' && error ? error.message : error) ?? json.message ?? json.detail;
    if (found !== undefined) return typeof found === 'string' ? found : JSON.stringify(found);
  } catch {
    // not JSON: the text itself
  }
  return text.slice(0, 500);
}

function retryAfter(response: Response): number | undefined {
  const value = response.headers.get('retry-after');
  if (!value) return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds)) return seconds * 1000;
  const date = Date.parse(value);
  return Number.isFinite(date) ? Math.max(0, date - Date.now()) : undefined;
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason);
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal.reason);
    };
    signal.addEventListener('abort', onAbort, { once: true });
  });
}
