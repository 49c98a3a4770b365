/** Writes the run dashboard into the chart from dashboards/run-dashboard.ts; a test fails while it is out of date. */
import { writeFileSync } from 'node:fs';
import { DASHBOARD_FILE, renderDashboard } from '../dashboards/render.js';

writeFileSync(DASHBOARD_FILE, renderDashboard());
console.log(`wrote ${DASHBOARD_FILE}`);
