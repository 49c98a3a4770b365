import type { RunContext } from './context.js';
import type { Obj } from './types.js';
import { headless, replicated } from './workloads.js';

/** The verifiers: the spec's fixed number of replicas (none when draining), and their Service. */
export function verifiers(ctx: RunContext): Obj[] {
  return [
    replicated(ctx, 'verifier', ctx.opts.drain ? 0 : ctx.spec.verifier.replicas),
    headless(ctx, 'verifier'),
  ];
}
