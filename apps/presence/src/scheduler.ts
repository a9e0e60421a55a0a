import { Inject, Injectable } from '@nestjs/common';
import { KIT, type Part } from '@parley/service-kit';
import { dueEndpoints } from './infra/presence-views';
import { PresenceService } from './presence.service';
import type { PresenceKit } from './settings';

/** Endpoints per query; a pass takes at most 16 batches, the rest waits for the next tick. */
const BATCH = 256;

/**
 * Every `tickMs`, asks the `presence_endpoints` read model which endpoints have a deadline due
 * at the clock's now, and lets each one's decider decide (reminder, SICK, expiry). The table is
 * durable, so after a restart overdue endpoints are handled on the first tick. Replicas may
 * tick at once: the deciders and the store's optimistic concurrency make the second one a no-op.
 */
@Injectable()
export class DeadlineScheduler implements Part {
  private timer?: NodeJS.Timeout;
  private running?: Promise<void>;

  constructor(
    @Inject(KIT) private readonly kit: PresenceKit,
    @Inject(PresenceService) private readonly presence: PresenceService,
  ) {}

  start(): this {
    this.timer = setInterval(() => void this.tick(), this.kit.settings.tickMs);
    return this;
  }

  /** One pass over what is due now; a pass already under way is joined, not doubled. */
  tick(): Promise<void> {
    this.running ??= this.pass().finally(() => (this.running = undefined));
    return this.running;
  }

  private async pass(): Promise<void> {
    try {
      for (let round = 0; round < 16; round++) {
        const due = await dueEndpoints(this.kit.store, new Date(this.kit.clock.now()), BATCH);
        for (const key of due) {
          await this.presence.checkDeadlines(key).catch((err) => this.kit.log.warn({ err }, `deadline check of ${key.organizationId}/${key.userEndpointId} failed`));
        }
        if (due.length < BATCH) return;
      }
    } catch (err) {
      this.kit.log.warn({ err }, 'deadline scheduler pass failed');
    }
  }

  async close(): Promise<void> {
    clearInterval(this.timer);
    await this.running;
  }
}
