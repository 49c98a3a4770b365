import type { Span } from '@opentelemetry/api';
import { fromPromise } from 'xstate';
import type { Outcome, PolicyEvent, RunState, Task, TrainedEvent } from '../../bus/messages.js';
import { startTaskSpan } from '../../telemetry/tracing.js';
import { type ActorDeps, consumerOptions, FETCH_EXPIRES_MS } from '../deps.js';
import { trainTaskId } from './accounting.js';
import { type Context, type CoordinatorInput, coordinatorMachine } from './machine.js';
import type { ProblemSource } from './problems.js';
import { ProgressTracker } from './progress.js';
import { watchQueueDepths } from './queue-depths.js';
import { type CoordinatorSnapshot, snapshotOf } from './snapshot.js';

/**
 * Wires the coordinator machine to the bus: bus events become machine events, the machine's named side
 * effects become publishes and broadcasts. Its state is saved in the key-value store before tasks go out
 * and before outcomes are acknowledged, so a restarted coordinator continues the run where it was.
 * One span per task, from dispatch to its outcome.
 */

export interface CoordinatorDeps extends ActorDeps {
  source: ProblemSource;
  /** Called for each trained step as the coordinator counts it (progress output). */
  onTrained?: (event: TrainedEvent) => void;
}

const SNAPSHOT_KEY = 'coordinator';
const OUTCOMES_PER_FETCH = 1024;
const RETRY_MS = 500;

export async function createCoordinator(deps: CoordinatorDeps) {
  const { bus, config, metrics, source } = deps;
  const spans = new Map<string, Span>();
  let blockedSince: number | undefined;
  let blockedSeconds = 0;
  const progress = new ProgressTracker();
  const endSpan = (taskId: string, outcome: string) => {
    spans.get(taskId)?.setAttribute('outcome', outcome).end();
    spans.delete(taskId);
  };
  metrics.maxStaleness.set(config.maxStaleness);
  // Announcements are fire-and-forget for the machine, but must be out before the bus closes.
  const inFlight = new Set<Promise<unknown>>();
  const track = (p: Promise<unknown>) => {
    const settled = p.catch((err) => deps.log(`coordinator: an announcement failed: ${String(err)}`));
    inFlight.add(settled);
    void settled.finally(() => inFlight.delete(settled));
  };
  // Snapshots are written one at a time, in the order they were taken: the store never goes back.
  let saving: Promise<void> = Promise.resolve();
  const persist = (snapshot: CoordinatorSnapshot): Promise<void> => {
    saving = saving.catch(() => {}).then(() => bus.putState(SNAPSHOT_KEY, snapshot));
    return saving;
  };

  const machine = coordinatorMachine.provide({
    actors: {
      publishTasks: fromPromise<void, { tasks: Task[]; snapshot: CoordinatorSnapshot }>(async ({ input }) => {
        if (blockedSince !== undefined) {
          const seconds = (performance.now() - blockedSince) / 1000;
          metrics.admissionBlocked.inc(seconds);
          blockedSeconds += seconds;
          blockedSince = undefined;
        }
        await persist(input.snapshot);
        // All at once: tasks published one ack at a time reach the generators a few at a time, and a
        // generator that started on the first few takes no more until that batch is done.
        await Promise.all(input.tasks.map(publishTask));
      }),
    },
    actions: {
      announceEval: (_, result) => {
        metrics.evalAccuracy.set({ dataset: result.dataset }, result.accuracy);
        track(bus.broadcast('evaluated', result));
      },
      announceDone: (_, reason) => {
        track(bus.putState('runState', { phase: 'done', reason }));
        track(bus.broadcast('runState', { phase: 'done', reason }));
      },
      announceClosed: ({ context }, reason) => {
        track(
          persist(snapshotOf(context)).then(async () => {
            await bus.putState('runState', { phase: 'closed', reason });
            await bus.broadcast('runState', { phase: 'closed', reason });
            await reportProgress(context, 0);
          }),
        );
      },
      admissionBlocked: () => {
        blockedSince ??= performance.now();
      },
    },
  });

  /** The run's progress for the operator: written every few seconds and once more when the run closes. */
  function reportProgress(ctx: Context, pendingTasks: number): Promise<void> {
    const blockedNow = blockedSince === undefined ? 0 : (performance.now() - blockedSince) / 1000;
    return bus.putState(
      'progress',
      progress.report({
        phase: ctx.closed ? 'closed' : ctx.doneReason !== undefined ? 'done' : 'running',
        policyVersion: ctx.version,
        steps: ctx.stats.steps,
        pendingTasks,
        admissionBlockedSeconds: blockedSeconds + blockedNow,
        at: Date.now(),
      }),
    );
  }

  async function publishTask(task: Task): Promise<void> {
    const { span, headers } = startTaskSpan('task', { taskId: task.taskId, kind: task.kind });
    if (task.kind === 'train') spans.set(task.taskId, span);
    else span.end();
    await bus.publish('tasks', task, task.taskId, headers);
    metrics.tasksDispatched.inc({ kind: task.kind });
  }

  const resume = await bus.getState<CoordinatorSnapshot>(SNAPSHOT_KEY);
  const input: CoordinatorInput = {
    config,
    source,
    version: (await bus.getState<PolicyEvent>('policy'))?.version ?? 0,
    ...(resume ? { resume } : {}),
  };
  if (resume) {
    deps.log(
      `coordinator: resuming at policy version ${resume.version} with ${resume.nextIndex} tasks dispatched`,
    );
    // The last plan may have been cut short by the crash; its message ids make a second publish a no-op.
    for (let i = resume.planFrom; i < resume.nextIndex; i++) {
      const problem = source.train(i);
      if (problem)
        await publishTask({
          taskId: trainTaskId(i),
          kind: 'train',
          problem,
          n: config.groupSize,
          minPolicyVersion: resume.version,
        });
    }
  }
  const runState = await bus.getState<RunState>('runState');

  const outcomes = await bus.consumer('outcomes', consumerOptions(config, 'coordinator'));
  const evalConsumer = await bus.consumer('evalScored', consumerOptions(config, 'coordinator'));
  return {
    machine,
    input,
    /** Waits until every announcement made so far has been sent. */
    flush: () => Promise.all([...inFlight, saving]).then(() => {}),
    /** Forwards the run's events to a started coordinator actor until the returned function is called. */
    connect(
      send: (event: Parameters<typeof machine.transition>[1]) => void,
      context: () => Context,
    ): () => void {
      const route = (o: Outcome) => {
        if (o.type === 'trained') {
          for (const taskId of o.taskIds) endSpan(taskId, 'trained');
          send({ type: 'TRAINED', event: o });
          progress.trained(o);
          deps.onTrained?.(o);
          return;
        }
        const evalTask = /^e(\d+)-/.exec(o.taskId);
        if (evalTask) send({ type: 'EVAL_ANSWER', taskId: o.taskId, round: Number(evalTask[1]) });
        else {
          endSpan(o.taskId, o.reason);
          send({ type: 'DROPPED', taskId: o.taskId, reason: o.reason });
        }
      };
      const offs = [
        watchQueueDepths(deps, (pending) => track(reportProgress(context(), pending.tasks ?? 0))),
        bus.on('policy', (e) => send({ type: 'POLICY', version: e.version })),
        bus.on('runState', (s) => {
          if (s.phase === 'done') send({ type: 'RUN_DONE', reason: s.reason ?? 'done' });
        }),
        bus.onDeadLetter('tasks', (_id, task) => {
          if (task.kind === 'train') send({ type: 'DROPPED', taskId: task.taskId, reason: 'failed' });
          else send({ type: 'EVAL_ANSWER', taskId: task.taskId, round: task.evalRound ?? -1 });
        }),
      ];
      if (runState && runState.phase !== 'running')
        send({ type: 'RUN_DONE', reason: runState.reason ?? runState.phase });
      let open = true;
      const loop = async (what: string, once: () => Promise<void>) => {
        while (open) {
          try {
            await once();
          } catch (err) {
            if (!open) return;
            deps.log(`coordinator: reading ${what} failed, retrying: ${String(err)}`);
            await new Promise((resolve) => setTimeout(resolve, RETRY_MS));
          }
        }
      };
      void loop('outcomes', async () => {
        const fetched = await outcomes.fetch(OUTCOMES_PER_FETCH, FETCH_EXPIRES_MS);
        if (fetched.length === 0) return;
        for (const d of fetched) route(d.data);
        // Acknowledged only once the state that counts them is stored.
        await persist(snapshotOf(context()));
        await Promise.all(fetched.map((d) => d.ack()));
      });
      void loop('evaluation answers', async () => {
        for (const d of await evalConsumer.fetch(OUTCOMES_PER_FETCH, FETCH_EXPIRES_MS)) {
          for (const s of d.data.samples)
            send({ type: 'EVAL_ANSWER', taskId: s.taskId, round: s.evalRound ?? -1, scored: s });
          await d.ack();
        }
      });
      return () => {
        open = false;
        for (const off of offs) off();
      };
    },
  };
}
