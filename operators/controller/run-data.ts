import { runPrefixes } from '../../bus/channels.js';
import { type Progress, progressSchema } from '../../bus/messages.js';
import { NatsBus, type NatsBusOptions } from '../../bus/nats.js';

/**
 * The operator's view of a run's NATS data: the progress the coordinator reports, and deletion of
 * everything the run stored once the run is deleted. One connection per server, shared by the runs on it.
 */
export interface RunData {
  progress(runId: string, natsUrl: string): Promise<Progress | undefined>;
  remove(runId: string, natsUrl: string): Promise<{ streams: string[]; keys: number; blobs: number }>;
  close(): Promise<void>;
}

/** Connects with the operator's own credentials (user/password, token, TLS) to each run's server. */
export class NatsRunData implements RunData {
  private readonly buses = new Map<string, Promise<NatsBus>>();

  constructor(private readonly options: Omit<NatsBusOptions, 'servers'>) {}

  async progress(runId: string, natsUrl: string): Promise<Progress | undefined> {
    const raw = await (await this.bus(natsUrl)).kv.get(`${runPrefixes(runId).key}progress`);
    if (raw === undefined) return undefined;
    const parsed = progressSchema.safeParse(raw);
    if (!parsed.success)
      throw new Error(`run ${runId}: malformed progress report: ${parsed.error.issues[0]?.message}`);
    return parsed.data;
  }

  async remove(runId: string, natsUrl: string) {
    return (await this.bus(natsUrl)).purge(runPrefixes(runId));
  }

  async close(): Promise<void> {
    const buses = [...this.buses.values()];
    this.buses.clear();
    await Promise.all(buses.map((b) => b.then((bus) => bus.close()).catch(() => {})));
  }

  private bus(url: string): Promise<NatsBus> {
    let bus = this.buses.get(url);
    if (!bus) {
      bus = NatsBus.connect({
        ...this.options,
        servers: url,
        name: 'nft-train-operator',
        // The operator must not hang on an unreachable server: it reports it on the status and retries.
        retryLimitMs: 5_000,
        waitOnFirstConnect: false,
      });
      bus.catch(() => this.buses.delete(url));
      this.buses.set(url, bus);
    }
    return bus;
  }
}
