import { runDashboard } from './run-dashboard.js';

export const DASHBOARD_FILE = 'dashboards/nft-run.json';

export function renderDashboard(): string {
  return `${JSON.stringify(runDashboard(), null, 2)}\n`;
}
