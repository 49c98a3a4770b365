import type { Span } from '@opentelemetry/api';
import { fromPromise } from 'xstate';
import type { Task } from '../../bus/messages.js';
import { startTaskSpan } from '../../telemetry/tracing.js';
import { type ActorDeps, consumerOptions, FETCH_EXPIRES_MS } from '../deps.js';
import { coordinatorMachine } from './machine.js';
import type { ProblemSource } from './problems.js';

/**
 * Wires the coordinator machine to the bus: bus events become machine events, the machine's named side
 * effects become publishes and broadcasts. One span per task, from dispatch to its outcome.
 */

export interface CoordinatorDeps extends ActorDeps {
  source: ProblemSource;
}

export async function createCoordinator(deps: CoordinatorDeps) {
  const { bus, config, metrics } = deps;
  const spans = new Map<string, Span>();
  let blockedSince: number | undefined;
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

  const machine = coordinatorMachine.provide({
    actors: {
      publishTasks: fromPromise<void, { tasks: Task[] }>(async ({ input }) => {
        if (blockedSince !== undefined) {
          metrics.admissionBlocked.inc((performance.now() - blockedSince) / 1000);
          blockedSince = undefined;
        }
        for (const task of input.tasks) {
          const { span, headers } = startTaskSpan('task', { taskId: task.taskId, kind: task.kind });
          if (task.kind === 'train') spans.set(task.taskId, span);
          else span.end();
          await bus.publish('tasks', task, task.taskId, headers);
          metrics.tasksDispatched.inc({ kind: task.kind });
        }
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
      announceClosed: (_, reason) => {
        track(bus.putState('runState', { phase: 'closed', reason }));
        track(bus.broadcast('runState', { phase: 'closed', reason }));
      },
      admissionBlocked: () => {
        blockedSince ??= performance.now();
      },
    },
  });

  const evalConsumer = await bus.consumer('evalScored', consumerOptions(config, 'coordinator'));
  return {
    machine,
    /** Waits until every announcement made so far has been sent. */
    flush: () => Promise.all([...inFlight]).then(() => {}),
    /** Forwards the run's events to a started coordinator actor until the returned function is called. */
    connect(send: (event: Parameters<typeof machine.transition>[1]) => void): () => void {
      const offs = [
        bus.on('policy', (e) => send({ type: 'POLICY', version: e.version })),
        bus.on('trained', (e) => {
          for (const taskId of e.taskIds) endSpan(taskId, 'trained');
          send({ type: 'TRAINED', event: e });
        }),
        bus.on('dropped', (e) => {
          const evalTask = /^e(\d+)-/.exec(e.taskId);
          if (evalTask) send({ type: 'EVAL_ANSWER', taskId: e.taskId, round: Number(evalTask[1]) });
          else {
            endSpan(e.taskId, e.reason);
            send({ type: 'DROPPED', taskId: e.taskId, reason: e.reason });
          }
        }),
        bus.on('runState', (s) => {
          if (s.phase === 'done') send({ type: 'RUN_DONE', reason: s.reason ?? 'done' });
        }),
        bus.onDeadLetter('tasks', (_id, task) => {
          if (task.kind === 'train') send({ type: 'DROPPED', taskId: task.taskId, reason: 'failed' });
          else send({ type: 'EVAL_ANSWER', taskId: task.taskId, round: task.evalRound ?? -1 });
        }),
      ];
      let open = true;
      void (async () => {
        while (open) {
          for (const d of await evalConsumer.fetch(1024, FETCH_EXPIRES_MS)) {
            send({
              type: 'EVAL_ANSWER',
              taskId: d.data.taskId,
              round: d.data.evalRound ?? -1,
              scored: d.data,
            });
            await d.ack();
          }
        }
      })();
      return () => {
        open = false;
        for (const off of offs) off();
      };
    },
  };
}
