/**
 * `npm run check:kube`: the real-API checks (test/e2e/kube-real.test.ts against kube-apiserver, etcd
 * and kube-controller-manager built by `npm run kube:build`), then one JSON line last: kubeVersion,
 * crdInstalled, badSpecsRejected, reconciled, garbageCollected, podsRun, rolloutReplicas, lost, rbac.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const file = join(mkdtempSync(join(tmpdir(), 'nft-check-kube-')), 'report.json');
const r = spawnSync('npx', ['vitest', 'run', 'test/e2e/kube-real.test.ts'], {
  stdio: 'inherit',
  env: { ...process.env, CI: 'true', KUBE_REPORT: file },
});
const report = existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>) : {};
console.log(JSON.stringify({ ...report, testsPassed: r.status === 0 }));
process.exit(r.status ?? 1);
