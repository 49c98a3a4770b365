import { createServer, type Server } from 'node:http';
import type { Registry } from 'prom-client';

/** Serves the run's registry on `/metrics` for Prometheus to scrape. */
export async function serveMetrics(registry: Registry, port: number, host = '0.0.0.0'): Promise<Server> {
  const server = createServer((req, res) => {
    if (req.url?.split('?')[0] !== '/metrics') {
      res.writeHead(404).end('not found: try /metrics\n');
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
