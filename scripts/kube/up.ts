/**
 * `npm run kube:up`: starts the local control plane (etcd, kube-apiserver, kube-controller-manager,
 * built by scripts/kube/build.sh) on loopback and leaves it running; `npm run kube:down` stops it.
 * The last line is `KUBECONFIG=<path>`, for `export $(npm run -s kube:up | tail -1)`.
 */
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { kubeRelease, startControlPlane } from '../../test/support/kube/control-plane.js';
import { stateDir } from './state.js';

const dir = stateDir();
const state = join(dir, 'state.json');
if (existsSync(state)) {
  const { kubeconfig } = JSON.parse(readFileSync(state, 'utf8')) as { kubeconfig: string };
  console.error(`a control plane is already up (npm run kube:down stops it)`);
  console.log(`KUBECONFIG=${kubeconfig}`);
  process.exit(0);
}
rmSync(dir, { recursive: true, force: true });
const cp = await startControlPlane(dir);
writeFileSync(
  state,
  JSON.stringify({ pids: cp.pids(), kubeconfig: cp.kubeconfig, server: cp.server, release: kubeRelease() }),
);
console.error(`kube-apiserver ${kubeRelease()} on ${cp.server}; logs in ${dir}`);
console.log(`KUBECONFIG=${cp.kubeconfig}`);
process.exit(0);
