import type { Delivery } from '../../bus/bus.js';
import { streamWorkers } from '../../bus/channels.js';
import type { PolicyEvent, Rollout, Task } from '../../bus/messages.js';
import { packFloat32, packInt32 } from '../../bus/packed.js';
import type { PolicyEngine, SampleParams, WeightLoadReport } from '../../engines/types.js';
import { withSpanFrom } from '../../telemetry/tracing.js';
import { isStuckTask } from '../../util/faults.js';
import { type ActorDeps, consumerOptions, FETCH_EXPIRES_MS } from '../deps.js';
import { reportDrop } from '../outcomes.js';
import { createWorkLoop, nakAll, workLoopActors } from '../work-loop.js';

/**
 * A rollout worker: takes tasks, makes sure it serves at least the version each task was admitted at,
 * samples the group and publishes one rollout per sample. Heartbeats keep tasks it is working on from
 * being redelivered; a failure hands them back; a task that keeps failing is dropped as 'failed'.
 */

export const generatorMachine = createWorkLoop<Delivery<Task>>();

/** About half of NATS's default 1 MB message limit, leaving room for headers and a larger sample. */
const MESSAGE_BUDGET_BYTES = 512 * 1024;

/** Splits a group's rollouts into messages of at most about MESSAGE_BUDGET_BYTES each. */
export function chunkBySize(rollouts: Rollout[]): Rollout[][] {
  const chunks: Rollout[][] = [];
  let current: Rollout[] = [];
  let bytes = 0;
  for (const r of rollouts) {
    const size =
      r.tokenIds.length +
      r.logprobs.length +
      r.promptTokenIds.length +
      r.text.length +
      r.problem.prompt.length +
      512;
    if (current.length > 0 && bytes + size > MESSAGE_BUDGET_BYTES) {
      chunks.push(current);
      current = [];
      bytes = 0;
    }
    current.push(r);
    bytes += size;
  }
  if (current.length > 0) chunks.push(current);
  return chunks;
}

/** Tasks taken per fetch: sampling many prompts in one batch is what makes generation fast. */
const FETCH_MAX = 64;
/** How long to wait before retrying a task whose policy version has not been published yet. */
const VERSION_WAIT_MS = 50;

export interface GeneratorDeps extends ActorDeps {
  policy: PolicyEngine;
}

export async function createGenerator(deps: GeneratorDeps) {
  const { bus, config, metrics, policy } = deps;
  const consumer = await bus.consumer('tasks', consumerOptions(config, streamWorkers.tasks));
  let latest: PolicyEvent | undefined = await bus.getState<PolicyEvent>('policy');
  const offPolicy = bus.on('policy', (event) => {
    if (!latest || event.version > latest.version) latest = event;
  });
  let runDone = ((await bus.getState<{ phase: string }>('runState'))?.phase ?? 'running') !== 'running';
  const offRunState = bus.on('runState', (state) => {
    if (state.phase !== 'running') runDone = true;
  });

  /** Once the learner is done, training tasks still queued have no use: they are settled as surplus. */
  async function dropSurplus(work: Delivery<Task>[]): Promise<Delivery<Task>[]> {
    if (!runDone) return work;
    const keep: Delivery<Task>[] = [];
    for (const t of work) {
      if (t.data.kind !== 'train') keep.push(t);
      else {
        await reportDrop(deps, t.data.taskId, 'surplus');
        await t.ack();
      }
    }
    return keep;
  }

  // The engine's weights are unknown until it loads a version: an inference server that outlived an
  // earlier run still serves that run's weights, which must not be labelled with this run's version.
  let loadedOnce = false;
  async function catchUp(required: number): Promise<boolean> {
    if (latest && (latest.version > policy.version || !loadedOnce)) {
      await load(latest);
      loadedOnce = true;
    }
    return policy.version >= required;
  }

  async function load(ref: PolicyEvent): Promise<void> {
    const started = performance.now();
    try {
      const report = await policy.load(ref);
      const seconds = (performance.now() - started) / 1000;
      metrics.weightSyncDuration.observe(seconds);
      metrics.weightSyncs.inc({ result: 'ok' });
      if (!report) return;
      // A sync with an inference server is worth a line: the first place to look when syncs slow down.
      if (report.probeMaxAbsDiff !== undefined) metrics.weightSyncProbeDiff.set(report.probeMaxAbsDiff);
      deps.log(`${deps.name}: ${describeWeightSync(ref.version, seconds, report)}`);
    } catch (err) {
      metrics.weightSyncs.inc({ result: 'failed' });
      throw err;
    }
  }

  async function generate(tasks: Delivery<Task>[]): Promise<void> {
    const heartbeat = setInterval(
      () => void Promise.all(tasks.map((t) => t.working())),
      (config.ackWaitSeconds * 1000) / 3,
    );
    try {
      for (const kind of ['train', 'eval'] as const) {
        const group = tasks.filter((t) => t.data.kind === kind);
        if (group.length > 0) await generateKind(group, kind);
      }
    } finally {
      clearInterval(heartbeat);
    }
  }

  async function generateKind(tasks: Delivery<Task>[], kind: 'train' | 'eval'): Promise<void> {
    // Eval is greedy, one response per prompt; train samples a group at the configured temperature.
    const params: SampleParams =
      kind === 'eval'
        ? { n: 1, temperature: 0, topP: 1, maxTokens: config.sampling.maxTokens }
        : { n: tasks[0]?.data.n ?? config.groupSize, ...config.sampling };
    const started = performance.now();
    const generations = await policy.generate(
      tasks.map((t) => t.data.problem.prompt),
      params,
    );
    metrics.rolloutDuration.observe((performance.now() - started) / 1000);
    const version = policy.version;
    await Promise.all(
      tasks.map(async (task, i) => {
        const generation = generations[i];
        if (!generation)
          throw new Error(`engine returned ${generations.length} generations for ${tasks.length} prompts`);
        await withSpanFrom(
          task.headers,
          'generate',
          { taskId: task.data.taskId, policyVersion: version },
          async () => {
            const rollouts: Rollout[] = generation.samples.map((sample, sampleIndex) => ({
              taskId: task.data.taskId,
              kind,
              sampleIndex,
              groupSize: generation.samples.length,
              problem: task.data.problem,
              evalRound: task.data.evalRound,
              dataset: task.data.dataset,
              policyVersion: version,
              promptTokenIds: packInt32(generation.promptTokenIds),
              tokenIds: packInt32(sample.tokenIds),
              logprobs: packFloat32(sample.logprobs),
              tokens: sample.tokenIds.length,
              text: sample.text,
              finishReason: sample.finishReason,
              generator: deps.name,
            }));
            for (const chunk of chunkBySize(rollouts)) {
              const first = chunk[0] as Rollout;
              await bus.publish(
                'rollouts',
                { samples: chunk },
                `${first.taskId}/${first.sampleIndex}`,
                task.headers,
              );
            }
            for (const r of rollouts) {
              metrics.rollouts.inc({ kind });
              metrics.rolloutTokens.inc(r.tokens);
            }
          },
        );
        await task.ack();
      }),
    );
  }

  async function process(fetched: Delivery<Task>[]): Promise<void> {
    for (const t of fetched) if (t.deliveryCount > 1) metrics.tasksRedelivered.inc();
    // Fault injection (chaos tests): tasks this worker takes and then forgets, as a hung worker would.
    const stuck = fetched.filter((t) => isStuckTask(t.data.taskId));
    for (const t of stuck)
      deps.log(`${deps.name}: fault injected: ${t.data.taskId} stuck (delivery ${t.deliveryCount})`);
    const work = await dropSurplus(fetched.filter((t) => !stuck.includes(t)));
    if (work.length === 0) return;
    const required = Math.max(...work.map((t) => t.data.minPolicyVersion));
    if (!(await catchUp(required))) {
      // The version this work was admitted at is not published yet; it will be shortly.
      await Promise.all(work.map((t) => t.nak(VERSION_WAIT_MS)));
      return;
    }
    try {
      await generate(work);
    } catch (err) {
      deps.log(`${deps.name}: generation failed, handing ${work.length} tasks back: ${String(err)}`);
      for (const t of work) {
        if (t.deliveryCount >= config.maxDeliveries) {
          // Reported before it is terminated: a crash in between repeats the report, never loses it.
          await reportDrop(deps, t.data.taskId, 'failed', String(err));
          await t.term();
        } else await t.nak(1000);
      }
    }
  }

  // A bounded engine takes what it can decode at once: tasks it would only queue could go to another worker.
  const capacity = policy.maxConcurrentSequences;
  const tasksPerFetch = capacity ? Math.max(1, Math.floor(capacity / config.groupSize)) : FETCH_MAX;
  const machine = generatorMachine.provide({
    actors: workLoopActors({
      fetch: () => consumer.fetch(tasksPerFetch, FETCH_EXPIRES_MS),
      process,
      handBack: nakAll,
    }),
  });
  return {
    machine,
    dispose: () => {
      offPolicy();
      offRunState();
    },
  };
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
