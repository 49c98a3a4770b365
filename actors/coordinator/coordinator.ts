import type { Span } from '@opentelemetry/api';
import { fromPromise } from 'xstate';
import type { Delivery } from '../../bus/bus.js';
import { type StreamMessage, streamWorkers } from '../../bus/channels.js';
import type { Outcome, PolicyEvent, Progress, RunState, Task, TrainedEvent } from '../../bus/messages.js';
import { startTaskSpan } from '../../telemetry/tracing.js';
import { type ActorDeps, consumerOptions, FETCH_EXPIRES_MS } from '../deps.js';
import { TaskLedger, trainTaskId } from './accounting.js';
import { evalRoundOf } from './eval-rounds.js';
import { inFlightOf, progressMarkOf } from './in-flight.js';
import { type Context, type CoordinatorInput, coordinatorMachine } from './machine.js';
import type { ProblemSource } from './problems.js';
import { ProgressTracker } from './progress.js';
import { watchQueueDepths } from './queue-depths.js';
import { type CoordinatorSnapshot, snapshotOf } from './snapshot.js';
import { startWatchdog } from './watchdog.js';

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
        ...(stall() ? { stalled: stall() } : {}),
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
    // The last plan may have been cut short by the crash. Its tasks with an outcome need nothing; for the
    // others, their message ids make a second publish a no-op within the dedupe window, and a copy the
    // bus no longer recognises is harmless: the learner trains a task at most once.
    const settled = TaskLedger.restore(resume.ledger);
    for (let i = resume.planFrom; i < resume.nextIndex; i++) {
      const problem = source.train(i);
      if (problem && !settled.isSettled(trainTaskId(i)))
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

  const outcomes = await bus.consumer('outcomes', consumerOptions(config, streamWorkers.outcomes));
  const evalConsumer = await bus.consumer('evalScored', consumerOptions(config, streamWorkers.evalScored));
  // Dead letters are read by the coordinator, recorded whether or not it was running when they happened.
  const deadLetters = await bus.deadLetters(consumerOptions(config, 'coordinator'));
  const startedAt = Date.now();
  for (const stream of Object.keys(streamWorkers)) metrics.deadLetters.inc({ stream }, 0);
  for (const cause of ['lost', 'incomplete', 'overdue']) metrics.tasksExpired.inc({ cause }, 0);
  let stall: () => Progress['stalled'] = () => undefined;
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
        const round = evalRoundOf(o.taskId);
        if (round !== undefined) send({ type: 'EVAL_ANSWER', taskId: o.taskId, round });
        else {
          endSpan(o.taskId, o.reason);
          send({ type: 'DROPPED', taskId: o.taskId, reason: o.reason });
        }
      };
      const watchdog = startWatchdog(deps, {
        inFlight: () => inFlightOf(context()),
        progressMark: () => progressMarkOf(context()),
        expire: (taskId, cause) => send({ type: 'EXPIRED', taskId, cause }),
      });
      stall = watchdog.stall;
      const offs = [
        watchQueueDepths(deps, (pending) => track(reportProgress(context(), pending.tasks ?? 0))),
        bus.on('policy', (e) => send({ type: 'POLICY', version: e.version })),
        bus.on('runState', (s) => {
          if (s.phase === 'done') send({ type: 'RUN_DONE', reason: s.reason ?? 'done' });
        }),
        () => watchdog.stop(),
      ];
      if (runState && runState.phase !== 'running')
        send({ type: 'RUN_DONE', reason: runState.reason ?? runState.phase });
      let open = true;
      /**
       * Reads one queue until disconnected. What a fetch brings after the disconnect goes back unread: the
       * actor no longer counts events, so acknowledging them would lose them.
       */
      const loop = <T>(
        what: string,
        fetch: () => Promise<Delivery<T>[]>,
        handle: (fetched: Delivery<T>[]) => Promise<void>,
      ) =>
        keepReading(what, async () => {
          const fetched = await fetch();
          if (fetched.length === 0) return;
          if (!open) return void (await Promise.all(fetched.map((d) => d.nak())));
          await handle(fetched);
        });
      const keepReading = async (what: string, once: () => Promise<void>) => {
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
      void loop(
        'outcomes',
        () => outcomes.fetch(OUTCOMES_PER_FETCH, FETCH_EXPIRES_MS),
        async (fetched) => {
          for (const d of fetched) route(d.data);
          // Acknowledged only once the state that counts them is stored.
          await persist(snapshotOf(context()));
          await Promise.all(fetched.map((d) => d.ack()));
        },
      );
      void loop(
        'dead letters',
        () => deadLetters.fetch(64, FETCH_EXPIRES_MS),
        async (fetched) => {
          const suspects: string[] = [];
          for (const { data: letter } of fetched) {
            const tasks = letter.tasks.map((t) => t.taskId);
            deps.log(
              `coordinator: dead letter from ${letter.stream} (${letter.durable}, ${letter.reason} after ${letter.deliveries} deliveries): ${tasks.join(', ') || letter.msgId}`,
            );
            metrics.deadLetters.inc({ stream: letter.stream });
            send({ type: 'DEAD_LETTER', stream: letter.stream, beforeStart: letter.at < startedAt });
            // The coordinator's own queues: what it gave up reading is read now.
            if (letter.stream === 'outcomes' && letter.data) route(letter.data as Outcome);
            else if (letter.stream === 'evalScored' && letter.data)
              for (const s of (letter.data as StreamMessage<'evalScored'>).samples)
                send({ type: 'EVAL_ANSWER', taskId: s.taskId, round: s.evalRound ?? -1, scored: s });
            // Elsewhere the task may have moved on before its message ran out: look for it.
            else suspects.push(...tasks);
          }
          if (suspects.length > 0) await watchdog.suspect(suspects);
          await persist(snapshotOf(context()));
          await Promise.all(fetched.map((d) => d.ack()));
        },
      );
      void loop(
        'evaluation answers',
        () => evalConsumer.fetch(OUTCOMES_PER_FETCH, FETCH_EXPIRES_MS),
        async (fetched) => {
          for (const d of fetched) {
            for (const s of d.data.samples)
              send({ type: 'EVAL_ANSWER', taskId: s.taskId, round: s.evalRound ?? -1, scored: s });
            await d.ack();
          }
        },
      );
      return () => {
        open = false;
        for (const off of offs) off();
      };
    },
  };
}
