import { createServer, type Server } from 'node:http';
import type { Registry } from 'prom-client';

/** What the liveness and readiness probes ask: alive while the event loop answers; ready when `ready()`. */
export interface Health {
  ready: () => boolean;
}

/**
 * Serves the registry on `/metrics` for Prometheus to scrape; with `health`, also `/healthz` (200 while
 * the process answers) and `/readyz` (200 when ready, 503 before) for the kubelet's probes.
 */
export async function serveMetrics(
  registry: Registry,
  port: number,
  host = '0.0.0.0',
  health?: Health,
): Promise<Server> {
  const server = createServer((req, res) => {
    const path = req.url?.split('?')[0];
    if (health && path === '/healthz') {
      res.writeHead(200).end('ok\n');
      return;
    }
    if (health && path === '/readyz') {
      const ready = health.ready();
      res.writeHead(ready ? 200 : 503).end(ready ? 'ready\n' : 'not ready: watching TrainingRuns\n');
      return;
    }
    if (path !== '/metrics') {
      res.writeHead(404).end(`not found: try /metrics${health ? ', /healthz or /readyz' : ''}\n`);
      return;
    }
    registry
      .metrics()
      .then((body) => res.writeHead(200, { 'Content-Type': registry.contentType }).end(body))
      .catch((err: unknown) => res.writeHead(500).end(String(err)));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) =>
      reject(
        err.code === 'EADDRINUSE'
          ? new Error(
              `--metrics-port ${port} is in use: pick another port, 0 for any free one, or --no-metrics`,
            )
          : err,
      ),
    );
    server.listen(port, host, () => resolve());
  });
  server.unref();
  return server;
}
