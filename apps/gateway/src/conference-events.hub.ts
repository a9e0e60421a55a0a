import { Inject, Injectable, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import type { NatsConnection, Subscription } from 'nats';
import { EVENTS_SUBJECT_ROOT, type RecordedConferenceEvent } from '@parley/contracts';
import { upcasterRegistry } from '@parley/service-kit';
import { NATS_CONNECTION } from './tokens';

/** What wakes a waiter: the event as the relay published it (upcast), when it could be read. */
export interface Woken {
  event?: RecordedConferenceEvent;
}

/**
 * Wakes long-poll requests when their conference has a new event, handing them the event. One
 * NATS subscription per gateway (the relay's JetStream publishes reach core subscribers too),
 * fanned out in process, so thousands of waiting clients cost a map entry each, not a
 * subscription each; each event is decoded once, and only when someone waits for it.
 * Conferences are keyed `<organizationId>/<conferenceId>` (tokens 3 and 4 of their subjects).
 */
@Injectable()
export class ConferenceEventsHub implements OnModuleInit, OnModuleDestroy {
  private readonly waiters = new Map<string, Set<(woken: Woken) => void>>();
  private readonly upcasters = upcasterRegistry();
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
        let event: RecordedConferenceEvent | undefined;
        try {
          event = this.upcasters.upcast(m.json<RecordedConferenceEvent & { schemaVersion: number; metadata: { time: string; organizationId: string; correlationId: string; causationId: string; userId: string } }>());
        } catch {
          event = undefined; // the waiters ask the conference service instead
        }
        for (const wake of set) wake({ event });
      }
    })();
  }

  /** Resolves at the conference's next event (with it), or undefined at the deadline or when `abort` fires. */
  next(organizationId: string, conferenceId: string, timeoutMs: number, abort?: AbortSignal): Promise<Woken | undefined> {
    if (abort?.aborted) return Promise.resolve(undefined);
    const key = `${organizationId}/${conferenceId}`;
    return new Promise((resolve) => {
      let set = this.waiters.get(key);
      if (!set) this.waiters.set(key, (set = new Set()));
      const done = (woken: Woken | undefined) => {
        clearTimeout(timer);
        abort?.removeEventListener('abort', onAbort);
        const s = this.waiters.get(key);
        s?.delete(wake);
        if (s && s.size === 0) this.waiters.delete(key);
        resolve(woken);
      };
      const wake = (woken: Woken) => done(woken);
      const onAbort = () => done(undefined);
      const timer = setTimeout(() => done(undefined), timeoutMs);
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
