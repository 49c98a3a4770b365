import { isConflict, type RunResource } from '../kube/client.js';
import type { ReconcileDeps } from './reconcile.js';
import { type Observation, type RunStatus, runStatus } from './status.js';

/** Writes to the TrainingRun itself: its status and its finalizers, each safe against concurrent writers. */

export async function writeStatus(deps: ReconcileDeps, run: RunResource, o: Observation): Promise<void> {
  const previous = run.status as RunStatus | undefined;
  const next = runStatus(previous, o, deps.now?.() ?? new Date());
  if (JSON.stringify(next) === JSON.stringify(previous)) return;
  await withConflictRetry(deps, run, (r) => ({ ...r, status: next }), 'status');
}

const CONFLICT_RETRIES = 5;

/**
 * Writes `change(run)` with the resourceVersion it was read at; when someone else wrote the run in
 * between (409 Conflict), reads it again and reapplies the change to what is there now.
 */
export async function withConflictRetry(
  deps: ReconcileDeps,
  run: RunResource,
  change: (r: RunResource) => RunResource,
  what: 'run' | 'status' = 'run',
): Promise<RunResource> {
  let current = run;
  for (let attempt = 1; ; attempt++) {
    try {
      const next = change(current);
      return what === 'status' ? await deps.kube.replaceRunStatus(next) : await deps.kube.replaceRun(next);
    } catch (err) {
      if (!isConflict(err) || attempt >= CONFLICT_RETRIES) throw err;
      deps.log(
        `${run.metadata.namespace}/${run.metadata.name}: ${what} write conflicted (attempt ${attempt}); reading it again`,
      );
      const fresh = await deps.kube.getRun(run.metadata.namespace, run.metadata.name);
      if (!fresh) throw err;
      current = fresh;
    }
  }
}

/** Rejects when `p` has not settled within `ms`: a server that does not answer is reported, not waited for. */
export function withinMs<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} within ${ms / 1000} s`)), ms);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}
