import type { Delivery } from '../../bus/bus.js';
import { streamWorkers } from '../../bus/channels.js';
import type { PolicyEvent, Task } from '../../bus/messages.js';
import type { PolicyEngine, WeightLoadReport } from '../../engines/types.js';
import { withSpanFrom } from '../../telemetry/tracing.js';
import { isStuckTask } from '../../util/faults.js';
import type { GeneratorConfig } from '../config-slices.js';
import { type ActorDeps, consumerOptions, FETCH_EXPIRES_MS } from '../deps.js';
import { reportDrop } from '../outcomes.js';
import { createWorkLoop, nakAll, workLoopActors } from '../work-loop.js';
import {
  afterFailure,
  chunkBySize,
  type GeneratorFact,
  type GeneratorFacts,
  type GeneratorState,
  observe,
  policyToLoad,
  requiredVersion,
  rolloutsOf,
  sampleParams,
  triage,
} from './core.js';

export { chunkBySize } from './core.js';

/**
 * A rollout worker's shell: takes tasks, loads the policy the core says it must serve, samples the
 * groups and publishes one rollout per sample. Heartbeats keep tasks it is working on from being
 * redelivered; a failure hands them back; a task that keeps failing is dropped as 'failed'.
 */

/** Tasks taken per fetch: sampling many prompts in one batch is what makes generation fast. */
const FETCH_MAX = 64;
/** How long to wait before retrying a task whose policy version has not been published yet. */
const VERSION_WAIT_MS = 50;

export type GeneratorDeps = ActorDeps<GeneratorConfig> & { policy: PolicyEngine };
type Work = Delivery<Task>;

export async function createGenerator(deps: GeneratorDeps) {
  const { bus, config, policy } = deps;
  const consumer = await bus.consumer('tasks', consumerOptions(config, streamWorkers.tasks));
  const facts: GeneratorFacts = {
    runDone: ((await bus.getState<{ phase: string }>('runState'))?.phase ?? 'running') !== 'running',
  };
  const latest = await bus.getState<PolicyEvent>('policy');
  if (latest) facts.latest = latest;
  const shell = new GeneratorShell(deps);
  // A bounded engine takes what it can decode at once: tasks it would only queue could go to another worker.
  const capacity = policy.maxConcurrentSequences;
  const tasksPerFetch = capacity ? Math.max(1, Math.floor(capacity / config.groupSize)) : FETCH_MAX;
  const loop = createWorkLoop<Work, GeneratorState, GeneratorFacts, GeneratorFact>({
    state: {},
    facts,
    observe,
  });
  return {
    machine: loop.provide({
      actors: workLoopActors<Work, GeneratorState, GeneratorFacts, GeneratorFact>({
        fetch: () => consumer.fetch(tasksPerFetch, FETCH_EXPIRES_MS),
        process: (work, state, known) => shell.process(work, state, known),
        handBack: nakAll,
        watch: (emit) => {
          const offs = [
            bus.on('policy', (event) => emit({ type: 'policy', event })),
            bus.on('runState', (s) => emit({ type: 'runState', phase: s.phase })),
          ];
          return () => {
            for (const off of offs) off();
          };
        },
      }),
    }),
  };
}

/** Carries out what the core decides for one fetched batch of tasks. */
class GeneratorShell {
  constructor(private readonly deps: GeneratorDeps) {}

  async process(fetched: Work[], state: GeneratorState, known: GeneratorFacts): Promise<GeneratorState> {
    const { deps } = this;
    for (const t of fetched) if (t.deliveryCount > 1) deps.metrics.tasksRedelivered.inc();
    const { stuck, surplus, work } = triage(fetched, known, isStuckTask);
    for (const t of stuck)
      deps.log(`${deps.name}: fault injected: ${t.data.taskId} stuck (delivery ${t.deliveryCount})`);
    for (const t of surplus) {
      await reportDrop(deps, { taskId: t.data.taskId, kind: t.data.kind, reason: 'surplus' });
      await t.ack();
    }
    if (work.length === 0) return state;
    const ref = policyToLoad(known, state);
    if (ref) await this.load(ref);
    const next: GeneratorState = ref ? { loaded: deps.policy.version } : state;
    if (deps.policy.version < requiredVersion(work)) {
      // The version this work was admitted at is not published yet; it will be shortly.
      await Promise.all(work.map((t) => t.nak(VERSION_WAIT_MS)));
      return next;
    }
    try {
      await this.generate(work);
    } catch (err) {
      await this.handBackFailed(work, err);
    }
    return next;
  }

  private async handBackFailed(work: Work[], err: unknown): Promise<void> {
    this.deps.log(`${this.deps.name}: generation failed, handing ${work.length} tasks back: ${String(err)}`);
    const { drop, retry } = afterFailure(work, this.deps.config.maxDeliveries);
    for (const t of drop) {
      // Reported before it is terminated: a crash in between repeats the report, never loses it.
      await reportDrop(this.deps, {
        taskId: t.data.taskId,
        kind: t.data.kind,
        reason: 'failed',
        detail: String(err),
      });
      await t.term();
    }
    for (const t of retry) await t.nak(1000);
  }

  private async load(ref: PolicyEvent): Promise<void> {
    const { metrics } = this.deps;
    const started = performance.now();
    try {
      const report = await this.deps.policy.load(ref);
      const seconds = (performance.now() - started) / 1000;
      metrics.weightSyncDuration.observe(seconds);
      metrics.weightSyncs.inc({ result: 'ok' });
      if (!report) return;
      // A sync with an inference server is worth a line: the first place to look when syncs slow down.
      if (report.probeMaxAbsDiff !== undefined) metrics.weightSyncProbeDiff.set(report.probeMaxAbsDiff);
      this.deps.log(`${this.deps.name}: ${describeWeightSync(ref.version, seconds, report)}`);
    } catch (err) {
      metrics.weightSyncs.inc({ result: 'failed' });
      throw err;
    }
  }

  private async generate(tasks: Work[]): Promise<void> {
    const everyMs = (this.deps.config.ackWaitSeconds * 1000) / 3;
    const heartbeat = setInterval(() => void Promise.all(tasks.map((t) => t.working())), everyMs);
    try {
      for (const kind of ['train', 'eval'] as const) {
        const group = tasks.filter((t) => t.data.kind === kind);
        if (group.length > 0) await this.generateKind(group, kind);
      }
    } finally {
      clearInterval(heartbeat);
    }
  }

  private async generateKind(tasks: Work[], kind: 'train' | 'eval'): Promise<void> {
    const { bus, metrics, policy } = this.deps;
    const started = performance.now();
    const prompts = tasks.map((t) => t.data.problem.prompt);
    const generations = await policy.generate(prompts, sampleParams(kind, tasks, this.deps.config));
    metrics.rolloutDuration.observe((performance.now() - started) / 1000);
    const version = policy.version;
    if (generations.length !== tasks.length)
      throw new Error(`engine returned ${generations.length} generations for ${tasks.length} prompts`);
    await Promise.all(
      tasks.map(async (task, i) => {
        const attributes = { taskId: task.data.taskId, policyVersion: version };
        await withSpanFrom(task.headers, 'generate', attributes, async () => {
          const rollouts = rolloutsOf(
            task.data,
            generations[i] as (typeof generations)[number],
            version,
            this.deps.name,
          );
          for (const chunk of chunkBySize(rollouts)) {
            const first = chunk[0] as (typeof chunk)[number];
            await bus.publish(
              'rollouts',
              { samples: chunk },
              `${first.taskId}/${first.sampleIndex}`,
              task.headers,
            );
          }
          metrics.rollouts.inc({ kind }, rollouts.length);
          metrics.rolloutTokens.inc(rollouts.reduce((sum, r) => sum + r.tokens, 0));
        });
        await task.ack();
      }),
    );
  }
}

/** `policy version 7 loaded in 0.052 s (pause 0.001 s, reload 0.040 s, …); probe |Δ log-prob| 5.7e-6`. */
export function describeWeightSync(version: number, seconds: number, report: WeightLoadReport): string {
  const phases = Object.entries(report.phases)
    .map(([name, s]) => `${name} ${s.toFixed(3)} s`)
    .join(', ');
  const probe =
    report.probeMaxAbsDiff === undefined
      ? ''
      : `; probe |Δ log-prob| ${report.probeMaxAbsDiff.toExponential(1)}`;
  return `policy version ${version} loaded in ${seconds.toFixed(3)} s (${phases})${probe}`;
}
