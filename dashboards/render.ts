import { runDashboard } from './run-dashboard.js';

/** In the chart, which ships it as a ConfigMap for Grafana's sidecar. */
export const DASHBOARD_FILE = 'charts/nft-train/dashboards/nft-run.json';

export function renderDashboard(): string {
  return `${JSON.stringify(runDashboard(), null, 2)}\n`;
}
