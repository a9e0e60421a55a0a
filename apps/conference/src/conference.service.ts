import { randomUUID } from 'node:crypto';
import { Inject, Injectable, Logger } from '@nestjs/common';
import {
  type Conference,
  type ConferenceDomainEvent,
  type ConferenceEvent,
  type ConferenceSimpleView,
  ParleyError,
  type RequestContext,
  conferenceStreamId,
  toFeedEvent,
} from '@parley/contracts';
import { ConcurrencyError, type EventStore, type NewEvent } from '@parley/eventsourcing';
import type { ConferenceCommand } from './domain/commands';
import { decide, evolve, guards } from './domain/decider';
import { type ConferenceState, initialState } from './domain/state';
import { toConferenceView, toSimpleView } from './domain/views';
import { activeConferences, saveConferenceView } from './infra/conference-views';
import { KeyedMutex } from '@parley/eventsourcing';
import { CONFERENCE_CONFIG, EVENT_STORE, RELAY_KICK } from './tokens';
import type { ConferenceConfig } from './config';

/**
 * Bounded retry on version conflicts with other writers (other replicas of this service).
 * A replica working through a queue of commands to one conference appends back to back with
 * a warm cache, so the other replica can lose several rounds in a row: the retries back off
 * exponentially with jitter (capped) until that queue drains, about 2 s at worst.
 */
const MAX_ATTEMPTS = 25;
const backoffMs = (attempt: number) => Math.random() * Math.min(100, 2 ** attempt);

export interface ExecuteOptions<R> {
  /**
   * Runs once, after the command is decided and before its events are stored: the media
   * call of publishStream/viewStream. Its result is returned; if storing then fails for good,
   * `abandon` undoes it.
   */
  before?: (state: ConferenceState, events: ConferenceDomainEvent[]) => Promise<R>;
  abandon?: (result: R) => Promise<void>;
}

/**
 * The conference's application service: load (cache + the stream's new events), decide,
 * append with the version it decided on, retry on conflict. The read model is written in the
 * append's transaction; the relay is woken right after the commit.
 */
@Injectable()
export class ConferenceService {
  private readonly logger = new Logger(ConferenceService.name);
  private readonly cache = new Map<string, ConferenceState>();
  private readonly mutex = new KeyedMutex();

  constructor(
    @Inject(EVENT_STORE) private readonly store: EventStore,
    @Inject(RELAY_KICK) private readonly kickRelay: () => void,
    @Inject(CONFERENCE_CONFIG) private readonly config: ConferenceConfig,
  ) {}

  /** The conference's current state: the cached fold plus whatever was appended since. */
  async load(conferenceId: string): Promise<ConferenceState> {
    const cached = this.cache.get(conferenceId) ?? initialState();
    const events = await this.store.readStream(conferenceStreamId(conferenceId), cached.version + 1);
    const state = events.reduce((s, e) => evolve(s, e as unknown as ConferenceDomainEvent), cached);
    if (state.version > 0) this.remember(conferenceId, state);
    return state;
  }

  async execute<R = undefined>(cmd: ConferenceCommand, ctx: RequestContext, options: ExecuteOptions<R> = {}): Promise<{ state: ConferenceState; events: ConferenceDomainEvent[]; result?: R }> {
    return this.mutex.run(cmd.conferenceId, async () => {
      let before: { value: R } | undefined;
      try {
        for (let attempt = 1; ; attempt++) {
          const state = await this.load(cmd.conferenceId);
          const events = decide(cmd, state);
          if (events.length === 0) return { state, events, result: before?.value };
          if (options.before && !before) before = { value: await options.before(state, events) };
          const next = events.reduce(evolve, state);
          try {
            await this.store.append(conferenceStreamId(cmd.conferenceId), state.version, events.map((e) => this.envelope(e, ctx, cmd.now, next.organizationId)), {
              inTransaction: (sql) => saveConferenceView(sql, toConferenceView(next)),
            });
          } catch (e) {
            if (!(e instanceof ConcurrencyError)) throw e;
            this.cache.delete(cmd.conferenceId);
            if (attempt >= MAX_ATTEMPTS) {
              throw new ParleyError('CONFLICT', `Conference ${cmd.conferenceId} is changing too fast; ${cmd.kind} was not applied, try again`);
            }
            await new Promise((r) => setTimeout(r, backoffMs(attempt)));
            continue;
          }
          this.remember(cmd.conferenceId, next);
          this.kickRelay();
          return { state: next, events, result: before?.value };
        }
      } catch (e) {
        if (before && options.abandon) {
          await options.abandon(before.value).catch((err) => this.logger.warn(`could not undo ${cmd.kind} of ${cmd.conferenceId}: ${String(err)}`));
        }
        throw e;
      }
    });
  }

  async view(conferenceId: string, ctx: RequestContext): Promise<Conference> {
    const state = await this.load(conferenceId);
    guards.readable(state, ctx.actor, conferenceId);
    return toConferenceView(state);
  }

  async simpleView(conferenceId: string, ctx: RequestContext): Promise<ConferenceSimpleView> {
    const state = await this.load(conferenceId);
    guards.readable(state, ctx.actor, conferenceId);
    return toSimpleView(state);
  }

  active(ctx: RequestContext): Promise<Conference[]> {
    return this.store.transaction((sql) => activeConferences(sql, ctx.actor.organizationId));
  }

  /** The feed: events with conferenceVersion > afterVersion, in order. */
  async events(conferenceId: string, afterVersion: number, ctx: RequestContext): Promise<ConferenceEvent[]> {
    const state = await this.load(conferenceId);
    guards.readable(state, ctx.actor, conferenceId);
    if (afterVersion >= state.version) return [];
    const recorded = await this.store.readStream(conferenceStreamId(conferenceId), afterVersion + 1);
    return recorded.map((e) => toFeedEvent(conferenceId, e));
  }

  /** Time is the decision's; the organization is the conference's (a SERVICE may create for another). */
  private envelope(event: ConferenceDomainEvent, ctx: RequestContext, time: string, organizationId: string): NewEvent {
    return {
      eventId: randomUUID(),
      event,
      metadata: {
        correlationId: ctx.correlationId,
        causationId: ctx.causationId,
        userId: ctx.actor.userId,
        organizationId,
        time,
      },
    };
  }

  private remember(conferenceId: string, state: ConferenceState): void {
    this.cache.delete(conferenceId); // re-insert: Map order doubles as recency
    this.cache.set(conferenceId, state);
    if (this.cache.size > this.config.stateCacheSize) this.cache.delete(this.cache.keys().next().value as string);
  }
}
