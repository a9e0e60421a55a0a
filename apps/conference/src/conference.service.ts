import { Inject, Injectable, Logger } from '@nestjs/common';
import {
  type ActiveConferencesPage,
  type Conference,
  type ConferenceDomainEvent,
  type ConferenceEvent,
  type ConferenceSimpleView,
  CONFERENCE_CONTEXT,
  ParleyError,
  type RequestContext,
  mayAccess,
  pageOf,
  toFeedEvent,
} from '@parley/contracts';
import { KeyedMutex } from '@parley/eventsourcing';
import { Aggregate, type AggregateExecuteOptions, KIT, type Outcome, causeOf } from '@parley/service-kit';
import type { ConferenceCommand } from './domain/commands';
import { guards, makeConferenceDecider } from './domain/decider';
import type { ConferenceState } from './domain/state';
import { toConferenceView, toSimpleView } from './domain/views';
import { type ActiveCursor, activeConferences, activeConferencesCreatedBy } from './infra/conference-views';
import type { ConferenceKit } from './settings';

/** Events one page of the feed holds at most (it is also cut at Limits.pageBytes); the client asks again from the last version. */
const FEED_PAGE_EVENTS = 256;

/** The media call of publishStream/viewStream runs as `before`, undone by `abandon` if storing fails for good; `answer` is what the command answers. */
export type ExecuteOptions<R, A> = Pick<AggregateExecuteOptions<ConferenceState, ConferenceDomainEvent, R, A>, 'before' | 'abandon' | 'answer'>;

/**
 * The conference's application service on the kit's Aggregate: load (cache + the stream's new
 * events), decide, append with the version it decided on, retry on conflict; the view is written
 * in the append's transaction and the relay woken right after the commit.
 */
@Injectable()
export class ConferenceService {
  private readonly logger = new Logger(ConferenceService.name);
  private readonly conferences: Aggregate<ConferenceCommand, ConferenceDomainEvent, ConferenceState>;
  /** Creates of one user take turns in this process, so its count of unended conferences cannot be raced past its quota. */
  private readonly creations = new KeyedMutex();

  constructor(@Inject(KIT) private readonly kit: ConferenceKit) {
    this.conferences = new Aggregate(kit, {
      context: CONFERENCE_CONTEXT,
      decider: makeConferenceDecider(kit.settings.quotas),
      cacheSize: kit.settings.cacheSize,
      tooManyConflicts: (_streamId, cmd) => new ParleyError('CONFLICT', `Conference ${cmd.conferenceId} is changing too fast; ${cmd.kind} was not applied, try again`),
    });
  }

  /** The conference's current state (the cached fold plus whatever was appended since), in the caller's organization. */
  load(organizationId: string, conferenceId: string): Promise<ConferenceState> {
    return this.conferences.load(organizationId, conferenceId);
  }

  /** Decides and stores `cmd`; answers what `options.answer` makes of the outcome (null by default). */
  async execute<R = undefined, A = null>(cmd: ConferenceCommand, ctx: RequestContext, options: ExecuteOptions<R, A> = {}): Promise<A> {
    const { abandon } = options;
    // Time is the decision's; the organization is the conference's (a SERVICE may create for another).
    const { answer } = await this.conferences.execute<R, A>(cmd.organizationId, cmd.conferenceId, cmd, { ...causeOf(ctx), time: cmd.now }, {
      before: options.before,
      abandon: abandon && ((result) => abandon(result).catch((err) => this.logger.warn(`could not undo ${cmd.kind} of ${cmd.conferenceId}: ${String(err)}`))),
      answer: options.answer,
    });
    return answer;
  }

  async view(conferenceId: string, ctx: RequestContext): Promise<Conference> {
    const state = await this.load(ctx.actor.organizationId, conferenceId);
    guards.readable(state, ctx.actor, conferenceId);
    return toConferenceView(state);
  }

  async simpleView(conferenceId: string, ctx: RequestContext): Promise<ConferenceSimpleView> {
    const state = await this.load(ctx.actor.organizationId, conferenceId);
    guards.readable(state, ctx.actor, conferenceId);
    return toSimpleView(state);
  }

  /** One page of the caller's organization's active conferences (see activeConferences): those the access table lets the caller see. */
  active(ctx: RequestContext, after?: ActiveCursor): Promise<ActiveConferencesPage> {
    const { actor } = ctx;
    const all = mayAccess('listActiveConferences', 'one the caller neither created nor joined', actor);
    return activeConferences(this.kit.store, actor.organizationId, after, all ? undefined : actor.userId);
  }

  /** A create, decided with the caller's count of unended conferences in that organization (its quota). */
  create<A>(cmd: Extract<ConferenceCommand, { kind: 'create' }>, ctx: RequestContext, answer: (outcome: Outcome<ConferenceState, ConferenceDomainEvent, undefined>) => A): Promise<A> {
    return this.creations.run(`${cmd.organizationId}\u0000${ctx.actor.userId}`, async () => {
      const quota = this.kit.settings.quotas.activeConferencesPerUser;
      const activeCreatedByCaller = await activeConferencesCreatedBy(this.kit.store, cmd.organizationId, ctx.actor.userId, quota);
      return this.execute({ ...cmd, activeCreatedByCaller }, ctx, { answer });
    });
  }

  /**
   * The feed: events with conferenceVersion > afterVersion, in order, one page of them (at most
   * FEED_PAGE_EVENTS and Limits.pageBytes); a client that polls again from the last version it got
   * reads the rest.
   */
  async events(conferenceId: string, afterVersion: number, ctx: RequestContext): Promise<ConferenceEvent[]> {
    const state = await this.load(ctx.actor.organizationId, conferenceId);
    guards.readable(state, ctx.actor, conferenceId);
    if (afterVersion >= state.version) return [];
    const recorded = await this.kit.store.readStream(this.conferences.streamId(ctx.actor.organizationId, conferenceId), afterVersion + 1, FEED_PAGE_EVENTS);
    return pageOf(recorded.map((e) => toFeedEvent(conferenceId, e)));
  }
}
