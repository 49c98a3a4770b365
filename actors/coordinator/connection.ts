import type { Consumer } from '../../bus/bus.js';
import { type StreamMessage, streamWorkers } from '../../bus/channels.js';
import type { Outcome, Progress, RunState } from '../../bus/messages.js';
import type { RunDeadLetter } from '../../bus/run-bus.js';
import { consumerOptions, FETCH_EXPIRES_MS } from '../deps.js';
import type { AdmissionTimer } from './admission-timer.js';
import type { Announcements } from './announcements.js';
import type { CoordinatorDeps } from './coordinator-deps.js';
import { inFlightOf, progressMarkOf } from './in-flight.js';
import type { Context, CoordinatorEvent } from './machine.js';
import { eventsOfEvalAnswers, eventsOfOutcome, readDeadLetter } from './outcome-events.js';
import type { ProgressTracker } from './progress.js';
import { watchQueueDepths } from './queue-depths.js';
import { readUntilClosed } from './queue-reader.js';
import { snapshotOf } from './snapshot.js';
import { startWatchdog } from './watchdog.js';

/**
 * The coordinator's inputs: its three queues (outcomes, evaluation answers, dead letters), the policy
 * and run-state broadcasts, the watchdog and the queue-depth sampler. Each becomes machine events; the
 * outcomes and dead letters are acknowledged only once the snapshot that counts them is stored.
 */

const OUTCOMES_PER_FETCH = 1024;
const DEAD_LETTERS_PER_FETCH = 64;
const RETRY_MS = 500;

export interface ConnectionParts {
  announcements: Announcements;
  progress: ProgressTracker;
  admission: AdmissionTimer;
  endSpan: (taskId: string, outcome: string) => void;
}

export interface Connection {
  connect(send: (event: CoordinatorEvent) => void, context: () => Context): () => void;
  reportProgress(ctx: Context, pendingTasks: number): Promise<void>;
}

export async function prepareConnection(deps: CoordinatorDeps, parts: ConnectionParts): Promise<Connection> {
  const { bus, config, metrics } = deps;
  const queues: Queues = {
    runState: await bus.getState<RunState>('runState'),
    outcomes: await bus.consumer('outcomes', consumerOptions(config, streamWorkers.outcomes)),
    evalAnswers: await bus.consumer('evalScored', consumerOptions(config, streamWorkers.evalScored)),
    // Dead letters are read by the coordinator, recorded whether or not it was running when they happened.
    deadLetters: await bus.deadLetters(consumerOptions(config, 'coordinator')),
  };
  for (const stream of Object.keys(streamWorkers)) metrics.deadLetters.inc({ stream }, 0);
  for (const cause of ['lost', 'incomplete', 'overdue']) metrics.tasksExpired.inc({ cause }, 0);
  return new CoordinatorConnection(deps, parts, queues, Date.now());
}

interface Queues {
  runState: RunState | undefined;
  outcomes: Consumer<StreamMessage<'outcomes'>>;
  evalAnswers: Consumer<StreamMessage<'evalScored'>>;
  deadLetters: Consumer<RunDeadLetter>;
}

class CoordinatorConnection implements Connection {
  private stall: () => Progress['stalled'] = () => undefined;

  constructor(
    private readonly deps: CoordinatorDeps,
    private readonly parts: ConnectionParts,
    private readonly queues: Queues,
    private readonly startedAt: number,
  ) {}

  /** The run's progress for the operator: written every few seconds and once more when the run closes. */
  reportProgress(ctx: Context, pendingTasks: number): Promise<void> {
    const stalled = this.stall();
    const { tasksDispatched, droppedByReason } = ctx.ledger.counts();
    if (tasksDispatched > 0) this.deps.metrics.filteredShare.set(droppedByReason.filtered / tasksDispatched);
    const phase = ctx.closed ? 'closed' : ctx.doneReason !== undefined ? 'done' : 'running';
    return this.deps.bus.putState(
      'progress',
      this.parts.progress.report({
        phase,
        policyVersion: ctx.version,
        steps: ctx.stats.steps,
        pendingTasks,
        admissionBlockedSeconds: this.parts.admission.seconds,
        at: Date.now(),
        ...(stalled ? { stalled } : {}),
      }),
    );
  }

  connect(send: (event: CoordinatorEvent) => void, context: () => Context): () => void {
    const { bus } = this.deps;
    const watchdog = startWatchdog(this.deps, {
      inFlight: () => inFlightOf(context()),
      progressMark: () => progressMarkOf(context()),
      expire: (taskId, cause) => send({ type: 'EXPIRED', taskId, cause }),
    });
    this.stall = watchdog.stall;
    const track = (pending: { tasks?: number }) =>
      this.parts.announcements.track(this.reportProgress(context(), pending.tasks ?? 0));
    const offs = [
      watchQueueDepths(this.deps, track),
      bus.on('policy', (e) => send({ type: 'POLICY', version: e.version })),
      bus.on('runState', (s) => {
        if (s.phase === 'done') send({ type: 'RUN_DONE', reason: s.reason ?? 'done' });
      }),
      () => watchdog.stop(),
    ];
    const { runState } = this.queues;
    if (runState && runState.phase !== 'running')
      send({ type: 'RUN_DONE', reason: runState.reason ?? runState.phase });
    let open = true;
    this.readQueues(send, context, watchdog, () => open);
    return () => {
      open = false;
      for (const off of offs) off();
    };
  }

  private route(o: Outcome, send: (event: CoordinatorEvent) => void): void {
    if (o.type === 'trained') {
      for (const taskId of o.taskIds) this.parts.endSpan(taskId, 'trained');
      this.parts.progress.trained(o);
      this.deps.onTrained?.(o);
    } else if (o.kind === 'train') this.parts.endSpan(o.taskId, o.reason);
    for (const event of eventsOfOutcome(o)) send(event);
  }

  /** Outcomes and dead letters are acknowledged once the snapshot that counts them is stored. */
  private readQueues(
    send: (event: CoordinatorEvent) => void,
    context: () => Context,
    watchdog: { suspect(taskIds: readonly string[]): Promise<void> },
    isOpen: () => boolean,
  ): void {
    const reading = { isOpen, log: this.deps.log, retryMs: RETRY_MS };
    const persistThenAck = async (fetched: { ack(): Promise<void> }[]) => {
      await this.parts.announcements.persist(snapshotOf(context()));
      await Promise.all(fetched.map((d) => d.ack()));
    };
    const { outcomes, evalAnswers, deadLetters } = this.queues;
    const fetchOutcomes = () => outcomes.fetch(OUTCOMES_PER_FETCH, FETCH_EXPIRES_MS);
    void readUntilClosed(
      'outcomes',
      fetchOutcomes,
      async (fetched) => {
        for (const d of fetched) this.route(d.data, send);
        await persistThenAck(fetched);
      },
      reading,
    );
    const fetchLetters = () => deadLetters.fetch(DEAD_LETTERS_PER_FETCH, FETCH_EXPIRES_MS);
    void readUntilClosed(
      'dead letters',
      fetchLetters,
      async (fetched) => {
        const suspects = fetched.flatMap(({ data }) => this.readDeadLetter(data, send));
        if (suspects.length > 0) await watchdog.suspect(suspects);
        await persistThenAck(fetched);
      },
      reading,
    );
    const fetchAnswers = () => evalAnswers.fetch(OUTCOMES_PER_FETCH, FETCH_EXPIRES_MS);
    void readUntilClosed(
      'evaluation answers',
      fetchAnswers,
      async (fetched) => {
        for (const d of fetched) {
          for (const event of eventsOfEvalAnswers(d.data.samples)) send(event);
          await d.ack();
        }
      },
      reading,
    );
  }

  /** Logs and counts a dead letter, sends what it means; returns the tasks to look for. */
  private readDeadLetter(letter: RunDeadLetter, send: (event: CoordinatorEvent) => void): string[] {
    const tasks = letter.tasks.map((t) => t.taskId);
    this.deps.log(
      `coordinator: dead letter from ${letter.stream} (${letter.durable}, ${letter.reason} after ${letter.deliveries} deliveries): ${tasks.join(', ') || letter.msgId}`,
    );
    this.deps.metrics.deadLetters.inc({ stream: letter.stream });
    const read = readDeadLetter(letter, this.startedAt);
    send(read.counted);
    if (read.outcome) this.route(read.outcome, send);
    for (const event of read.answers) send(event);
    return read.suspects;
  }
}
