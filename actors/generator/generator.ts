import type { Delivery } from '../../bus/bus.js';
import { streamWorkers } from '../../bus/channels.js';
import type { PolicyEvent, Task } from '../../bus/messages.js';
import type { Generation, GenerationListener, PolicyEngine, WeightLoadReport } from '../../engines/types.js';
import { withSpanFrom } from '../../telemetry/tracing.js';
import { isStuckTask } from '../../util/faults.js';
import type { GeneratorConfig } from '../config-slices.js';
import { type ActorDeps, consumerOptions, FETCH_EXPIRES_MS } from '../deps.js';
import { reportDrop } from '../outcomes.js';
import { createWorkLoop, nakAll, workLoopActors } from '../work-loop.js';
import {
  afterFailure,
  belowMinimum,
  chunkBySize,
  type FetchLimits,
  type GeneratorFact,
  type GeneratorFacts,
  type GeneratorState,
  labelVersion,
  observe,
  policyToLoad,
  requiredVersion,
  rolloutsOf,
  runOver,
  sampleParams,
  sequencesOf,
  surplusInFlight,
  tasksToFetch,
  triage,
} from './core.js';
import { InFlight } from './in-flight.js';

export { chunkBySize } from './core.js';

/**
 * A rollout worker's shell, batching continuously: it keeps its engine's decode slots full, taking
 * tasks as sequences finish (several generate calls in flight), loads the policy the core says it must
 * serve, and publishes each group's rollouts and acks its task as soon as the engine reports the group
 * done, so no group waits for a longer one. Heartbeats keep the tasks in hand from being redelivered;
 * a failure hands the unfinished ones back; a task that keeps failing is dropped as 'failed'. On STOP
 * it finishes what it has in hand.
 */

/** Tasks in flight at most with an unbounded engine: sampling many prompts at once is what makes generation fast. */
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
  const inFlight = new InFlight<Work>((config.ackWaitSeconds * 1000) / 3);
  const shell = new GeneratorShell(deps, inFlight);
  // A bounded engine gets only what it can start now: tasks it would only queue could go to another worker.
  const limits: FetchLimits = {
    capacity: policy.maxConcurrentSequences,
    groupSize: config.groupSize,
    maxTasks: FETCH_MAX,
  };
  const loop = createWorkLoop<Work, GeneratorState, GeneratorFacts, GeneratorFact>({
    state: {},
    facts,
    observe,
  });
  return {
    machine: loop.provide({
      actors: workLoopActors<Work, GeneratorState, GeneratorFacts, GeneratorFact>({
        fetch: async () => {
          const room = await inFlight.until((o) => tasksToFetch(limits, o) > 0, FETCH_EXPIRES_MS);
          return room ? consumer.fetch(tasksToFetch(limits, inFlight.occupancy), FETCH_EXPIRES_MS) : [];
        },
        process: (work, state, known) => shell.process(work, state, known),
        handBack: nakAll,
        settle: () => inFlight.drain(),
        watch: (emit) => {
          const offs = [
            bus.on('policy', (event) => emit({ type: 'policy', event })),
            bus.on('runState', (s) => {
              emit({ type: 'runState', phase: s.phase });
              if (runOver(s.phase)) inFlight.track(() => shell.dropSurplus());
            }),
          ];
          return () => {
            for (const off of offs) off();
          };
        },
      }),
    }),
  };
}

/** Carries out what the core decides for each fetch: submits the work and returns, the engine decoding on. */
class GeneratorShell {
  /** Tasks submitted whose groups the engine has not reported yet. */
  private readonly decoding = new Set<Work>();
  /** Tasks settled as surplus while still decoding: their groups are not published when they come. */
  private readonly settledEarly = new Set<Work>();
  private over = false;

  constructor(
    private readonly deps: GeneratorDeps,
    private readonly inFlight: InFlight<Work>,
  ) {}

  async process(fetched: Work[], state: GeneratorState, known: GeneratorFacts): Promise<GeneratorState> {
    const { deps } = this;
    this.inFlight.check();
    for (const t of fetched) if (t.deliveryCount > 1) deps.metrics.tasksRedelivered.inc();
    const facts = this.over ? { ...known, runDone: true } : known;
    const { stuck, surplus, work } = triage(fetched, facts, isStuckTask);
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
    for (const kind of ['train', 'eval'] as const) {
      const tasks = work.filter((t) => t.data.kind === kind);
      if (tasks.length > 0) this.submit(tasks, kind);
    }
    return next;
  }

  /** The run is done: training tasks still decoding are settled as surplus now, not awaited. */
  async dropSurplus(): Promise<void> {
    this.over = true;
    const surplus = surplusInFlight([...this.decoding]);
    for (const t of surplus) {
      this.decoding.delete(t);
      this.settledEarly.add(t);
    }
    await Promise.all(
      surplus.map(async (t) => {
        await reportDrop(this.deps, { taskId: t.data.taskId, kind: t.data.kind, reason: 'surplus' });
        await t.ack();
        this.inFlight.settle(t);
      }),
    );
  }

  /**
   * One generate call for `tasks`, left running: a sample that ends frees its slot at once, each group
   * is published and its task acked when the engine reports it done; when the call ends, groups it did
   * not report early are published, and if it failed, the tasks not yet published are handed back.
   */
  private submit(tasks: Work[], kind: 'train' | 'eval'): void {
    const { metrics, policy } = this.deps;
    const params = sampleParams(kind, tasks, this.deps.config);
    const submittedAt = policy.version;
    const publishing = new Map<number, Promise<void>>();
    // Samples of each group whose slots are free: all n once the group is done or the call is over.
    const freed = new Map<number, number>();
    const free = (i: number, upTo: number) => {
      const before = freed.get(i) ?? 0;
      if (upTo <= before) return;
      freed.set(i, upTo);
      this.inFlight.finished(upTo - before);
    };
    const listener: GenerationListener = {
      onSample: (i) => free(i, Math.min(params.n, (freed.get(i) ?? 0) + 1)),
      onGroup: (i, generation) => {
        const task = tasks[i];
        if (!task || publishing.has(i)) return;
        free(i, params.n);
        this.decoding.delete(task);
        const version = labelVersion(generation, submittedAt);
        const settled = this.settledEarly.delete(task);
        publishing.set(i, settled ? Promise.resolve() : this.publishGroup(task, generation, version, kind));
      },
    };
    for (const t of tasks) this.decoding.add(t);
    this.inFlight.start(tasks, sequencesOf(params, tasks), async () => {
      const started = performance.now();
      let failure: unknown;
      try {
        const prompts = tasks.map((t) => t.data.problem.prompt);
        const generations = await policy.generate(prompts, params, listener);
        if (generations.length !== tasks.length)
          throw new Error(`engine returned ${generations.length} generations for ${tasks.length} prompts`);
        for (const [i, g] of generations.entries()) listener.onGroup(i, g);
      } catch (err) {
        failure = err;
      }
      for (const i of tasks.keys()) free(i, params.n);
      const published = await Promise.allSettled(publishing.values());
      metrics.rolloutDuration.observe((performance.now() - started) / 1000);
      const unpublished = tasks.filter((t, i) => !publishing.has(i) && !this.settledEarly.delete(t));
      for (const t of unpublished) this.decoding.delete(t);
      if (failure !== undefined && unpublished.length > 0) await this.handBackFailed(unpublished, failure);
      // A group that could be neither published nor handed back (the bus is gone): the actor fails.
      for (const p of published) if (p.status === 'rejected') throw p.reason;
    });
  }

  /** Publishes one group and acks its task; a failure hands that task back. */
  private async publishGroup(task: Work, generation: Generation, version: number, kind: 'train' | 'eval') {
    try {
      if (belowMinimum(task.data, version))
        throw new Error(`sampled with policy version ${version}, below ${task.data.minPolicyVersion}`);
      await withSpanFrom(task.headers, 'generate', { taskId: task.data.taskId, policyVersion: version }, () =>
        this.publishRollouts(task, generation, version, kind),
      );
      await task.ack();
      this.inFlight.settle(task);
    } catch (err) {
      await this.handBackFailed([task], err);
    }
  }

  private async publishRollouts(task: Work, generation: Generation, version: number, kind: 'train' | 'eval') {
    const { bus, metrics } = this.deps;
    const rollouts = rolloutsOf(task.data, generation, version, this.deps.name);
    for (const chunk of chunkBySize(rollouts)) {
      const first = chunk[0] as (typeof chunk)[number];
      await bus.publish('rollouts', { samples: chunk }, `${first.taskId}/${first.sampleIndex}`, task.headers);
    }
    metrics.rollouts.inc({ kind }, rollouts.length);
    metrics.rolloutTokens.inc(rollouts.reduce((sum, r) => sum + r.tokens, 0));
  }

  private async handBackFailed(work: Work[], err: unknown): Promise<void> {
    this.deps.log(`${this.deps.name}: generation failed, handing ${work.length} tasks back: ${String(err)}`);
    const { drop, retry } = afterFailure(work, this.deps.config.maxDeliveries);
    try {
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
    } finally {
      for (const t of work) this.inFlight.settle(t);
    }
  }

  private async load(ref: PolicyEvent): Promise<void> {
    try {
      await this.loadOnce(ref);
    } catch (err) {
      // Announcements are broadcasts: a generator cut off from its server (a NATS server lost) misses
      // some, and the version it knows of may be gone from the store by now. The run state names the
      // latest; a newer one there is what to load.
      const latest = await this.deps.bus.getState<PolicyEvent>('policy');
      if (!latest || latest.version <= ref.version) throw err;
      this.deps.log(
        `${this.deps.name}: policy version ${ref.version} is gone; loading version ${latest.version}`,
      );
      await this.loadOnce(latest);
    }
  }

  private async loadOnce(ref: PolicyEvent): Promise<void> {
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
