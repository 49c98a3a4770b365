import type { Delivery } from '../../bus/bus.js';
import { streamWorkers } from '../../bus/channels.js';
import type { Rollout, Scored } from '../../bus/messages.js';
import { type VerifyMode, verify } from '../../math/index.js';
import { withSpanFrom } from '../../telemetry/tracing.js';
import type { VerifierConfig } from '../config-slices.js';
import { type ActorDeps, consumerOptions, FETCH_EXPIRES_MS } from '../deps.js';
import { createWorkLoop, nakAll, STATELESS, workLoopActors } from '../work-loop.js';

/** Scores rollouts with the rule-based math verifier; train samples go to the buffer, eval samples back to the coordinator. */

const FETCH_MAX = 64;

type Work = Delivery<{ samples: Rollout[] }>;

export const verifierMachine = createWorkLoop<Work, null, null, never>(STATELESS);

/** DAPO-style prompts ask for an `Answer:` line, which the default mode reads; strict-box is opt-in per dataset. */
export function score(rollout: Rollout, mode: VerifyMode = 'default', budgetMs?: number): Scored {
  const result = verify(rollout.text, rollout.problem.answer, { mode, budgetMs });
  return {
    ...rollout,
    reward: result.correct ? 1 : 0,
    correct: result.correct,
    extracted: result.extracted,
    reason: result.reason,
  };
}

/** The mode for a data source: strict-box where the configuration lists it (exactly, or by a `prefix*`). */
export function modeFor(dataSource: string, strictBoxSources: readonly string[]): VerifyMode {
  const strict = strictBoxSources.some((s) =>
    s.endsWith('*') ? dataSource.startsWith(s.slice(0, -1)) : dataSource === s,
  );
  return strict ? 'strict-box' : 'default';
}

export async function createVerifier(deps: ActorDeps<VerifierConfig>) {
  const { bus, metrics } = deps;
  const { strictBoxSources, budgetMs } = deps.config.verify;
  const consumer = await bus.consumer('rollouts', consumerOptions(deps.config, streamWorkers.rollouts));
  const scoreTimed = (rollout: Rollout): Scored => {
    const started = performance.now();
    const s = score(rollout, modeFor(rollout.problem.dataSource, strictBoxSources), budgetMs);
    metrics.verifyDuration.observe((performance.now() - started) / 1000);
    metrics.verifications.inc({
      result: s.extracted === null ? 'unparseable' : s.correct ? 'correct' : 'incorrect',
    });
    return s;
  };
  return verifierMachine.provide({
    actors: workLoopActors<Work, null, null, never>({
      fetch: () => consumer.fetch(FETCH_MAX, FETCH_EXPIRES_MS),
      handBack: nakAll,
      process: async (work) => {
        for (const d of work) {
          const first = d.data.samples[0] as Rollout;
          const scored = await withSpanFrom(d.headers, 'verify', { taskId: first.taskId }, async () =>
            d.data.samples.map(scoreTimed),
          );
          const stream = first.kind === 'eval' ? 'evalScored' : 'scored';
          await bus.publish(stream, { samples: scored }, `${first.taskId}/${first.sampleIndex}`, d.headers);
          await d.ack();
        }
        return null;
      },
    }),
  });
}
