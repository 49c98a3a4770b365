import { join } from 'node:path';
import { kubeRelease } from '../../test/support/kube/control-plane.js';

/** Where `kube:up` keeps the running control plane's data, logs and pids. */
export function stateDir(): string {
  const cache = process.env.XDG_CACHE_HOME ?? join(process.env.HOME ?? '/tmp', '.cache');
  return join(cache, 'nft-train', 'kube', kubeRelease(), 'up');
}
