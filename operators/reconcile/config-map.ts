import { meta, type RunContext } from './context.js';
import type { Obj } from './types.js';

/** The ConfigMap with the run configuration every actor of the run reads (mounted at /etc/nft). */
export function runConfigMap(ctx: RunContext): Obj {
  return {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: meta(ctx, `${ctx.name}-config`),
    data: { 'run.json': `${JSON.stringify(ctx.config, null, 2)}\n` },
  };
}
