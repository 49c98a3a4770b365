import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ActorDeps } from '../actors/deps.js';
import { NatsBus } from '../bus/nats.js';
import { RunBus } from '../bus/run-bus.js';
import { ConfigError } from '../config/parse-run-config.js';
import type { RunConfig } from '../config/run-config.js';
import { createEngines } from '../runtime/engines.js';
import { openProblemSource } from '../runtime/problem-source.js';
import { actorName, ROLES, type Role, startCoordinator, startWorker } from '../runtime/roles.js';
import { summariseCoordinator } from '../runtime/summary.js';
import { createMetrics } from '../telemetry/metrics.js';
import { serveMetrics } from '../telemetry/server.js';
import { buildConfig } from './config-input.js';
import { natsConnection, natsOptions, redactServers } from './nats-connection.js';
import { type CommandSpec, convert, parseCommand } from './options.js';
import { runConfigOptions } from './run-flags.js';

export const actorSpec = {
  command: 'nft-train actor',
  summary: 'run one actor of a run as its own process, over NATS JetStream',
  args: `<${ROLES.join('|')}>`,
  about: `Every actor of run ID finds the others through the server: start one coordinator, one learner, one
buffer, and as many verifiers and generators as you like (each with its own --index). Workers exit
once the coordinator has accounted for every task (run state 'closed'), or on SIGTERM/SIGINT after
finishing or handing back the work in hand. The coordinator writes OUT/summary.json and prints the
summary as one JSON line last.`,
  options: {
    nats: {
      type: 'string',
      value: 'URL',
      env: 'NATS_URL',
      required: 'the actors meet on a NATS server',
      help: 'NATS server(s), comma-separated',
    },
    run: {
      type: 'string',
      value: 'ID',
      required: 'every actor of a run uses the same id',
      help: "the run's id (overrides runId in the config file)",
    },
    config: {
      type: 'string',
      value: 'FILE',
      help: 'run configuration, YAML or JSON; every actor of a run needs the same one',
    },
    index: {
      type: 'string',
      value: 'N',
      default: '0',
      help: "replica number of a generator or verifier; 'ordinal' takes it from the host name's trailing -N (a StatefulSet pod's ordinal)",
    },
    ...natsOptions,
    'metrics-port': {
      ...runConfigOptions['metrics-port'],
      defaultText: 'none',
      help: 'serve Prometheus metrics on this port (0 = any free)',
    },
  },
  notes: `Credentials are never logged.

Exit codes: 0 the run is closed (the coordinator: it closed it and wrote the summary); 143 (SIGTERM)
or 130 (SIGINT) stopped on request after finishing or handing back the work in hand — the coordinator
keeps its state in the key-value store and a new one resumes from it; 1 an error; 2 bad usage.`,
} as const satisfies CommandSpec;

const CONNECT_NOTICE_MS = 10_000;

export async function actorCommand(argv: string[]): Promise<number> {
  // First of all: a stop asked for while the actor is still starting must not kill it mid-way.
  const signalled = onStopSignal();
  try {
    return await actor(argv, signalled);
  } finally {
    signalled.dispose();
  }
}

async function actor(argv: string[], signalled: StopSignal): Promise<number> {
  const args = parseCommand(actorSpec, argv);
  if (!args) return 0;
  const { values, positionals } = args;
  const role = positionals[0] as Role | undefined;
  if (!role || !(ROLES as readonly string[]).includes(role) || positionals.length > 1)
    throw new ConfigError(
      `expected one role, one of ${ROLES.join(', ')}; got ${JSON.stringify(positionals)}`,
    );
  const servers = values.nats;
  const metricsPort = values['metrics-port'];
  const config = buildConfig(values.config, {
    runId: values.run,
    metrics: metricsPort !== undefined,
    metricsPort,
  });
  const index =
    values.index === 'ordinal'
      ? hostOrdinal()
      : (convert('--index', { type: 'integer', min: 0, help: '' }, values.index) as number);
  const name = actorName(role, index);
  const log = (line: string) => process.stderr.write(`[${name}] ${line}\n`);

  // The client waits for a server that is down (it may be restarting); say so rather than hang quietly.
  const waiting = setInterval(
    () =>
      log(
        `still waiting for NATS at ${redactServers(servers)} (is the server up? are the URL, credentials and TLS CA right?)`,
      ),
    CONNECT_NOTICE_MS,
  );
  const transport = await NatsBus.connect({
    ...natsConnection(servers, values, `nft-${config.runId}-${name}`),
    replicas: config.natsReplicas,
  }).finally(() => clearInterval(waiting));
  log(`connected to NATS at ${servers.split(',').length} server(s) for run ${config.runId}`);
  const bus = new RunBus(transport, config.runId);
  const metrics = createMetrics(undefined, { run: config.runId });
  const server = config.metrics ? await serveMetrics(metrics.registry, config.metricsPort) : undefined;
  const deps = (n: string): ActorDeps<RunConfig> => ({ bus, config, metrics, log, name: n });
  try {
    if (role === 'coordinator') await coordinate(deps('coordinator'), log, signalled);
    else await work(role, index, deps, log, signalled);
    return signalled.code() ?? 0;
  } finally {
    await bus.bus.close();
    server?.close();
  }
}

/** SIGTERM and SIGINT ask for a clean stop; the process then exits 128 + the signal's number. */
function onStopSignal() {
  let code: number | undefined;
  const listeners = new Set<(signal: string) => void>();
  const handle = (signal: NodeJS.Signals) => {
    if (code !== undefined) return;
    code = signal === 'SIGINT' ? 130 : 143;
    // Before the actor has started there is no work in hand to finish or hand back.
    if (listeners.size === 0) process.exit(code);
    for (const l of listeners) l(signal);
  };
  process.on('SIGTERM', handle);
  process.on('SIGINT', handle);
  return {
    code: () => code,
    /** Calls `listener` once a stop is asked for (at once if it already was). */
    onStop(listener: (signal: string) => void): void {
      if (code !== undefined) listener(code === 130 ? 'SIGINT' : 'SIGTERM');
      else listeners.add(listener);
    },
    dispose: () => {
      process.off('SIGTERM', handle);
      process.off('SIGINT', handle);
    },
  };
}

type StopSignal = ReturnType<typeof onStopSignal>;

async function coordinate(
  deps: ActorDeps<RunConfig>,
  log: (line: string) => void,
  signalled: StopSignal,
): Promise<void> {
  const { bus, config } = deps;
  const source = await openProblemSource(config, log);
  const offEval = bus.on('evaluated', (e) =>
    log(`held-out accuracy ${e.accuracy.toFixed(3)} at policy version ${e.policyVersion}`),
  );
  const coord = await startCoordinator(deps, source);
  const stopped = new Promise<void>((resolve) =>
    signalled.onStop((signal) => {
      log(`stopping on ${signal}: the run's state stays in the key-value store for the next coordinator`);
      resolve();
    }),
  );
  await Promise.race([coord.done, stopped]);
  coord.disconnect();
  await coord.flush();
  offEval();
  if (signalled.code() !== undefined) return;
  const summary = summariseCoordinator(config, coord.actor.getSnapshot().context, source.heldOut.length);
  mkdirSync(config.out, { recursive: true });
  writeFileSync(join(config.out, 'summary.json'), `${JSON.stringify(summary, null, 2)}\n`);
  console.log(JSON.stringify(summary));
}

async function work(
  role: Exclude<Role, 'coordinator'>,
  index: number,
  deps: (name: string) => ActorDeps<RunConfig>,
  log: (line: string) => void,
  signalled: StopSignal,
): Promise<void> {
  const { bus, config } = deps('probe');
  const engines = await createEngines(config, bus.blobs, log);
  const worker = await startWorker(role, index, deps, engines);
  let stopping = false;
  const stop = (why: string) => {
    if (stopping) return;
    stopping = true;
    log(`stopping: ${why}`);
    worker.stop();
  };
  const offRunState = bus.on('runState', (s) => {
    if (s.phase === 'closed') stop('the run is closed');
  });
  if ((await bus.getState<{ phase: string }>('runState'))?.phase === 'closed') stop('the run is closed');
  signalled.onStop(stop);
  try {
    await worker.done;
  } finally {
    offRunState();
    worker.dispose();
    engines.dispose();
  }
}

/** A StatefulSet pod is named <set>-<ordinal>, and so is its host. */
function hostOrdinal(host = process.env.HOSTNAME ?? ''): number {
  const match = /-(\d+)$/.exec(host);
  if (!match)
    throw new ConfigError(`--index ordinal: the host name ${JSON.stringify(host)} does not end in -<number>`);
  return Number(match[1]);
}
