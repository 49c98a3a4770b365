import { type Actor, type AnyActorLogic, createActor, toPromise } from 'xstate';

/** Starts a machine and returns the actor with a promise of its end that rejects if it failed. */
export function startActor<L extends AnyActorLogic>(logic: L, input: unknown, label: string) {
  const actor = createActor(logic, { input } as never) as Actor<L>;
  const done = new Promise<void>((resolve, reject) => {
    actor.subscribe({
      complete: () => {
        const snapshot = actor.getSnapshot() as { value?: unknown; context?: { error?: string } };
        if (snapshot.value === 'failed')
          reject(new Error(`${label} failed: ${snapshot.context?.error ?? 'unknown error'}`));
        else resolve();
      },
      error: (err) => reject(new Error(`${label} crashed: ${String(err)}`)),
    });
  });
  actor.start();
  return { actor, done, result: () => toPromise(actor) };
}
