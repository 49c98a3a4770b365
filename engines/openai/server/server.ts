import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { ModelShape } from '../../embedded/policy.js';
import { dispatcher } from './dispatch.js';
import { policyRoutes } from './routes.js';
import { ServedPolicy } from './served-policy.js';
import { defaultWeightReaders, type WeightReader } from './weight-readers.js';

/**
 * The embedded policy behind the part of vLLM's and SGLang's HTTP API the OpenAI policy engine uses:
 * `POST /v1/completions` and `/v1/chat/completions` (vLLM-shaped answers: `token_id:N` tokens,
 * `token_ids`, `prompt_token_ids`, plus SGLang's `metadata.weight_version`), `POST /tokenize`,
 * `POST /update_weights_from_disk` (SGLang's), `GET /v1/models`, `/health`, `/get_model_info`,
 * `/model_info`, `/get_weight_version`. Sampling runs in a worker thread; a weight load waits for the
 * generations in flight and holds new ones back, so every answer's version is the one that made it.
 *
 * This file is the server's lifecycle; the policy and its versions are served-policy.ts, the routes
 * routes.ts (handlers in completions.ts and weight-updates.ts, bodies validated by requests.ts), and
 * HTTP in and out dispatch.ts.
 */

export interface PolicyServerOptions {
  model: ModelShape;
  /** Initial weights (the base checkpoint), served as `version`. */
  weights: Uint8Array;
  version?: number;
  modelName?: string;
  host?: string;
  /** 0: any free port. */
  port?: number;
  seed?: number;
  readers?: readonly WeightReader[];
  log?: (line: string) => void;
}

export interface PolicyServer {
  url: string;
  port: number;
  readonly version: number;
  /** Stops accepting connections, lets requests in flight finish, and stops the sampling thread. */
  close(): Promise<void>;
}

export async function startPolicyServer(options: PolicyServerOptions): Promise<PolicyServer> {
  const served = await ServedPolicy.create(options);
  const routes = policyRoutes(served, options.readers ?? defaultWeightReaders, options.log);
  const handle = dispatcher(routes, options.log);
  const server = createServer((req, res) => void handle(req, res));
  const host = options.host ?? '127.0.0.1';
  const port = await listen(server, host, options.port ?? 0).catch((err) => {
    // The sampling thread would keep the process alive with nothing to serve.
    served.dispose();
    throw err;
  });
  const shownHost = host.includes(':') ? `[${host}]` : host;
  return {
    url: `http://${shownHost}:${port}`,
    port,
    get version() {
      return served.version;
    },
    close: async () => {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      await closed;
      served.dispose();
    },
  };
}

/** Listens on `host:port` and resolves to the port it got; the error names the address. */
async function listen(server: Server, host: string, port: number): Promise<number> {
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => resolve());
    });
  } catch (err) {
    throw new Error(`cannot listen on ${host}:${port}: ${(err as Error).message}`);
  }
  return (server.address() as AddressInfo).port;
}
