import type { EventStore } from '@parley/eventsourcing';
import type { Clock } from './config';
import { dueEndpoints } from './infra/presence-views';
import type { PresenceService } from './presence.service';

/** Endpoints per query; a pass takes at most 16 batches, the rest waits for the next tick. */
const BATCH = 256;

/**
 * Every `tickMs`, asks the `presence_endpoints` read model which endpoints have a deadline due
 * at the clock's now, and lets each one's decider decide (reminder, SICK, expiry). The table is
 * durable, so after a restart overdue endpoints are handled on the first tick. Replicas may
 * tick at once: the deciders and the store's optimistic concurrency make the second one a no-op.
 */
export class DeadlineScheduler {
  private timer?: NodeJS.Timeout;
  private running?: Promise<void>;

  constructor(
    private readonly store: EventStore,
    private readonly presence: PresenceService,
    private readonly clock: Clock,
    private readonly tickMs: number,
    private readonly log: (msg: string, err?: unknown) => void,
  ) {}

  start(): void {
    this.timer = setInterval(() => void this.tick(), this.tickMs);
  }

  /** One pass over what is due now; a pass already under way is joined, not doubled. */
  tick(): Promise<void> {
    this.running ??= this.pass().finally(() => (this.running = undefined));
    return this.running;
  }

  private async pass(): Promise<void> {
    try {
      for (let round = 0; round < 16; round++) {
        const due = await this.store.transaction((sql) => dueEndpoints(sql, new Date(this.clock.now()), BATCH));
        for (const key of due) {
          await this.presence.checkDeadlines(key).catch((err) => this.log(`deadline check of ${key.organizationId}/${key.userEndpointId} failed`, err));
        }
        if (due.length < BATCH) return;
      }
    } catch (err) {
      this.log('deadline scheduler pass failed', err);
    }
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.running;
  }
}
