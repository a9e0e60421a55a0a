import { randomUUID } from 'node:crypto';
import { Inject, Injectable, Logger } from '@nestjs/common';
import {
  type KeepUserEndpointAliveWebCommand,
  ParleyError,
  type RegisterResult,
  type RegisterUserEndpointWebCommand,
  type RequestContext,
  type SendEventToUserWebCommand,
  type UnregisterUserEndpointWebCommand,
  type UserEndpointDomainEvent,
  type UserEndpointView,
  type UserEventDomainEvent,
  authorize,
  problemWithClientEvent,
  qosLevel,
  USER_ENDPOINT_CONTEXT,
  userEventStreamId,
} from '@parley/contracts';
import { KeyedMutex } from '@parley/eventsourcing';
import { Aggregate, type AggregateExecuteOptions, type Cause, KIT, appendAnswered, causeOf, instantOf, changingTooFast } from '@parley/service-kit';
import { deliverToEndpoints, maskEvent, problemWithMasks, purgeEndpointQueue, serviceActor } from '@parley/messaging';
import { type EndpointCommand, type EndpointState, makeEndpointDecider } from './domain/decider';
import { type EndpointKey, endpointsOfUser, findEndpoint } from './infra/presence-views';
import type { PresenceKit } from './settings';

/** Who the presence service's own decisions (deadlines) are recorded as: itself (see serviceActor). */
export const PRESENCE_ACTOR = serviceActor('presence', '-').userId;

/**
 * User endpoints: load, decide, append (the `presence_endpoints` row in the same transaction),
 * and the routing of user sendEvent. Time comes from the injected clock.
 */
@Injectable()
export class PresenceService {
  private readonly logger = new Logger(PresenceService.name);
  private readonly endpoints: Aggregate<EndpointCommand, UserEndpointDomainEvent, EndpointState>;
  /** Registrations of one user take turns in this process, so its endpoint count cannot be raced past its quota. */
  private readonly registrations = new KeyedMutex();

  constructor(@Inject(KIT) private readonly kit: PresenceKit) {
    this.endpoints = new Aggregate(kit, {
      context: USER_ENDPOINT_CONTEXT,
      decider: makeEndpointDecider(kit.settings.quotas),
      cacheSize: kit.settings.cacheSize,
      tooManyConflicts: changingTooFast('User endpoint'),
    });
  }

  private now(): string {
    return instantOf(this.kit.clock);
  }

  private execute<A = null>(
    cmd: EndpointCommand,
    cause: Cause,
    options: Pick<AggregateExecuteOptions<EndpointState, UserEndpointDomainEvent, undefined, A>, 'answer' | 'before'> = {},
  ): Promise<{ state: EndpointState; events: UserEndpointDomainEvent[]; answer: A }> {
    return this.endpoints.execute<undefined, A>(cmd.organizationId, cmd.userEndpointId, cmd, { ...cause, time: cmd.now }, options);
  }

  async register(dto: RegisterUserEndpointWebCommand, ctx: RequestContext): Promise<RegisterResult> {
    const userEndpointId = dto.userEndpointId ?? randomUUID();
    const { organizationId, userId } = ctx.actor;
    return this.registrations.run(`${organizationId}/${userId}`, async () => {
      const registered = await endpointsOfUser(this.kit.store, organizationId, userId);
      const { answer } = await this.execute(
        {
          kind: 'register',
          userEndpointId,
          organizationId,
          now: this.now(),
          actor: ctx.actor,
          keepAliveSeconds: dto.keepAliveSeconds,
          reminderOn: dto.serverKeepAliveReminderOn ?? false,
          otherEndpointsOfUser: registered.filter((id) => id !== userEndpointId).length,
        },
        causeOf(ctx),
        {
          answer: () => ({ id: userEndpointId }),
          // An id registered for the first time starts with an empty queue: what was sent to it before
          // (staff may join a conference with an id nobody registered) is not its new owner's.
          before: async (state) => {
            if (state.status === 'none') await purgeEndpointQueue(this.kit.nc, organizationId, userEndpointId);
            return undefined;
          },
        },
      );
      return answer;
    });
  }

  async keepAlive(dto: KeepUserEndpointAliveWebCommand, ctx: RequestContext): Promise<void> {
    await this.execute({ kind: 'keepAlive', userEndpointId: dto.userEndpointId, organizationId: ctx.actor.organizationId, now: this.now(), actor: ctx.actor }, causeOf(ctx));
  }

  async unregister(dto: UnregisterUserEndpointWebCommand, ctx: RequestContext): Promise<void> {
    await this.execute(
      { kind: 'unregister', userEndpointId: dto.userEndpointId, organizationId: ctx.actor.organizationId, now: this.now(), actor: ctx.actor, ...(dto.reason !== undefined ? { reason: dto.reason } : {}) },
      causeOf(ctx),
    );
  }

  /** The scheduler's call for an endpoint whose `next_due` has come. */
  async checkDeadlines(key: EndpointKey): Promise<UserEndpointDomainEvent[]> {
    const id = randomUUID();
    const { events } = await this.execute({ kind: 'checkDeadlines', ...key, now: this.now() }, { correlationId: id, causationId: id, userId: PRESENCE_ACTOR });
    return events;
  }

  /** A registered endpoint of the caller's organization; anything else is 404. */
  async endpoint(userEndpointId: string, ctx: RequestContext): Promise<UserEndpointView> {
    const view = await findEndpoint(this.kit.store, ctx.actor.organizationId, userEndpointId);
    if (!view) throw new ParleyError('NOT_FOUND', `User endpoint ${userEndpointId} is not registered`);
    return view;
  }

  /**
   * Sends a client's event to one endpoint of a user or to all of them, and answers how many: each
   * registered endpoint gets it, over its session if it has one, else when it next connects (see
   * deliverToEndpoints). The stored copy (a UserEventSentEvent) and the log line carry the event
   * with its masks applied; the recipients get it as sent.
   */
  async sendEvent(dto: SendEventToUserWebCommand, ctx: RequestContext): Promise<number> {
    const eventProblem = problemWithClientEvent(dto.event);
    if (eventProblem) throw new ParleyError('BAD_REQUEST', eventProblem, { fields: ['event'] });
    const maskProblem = problemWithMasks(dto.masks ?? []);
    if (maskProblem) throw new ParleyError('BAD_REQUEST', maskProblem, { fields: ['masks'] });
    const { actor } = ctx;
    const organizationId = dto.organizationId ?? actor.organizationId;
    authorize(
      'sendEventToUser',
      organizationId === actor.organizationId
        ? 'a user of its own organization'
        : actor.actsFor?.includes(organizationId)
          ? "a user of an organization the caller's OAuth client may act for"
          : 'a user of any other organization',
      actor,
      () => new ParleyError('NOT_FOUND', `User ${dto.userId} has no registered endpoint`),
    );
    const targets = await endpointsOfUser(this.kit.store, organizationId, dto.userId, dto.userEndpointId);
    if (dto.userEndpointId && targets.length === 0) throw new ParleyError('NOT_FOUND', `User endpoint ${dto.userEndpointId} of user ${dto.userId} is not registered`);
    if (targets.length === 0) return 0;

    const qos = qosLevel(dto.qos);
    const deliveryId = randomUUID();
    const masks = dto.masks ?? [];
    const masked = maskEvent(dto.event, masks);
    const sent: UserEventDomainEvent = {
      type: 'UserEventSentEvent',
      schemaVersion: 1,
      data: { organizationId, userId: dto.userId, userEndpointIds: targets, qos, deliveryId, event: masked, masks },
    };
    await appendAnswered(this.kit, userEventStreamId(deliveryId), 0, [{ event: sent, metadata: { ...causeOf(ctx), organizationId, time: this.now() } }], targets.length);
    this.logger.log({ msg: 'sendEvent', deliveryId, organizationId, userId: dto.userId, endpoints: targets.length, qos, event: masked });
    await deliverToEndpoints(this.kit.nc, targets.map((userEndpointId) => ({ organizationId, userEndpointId })), { id: deliveryId, qos, event: dto.event });
    return targets.length;
  }
}
