import { isConflict, type RunResource } from '../kube/client.js';
import type { ReconcileDeps } from './contract.js';
import { failedReconcileStatus, type Observation, type RunStatus, runStatus } from './status.js';

/** Writes to the TrainingRun itself: its status and its finalizers, each safe against concurrent writers. */

export async function writeStatus(deps: ReconcileDeps, run: RunResource, o: Observation): Promise<void> {
  const previous = run.status as RunStatus | undefined;
  const next = runStatus(previous, o, deps.now?.() ?? new Date());
  if (JSON.stringify(next) === JSON.stringify(previous)) return;
  await withConflictRetry(deps, run, (r) => ({ ...r, status: next }), 'status');
}

/** Best effort: puts a refused reconcile's reason on the run (a run that is gone, or a status write that is refused too, is let be). */
export async function writeFailure(
  deps: ReconcileDeps,
  namespace: string,
  name: string,
  message: string,
): Promise<void> {
  const run = await deps.kube.getRun(namespace, name);
  if (!run) return;
  const now = deps.now?.() ?? new Date();
  await withConflictRetry(
    deps,
    run,
    (r) => ({ ...r, status: failedReconcileStatus(r.status as RunStatus | undefined, message, now) }),
    'status',
  );
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
