import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { DASHBOARD_FILE, renderDashboard } from '../../../dashboards/render.js';
import { dashboardQueries, runDashboard } from '../../../dashboards/run-dashboard.js';
import { createMetrics } from '../../../telemetry/metrics.js';

describe('run dashboard', () => {
  it('is generated from telemetry/, and the checked-in JSON is the generated one', () => {
    expect(readFileSync(DASHBOARD_FILE, 'utf8'), 'out of date: run `npm run gen:dashboards`').toBe(
      renderDashboard(),
    );
  });

  it('queries only metrics that telemetry/ defines', async () => {
    const defined = new Set((await createMetrics().registry.getMetricsAsJSON()).map((m) => m.name));
    const used = new Set(
      dashboardQueries().flatMap(({ expr }) =>
        [...expr.matchAll(/\bnft_[a-z_]+/g)].map((m) => m[0].replace(/_(bucket|sum|count)$/, '')),
      ),
    );
    expect(used.size).toBeGreaterThan(15);
    for (const name of used)
      expect(defined, `${name} is not defined in telemetry/metrics.ts`).toContain(name);
  });

  it('shows one run at a time: every series is filtered by the run and namespace variables', () => {
    const d = runDashboard();
    expect(d.templating.list.map((v) => v.name)).toEqual(['datasource', 'namespace', 'run']);
    const selectors = dashboardQueries().flatMap(({ expr }) => [
      ...expr.matchAll(/\b(nft_[a-z_]+|process_[a-z_]+|nodejs_[a-z0-9_]+)(\{[^}]*\})?/g),
    ]);
    expect(selectors.length).toBeGreaterThan(30);
    for (const [whole, , labels] of selectors)
      expect(labels, `${whole} is not filtered by run and namespace`).toMatch(
        /^\{run=~"\$run", namespace=~"\$namespace"/,
      );
  });

  it('keeps one unit per panel, and names ratios _ratio', async () => {
    for (const p of runDashboard().panels) {
      const units = new Set(p.targets.map((t) => unitOf(t.expr)));
      expect(units.size, `${p.title} mixes ${[...units].join(' and ')}`).toBe(1);
    }
    const gauges = (await createMetrics().registry.getMetricsAsJSON()).filter((m) =>
      /accuracy|share|fraction/.test(m.name),
    );
    for (const g of gauges) expect(g.name).toMatch(/_ratio$/);
  });

  it('covers what an operator of a run looks at, through a datasource variable', () => {
    const d = runDashboard();
    expect(d.templating.list.map((v) => v.name)).toContain('datasource');
    // biome-ignore lint/suspicious/noTemplateCurlyInString: Grafana's variable syntax.
    for (const p of d.panels) expect(p.datasource.uid).toBe('${datasource}');
    const titles = d.panels.map((p) => p.title).join(' | ');
    for (const topic of [
      'Accuracy',
      'Staleness',
      'Rollouts',
      'Queue',
      'Learner step',
      'Rollout workers',
      'Dropped',
      'Loss',
      'Gradient',
    ])
      expect(titles).toContain(topic);
    const exprs = dashboardQueries()
      .map((q) => q.expr)
      .join('\n');
    expect(exprs).toContain('nft_max_staleness');
    expect(exprs).toMatch(/histogram_quantile\(0\.95, sum by \(le\) \(rate\(nft_sample_staleness_bucket/);
  });
});

/** The unit a query's result is in, from what it measures: enough to tell panels that mix units. */
function unitOf(expr: string): string {
  if (/staleness/.test(expr)) return 'policy versions';
  if (/rate\(nft_(learner_idle|admission_blocked)/.test(expr)) return 'share of time';
  if (/_bucket|_seconds/.test(expr)) return 'seconds';
  if (/_ratio/.test(expr)) return 'ratio';
  if (/_bytes/.test(expr)) return 'bytes';
  if (/rate\(|increase\(/.test(expr)) return 'per second';
  return 'count';
}
