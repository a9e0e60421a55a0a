import { Inject, Injectable, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import type { NatsConnection, Subscription } from 'nats';
import { EVENTS_SUBJECT_ROOT } from '@parley/contracts';
import { NATS_CONNECTION } from './tokens';

/**
 * Wakes long-poll requests when their conference has a new event. One NATS subscription per
 * gateway (the relay's JetStream publishes reach core subscribers too), fanned out in process,
 * so thousands of waiting clients cost a map entry each, not a subscription each. Conferences
 * are keyed `<organizationId>/<conferenceId>` (tokens 3 and 4 of their events' subjects).
 */
@Injectable()
export class ConferenceEventsHub implements OnModuleInit, OnModuleDestroy {
  private readonly waiters = new Map<string, Set<() => void>>();
  private sub?: Subscription;

  constructor(@Inject(NATS_CONNECTION) private readonly nc: NatsConnection) {}

  onModuleInit(): void {
    const sub = this.nc.subscribe(`${EVENTS_SUBJECT_ROOT}.conference.>`);
    this.sub = sub;
    void (async () => {
      for await (const m of sub) {
        const tokens = m.subject.split('.');
        const key = `${tokens[3]}/${tokens[4]}`;
        const set = this.waiters.get(key);
        if (!set) continue;
        this.waiters.delete(key);
        for (const wake of set) wake();
      }
    })();
  }

  /** Resolves true at the conference's next event, false at the deadline or when `abort` fires. */
  next(organizationId: string, conferenceId: string, timeoutMs: number, abort?: AbortSignal): Promise<boolean> {
    if (abort?.aborted) return Promise.resolve(false);
    const key = `${organizationId}/${conferenceId}`;
    return new Promise((resolve) => {
      let set = this.waiters.get(key);
      if (!set) this.waiters.set(key, (set = new Set()));
      const done = (woken: boolean) => {
        clearTimeout(timer);
        abort?.removeEventListener('abort', onAbort);
        const s = this.waiters.get(key);
        s?.delete(wake);
        if (s && s.size === 0) this.waiters.delete(key);
        resolve(woken);
      };
      const wake = () => done(true);
      const onAbort = () => done(false);
      const timer = setTimeout(() => done(false), timeoutMs);
      abort?.addEventListener('abort', onAbort, { once: true });
      set.add(wake);
    });
  }

  /** Subscribed and registered with the server: events published from now on will be seen. */
  async ready(): Promise<void> {
    await this.nc.flush();
  }

  get waiting(): number {
    let n = 0;
    for (const s of this.waiters.values()) n += s.size;
    return n;
  }

  onModuleDestroy(): void {
    this.sub?.unsubscribe();
  }
}
