/**
 * End to end: Debian's `prometheus` scrapes a live embedded run, and every PromQL expression of the run
 * dashboard is queried while the run is under way. Prints each panel's query and its series count;
 * exits 1 if any query returns nothing. Last line: one JSON object.
 *
 *   npm run check:dashboards
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseRunConfig } from '../config/parse-run-config.js';
import { dashboardQueries } from '../dashboards/run-dashboard.js';
import { runEmbedded } from '../runtime/embedded-run.js';
import { freePort } from '../util/free-port.js';

const STEPS = 60;
/** Queries run once the run is this far, so that every metric has had time to appear. */
const QUERY_AT_STEP = 45;

/** Grafana's variables as the dashboard's user would set them: this run, any namespace, 15 s rates. */
function grafanaVariables(expr: string, runId: string): string {
  return expr.replaceAll('$__rate_interval', '15s').replaceAll('$namespace', '.*').replaceAll('$run', runId);
}

async function waitFor(url: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (
      await fetch(url).then(
        (r) => r.ok,
        () => false,
      )
    )
      return;
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`${url} not ready after ${timeoutMs} ms`);
}

async function query(promUrl: string, expr: string): Promise<number> {
  const r = await fetch(`${promUrl}/api/v1/query?query=${encodeURIComponent(expr)}`);
  const body = (await r.json()) as { status: string; error?: string; data?: { result: unknown[] } };
  if (body.status !== 'success') throw new Error(`${expr}: ${body.error}`);
  return body.data?.result.length ?? 0;
}

const dir = mkdtempSync(join(tmpdir(), 'nft-check-dashboards-'));
const metricsPort = await freePort();
const promPort = await freePort();
const promUrl = `http://127.0.0.1:${promPort}`;
writeFileSync(
  join(dir, 'prometheus.yml'),
  `global:\n  scrape_interval: 1s\nscrape_configs:\n  - job_name: nft-train\n    static_configs:\n      - targets: ['127.0.0.1:${metricsPort}']\n`,
);
let prometheus: ChildProcess | undefined;
try {
  prometheus = spawn(
    'prometheus',
    [
      `--config.file=${join(dir, 'prometheus.yml')}`,
      `--storage.tsdb.path=${join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${promPort}`,
    ],
    { stdio: 'ignore' },
  );
  prometheus.once('error', (err) => {
    console.error(`cannot start prometheus (apt-get install -y prometheus): ${err.message}`);
    process.exit(2);
  });
  await waitFor(`${promUrl}/-/ready`, 30_000);
  console.error(`prometheus on ${promUrl}, scraping the run's metrics on :${metricsPort} every second`);

  const config = parseRunConfig({
    seed: 1,
    steps: STEPS,
    eval: { everySteps: 20, targetAccuracy: 1 },
    metricsPort,
    out: join(dir, 'run'),
  });
  let results: { panel: string; expr: string; series: number }[] = [];
  let queried: Promise<void> | undefined;
  const run = runEmbedded(config, {
    onStep: (e) => {
      if (e.step + 1 !== QUERY_AT_STEP) return;
      queried = (async () => {
        // Rates need a few scrapes of history; $__rate_interval is Grafana's, here a fixed 15 s.
        await new Promise((r) => setTimeout(r, 3000));
        results = await Promise.all(
          dashboardQueries().map(async (q) => ({
            ...q,
            series: await query(promUrl, grafanaVariables(q.expr, config.runId)),
          })),
        );
      })();
    },
  });
  await run;
  await queried;
  for (const r of results) console.log(`${String(r.series).padStart(3)}  ${r.panel}: ${r.expr}`);
  const empty = results.filter((r) => r.series === 0);
  if (results.length === 0) console.error('no queries ran: the run ended before the query step');
  console.log(
    JSON.stringify({
      queries: results.length,
      withData: results.length - empty.length,
      empty: empty.map((r) => r.expr),
    }),
  );
  process.exitCode = results.length > 0 && empty.length === 0 ? 0 : 1;
} finally {
  prometheus?.kill('SIGTERM');
  rmSync(dir, { recursive: true, force: true });
}
