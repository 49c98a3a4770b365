import type { RunBus } from '../../bus/run-bus.js';
import type { CoordinatorSnapshot } from './snapshot.js';

const SNAPSHOT_KEY = 'coordinator';

/**
 * The coordinator's writes that nobody waits for, and its snapshot writes: announcements are
 * fire-and-forget for the machine but must be out before the bus closes; snapshots are written one at a
 * time, in the order they were taken, so the store never goes back.
 */
export class Announcements {
  private readonly inFlight = new Set<Promise<unknown>>();
  private saving: Promise<void> = Promise.resolve();

  constructor(
    private readonly bus: RunBus,
    private readonly log: (line: string) => void,
  ) {}

  static readSnapshot(bus: RunBus): Promise<CoordinatorSnapshot | undefined> {
    return bus.getState<CoordinatorSnapshot>(SNAPSHOT_KEY);
  }

  track(p: Promise<unknown>): void {
    const settled = p.catch((err) => this.log(`coordinator: an announcement failed: ${String(err)}`));
    this.inFlight.add(settled);
    void settled.finally(() => this.inFlight.delete(settled));
  }

  persist(snapshot: CoordinatorSnapshot): Promise<void> {
    this.saving = this.saving.catch(() => {}).then(() => this.bus.putState(SNAPSHOT_KEY, snapshot));
    return this.saving;
  }

  /** Waits until every announcement made so far has been sent and every snapshot written. */
  flush(): Promise<void> {
    return Promise.all([...this.inFlight, this.saving]).then(() => {});
  }
}
