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
