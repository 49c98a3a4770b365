import type { Span } from '@opentelemetry/api';
import { fromPromise } from 'xstate';
import type { Task } from '../../bus/messages.js';
import { trainTaskId } from '../../bus/task-ids.js';
import { startTaskSpan } from '../../telemetry/tracing.js';
import { AdmissionTimer } from './admission-timer.js';
import { Announcements } from './announcements.js';
import { type Connection, prepareConnection } from './connection.js';
import type { CoordinatorDeps } from './coordinator-deps.js';
import { type Context, type CoordinatorEvent, type CoordinatorInput, coordinatorMachine } from './machine.js';
import { ProgressTracker } from './progress.js';
import { sourceIndexOf } from './prompt-selection.js';
import { type CoordinatorSnapshot, resumeFrom, snapshotOf } from './snapshot.js';

/**
 * Wires the coordinator machine to the bus: the machine's named side effects become publishes and
 * broadcasts, and `connect` turns the bus's events into machine events. Its state is saved in the
 * key-value store before tasks go out and before outcomes are acknowledged, so a restarted coordinator
 * continues the run where it was. One span per task, from dispatch to its outcome.
 */

export type { CoordinatorDeps } from './coordinator-deps.js';

export async function createCoordinator(deps: CoordinatorDeps) {
  const { bus, config, metrics } = deps;
  const spans = new Map<string, Span>();
  const admission = new AdmissionTimer();
  const progress = new ProgressTracker();
  const announcements = new Announcements(bus, deps.log);
  metrics.maxStaleness.set(config.maxStaleness);
  const resume = await Announcements.readSnapshot(bus);
  const countSkips = skipCounter(deps, resume);

  async function publishTask(task: Task): Promise<void> {
    const { span, headers } = startTaskSpan('task', { taskId: task.taskId, kind: task.kind });
    if (task.kind === 'train') spans.set(task.taskId, span);
    else span.end();
    await bus.publish('tasks', task, task.taskId, headers);
    metrics.tasksDispatched.inc({ kind: task.kind });
  }

  const machine = coordinatorMachine.provide({
    actors: {
      publishTasks: fromPromise<void, { tasks: Task[]; snapshot: CoordinatorSnapshot }>(async ({ input }) => {
        metrics.admissionBlocked.inc(admission.released());
        countSkips(input.snapshot);
        await announcements.persist(input.snapshot);
        // All at once: tasks published one ack at a time reach the generators a few at a time, and a
        // generator that started on the first few takes no more until that batch is done.
        await Promise.all(input.tasks.map(publishTask));
      }),
    },
    actions: {
      announceEval: (_, result) => {
        metrics.evalAccuracy.set({ dataset: result.dataset }, result.accuracy);
        announcements.track(bus.broadcast('evaluated', result));
      },
      announceDone: (_, reason) => {
        announcements.track(bus.putState('runState', { phase: 'done', reason }));
        announcements.track(bus.broadcast('runState', { phase: 'done', reason }));
      },
      announceClosed: ({ context }, reason) => {
        announcements.track(
          announcements.persist(snapshotOf(context)).then(async () => {
            await bus.putState('runState', { phase: 'closed', reason });
            await bus.broadcast('runState', { phase: 'closed', reason });
            await host.reportProgress(context, 0);
          }),
        );
      },
      admissionBlocked: () => admission.blocked(),
    },
  });

  const input: CoordinatorInput = {
    config,
    source: deps.source,
    version: (await bus.getState<{ version: number }>('policy'))?.version ?? 0,
    ...(resume ? { resume } : {}),
  };
  if (resume) await republishLastPlan(deps, resume, publishTask);

  const host: Connection = await prepareConnection(deps, {
    announcements,
    progress,
    admission,
    endSpan: (taskId, outcome) => {
      spans.get(taskId)?.setAttribute('outcome', outcome).end();
      spans.delete(taskId);
    },
  });
  return {
    machine,
    input,
    /** Waits until every announcement made so far has been sent. */
    flush: () => announcements.flush(),
    /** Forwards the run's events to a started coordinator actor until the returned function is called. */
    connect: (send: (event: CoordinatorEvent) => void, context: () => Context): (() => void) =>
      host.connect(send, context),
  };
}

/** Counts the prompts skipped since the last snapshot, from where the stored state left off. */
function skipCounter(deps: CoordinatorDeps, resume: CoordinatorSnapshot | undefined) {
  let counted = resume?.selection?.skipped ?? 0;
  return (snapshot: CoordinatorSnapshot) => {
    const skipped = snapshot.selection?.skipped ?? counted;
    if (skipped > counted) deps.metrics.promptsSkipped.inc(skipped - counted);
    counted = Math.max(counted, skipped);
  };
}

/**
 * The last plan may have been cut short by the crash. Its tasks with an outcome need nothing; for the
 * others, their message ids make a second publish a no-op within the dedupe window, and a copy the bus
 * no longer recognises is harmless: the learner trains a task at most once.
 */
async function republishLastPlan(
  deps: CoordinatorDeps,
  resume: CoordinatorSnapshot,
  publishTask: (task: Task) => Promise<void>,
): Promise<void> {
  deps.log(
    `coordinator: resuming at policy version ${resume.version} with ${resume.nextIndex} tasks dispatched`,
  );
  const { ledger, selection } = resumeFrom(resume);
  for (let i = resume.planFrom; i < resume.nextIndex; i++) {
    // The problem the task was made of, which prompt selection may have taken from further on.
    const problem = deps.source.train(sourceIndexOf(selection, i));
    if (problem && !ledger.isSettled(trainTaskId(i)))
      await publishTask({
        taskId: trainTaskId(i),
        kind: 'train',
        problem,
        n: deps.config.groupSize,
        minPolicyVersion: resume.version,
      });
  }
}
