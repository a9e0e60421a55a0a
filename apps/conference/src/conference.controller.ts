import { randomUUID } from 'node:crypto';
import { Controller, Inject, Logger } from '@nestjs/common';
import { Ctx, MessagePattern, NatsContext, Payload } from '@nestjs/microservices';
import {
  type Conference,
  type ConferenceEvent,
  ConferencePublishStreamIceCandidatesWebCommand,
  type ConferencePublishResult,
  ConferencePublishStreamWebCommand,
  ConferenceQueries,
  ConferenceCommands,
  type ConferenceSimpleView,
  ConferenceStopViewStreamWebCommand,
  type ConferenceStreamViewResult,
  type ConferenceSummary,
  ConferenceUnpublishStreamWebCommand,
  ConferenceUpdatePublishedStreamBitrateWebCommand,
  ConferenceViewStreamIceCandidatesWebCommand,
  ConferenceViewStreamWebCommand,
  CreateConferenceWebCommand,
  EndConferenceWebCommand,
  JoinConferenceWebCommand,
  LeaveConferenceWebCommand,
  MediaCommands,
  type MediaPublishResponse,
  type MediaViewResponse,
  ParleyError,
  type RequestContext,
  SendEventToConferenceWebCommand,
  type SendEventResponse,
  SetInteractionIdWebCommand,
  UpdateConferenceMetadataWebCommand,
  UpdateConferenceParticipantMetadataWebCommand,
  UpdateConferenceStreamMetadataWebCommand,
  UpdateParticipantStateCommand,
  qosLevel,
  unguessableId,
  problemWithClientEvent,
  ConferenceEventsQuery,
  ConferenceIdQuery,
  ActiveConferencesQuery,
  type ActiveConferencesPage,
} from '@parley/contracts';
import { deliverToEndpoints, maskEvent, parleyValidationPipe, problemWithMasks, requestContextOf, requestFrom } from '@parley/messaging';
import type { ConferenceCommand, ConferenceCommandBody } from './domain/commands';
import { guards } from './domain/decider';
import type { ConferenceState } from './domain/state';
import { ConferenceService } from './conference.service';
import { KIT, endpointOwner } from '@parley/service-kit';
import type { ConferenceKit } from './settings';

const valid = parleyValidationPipe();

/** The conference service's NATS handlers: payloads are the spec's web commands, the caller comes in the headers. */
@Controller()
export class ConferenceController {
  private readonly logger = new Logger('ConferenceController');
  constructor(
    private readonly conferences: ConferenceService,
    @Inject(KIT) private readonly kit: ConferenceKit,
  ) {}

  /** A command on conference `conferenceId` of `organizationId` (the caller's, unless a SERVICE creates for another). */
  private cmd(ctx: RequestContext, conferenceId: string, c: ConferenceCommandBody, organizationId = ctx.actor.organizationId): ConferenceCommand {
    return { ...c, conferenceId, organizationId, actor: ctx.actor, now: new Date().toISOString() } as ConferenceCommand;
  }

  /**
   * The user that registered `userEndpointId` in the caller's organization, if anyone did (the
   * presence service knows). When it cannot be asked, the join cannot be decided: 503, never a
   * guess that nobody registered it (which would let staff join with a customer's endpoint).
   */
  private endpointOwner(userEndpointId: string, ctx: RequestContext): Promise<string | undefined> {
    return endpointOwner(this.kit.rpc, userEndpointId, ctx, this.kit.settings.presenceTimeoutMs, 'a join');
  }

  private summary(s: ConferenceState): ConferenceSummary {
    return { id: s.id, version: s.version, mode: s.mode };
  }

  /** A media call; "nobody answers" gets a message that says what is missing. */
  private async media<T>(subject: string, payload: unknown, ctx: RequestContext): Promise<T> {
    try {
      return await this.kit.rpc.request<T>(subject, payload, ctx, { timeoutMs: this.kit.settings.mediaTimeoutMs });
    } catch (e) {
      if (e instanceof ParleyError && (e.code === 'UNAVAILABLE' || e.code === 'TIMEOUT')) {
        throw new ParleyError('UNAVAILABLE', `The media service (SFU) did not answer (${e.message}); media requests need it running`, { subject });
      }
      throw e;
    }
  }

  @MessagePattern(ConferenceCommands.create)
  async create(@Payload(valid) dto: CreateConferenceWebCommand, @Ctx() nats: NatsContext): Promise<ConferenceSummary> {
    const ctx = requestContextOf(nats);
    // 128 random bits: knowing a conference's id is what lets a customer join it.
    const conferenceId = dto.conferenceId ?? unguessableId();
    const organizationId = dto.organizationId ?? ctx.actor.organizationId;
    return this.conferences.create(
      this.cmd(
        ctx,
        conferenceId,
        {
          kind: 'create',
          mode: dto.mode ?? 'ROUTER',
          idChosenByCaller: dto.conferenceId !== undefined,
          ...(dto.creatorEndpoint !== undefined ? { creatorEndpoint: dto.creatorEndpoint } : {}),
          ...(dto.interactionId !== undefined ? { interactionId: dto.interactionId } : {}),
          metadata: dto.metadata ?? {},
        },
        organizationId,
      ) as Extract<ConferenceCommand, { kind: 'create' }>,
      ctx,
      ({ state }) => this.summary(state),
    );
  }

  @MessagePattern(ConferenceCommands.join)
  async join(@Payload(valid) dto: JoinConferenceWebCommand, @Ctx() nats: NatsContext): Promise<ConferenceSummary> {
    const ctx = requestContextOf(nats);
    const endpointOwner = await this.endpointOwner(dto.userEndpointId, ctx);
    return this.conferences.execute(
      this.cmd(ctx, dto.conferenceId, { kind: 'join', userEndpointId: dto.userEndpointId, metadata: dto.metadata ?? {}, ...(endpointOwner !== undefined ? { endpointOwner } : {}) }),
      ctx,
      { answer: ({ state }) => this.summary(state) },
    );
  }

  @MessagePattern(ConferenceCommands.leave)
  async leave(@Payload(valid) dto: LeaveConferenceWebCommand, @Ctx() nats: NatsContext): Promise<null> {
    const ctx = requestContextOf(nats);
    return this.conferences.execute(this.cmd(ctx, dto.conferenceId, { kind: 'leave', userEndpointId: dto.userEndpointId, ...(dto.reason !== undefined ? { reason: dto.reason } : {}) }), ctx);
  }

  @MessagePattern(ConferenceCommands.end)
  async end(@Payload(valid) dto: EndConferenceWebCommand, @Ctx() nats: NatsContext): Promise<null> {
    const ctx = requestContextOf(nats);
    return this.conferences.execute(this.cmd(ctx, dto.conferenceId, { kind: 'end', userEndpointId: dto.userEndpointId, ...(dto.reason !== undefined ? { reason: dto.reason } : {}) }), ctx);
  }

  @MessagePattern(ConferenceCommands.setInteraction)
  async setInteraction(@Payload(valid) dto: SetInteractionIdWebCommand, @Ctx() nats: NatsContext): Promise<null> {
    const ctx = requestContextOf(nats);
    return this.conferences.execute(
      this.cmd(ctx, dto.conferenceId, { kind: 'setInteraction', interactionId: dto.interactionId, ...(dto.userEndpointId !== undefined ? { userEndpointId: dto.userEndpointId } : {}) }),
      ctx,
    );
  }

  @MessagePattern(ConferenceCommands.updateMetadata)
  async updateMetadata(@Payload(valid) dto: UpdateConferenceMetadataWebCommand, @Ctx() nats: NatsContext): Promise<null> {
    const ctx = requestContextOf(nats);
    return this.conferences.execute(
      this.cmd(ctx, dto.conferenceId, {
        kind: 'updateMetadata',
        userEndpointId: dto.userEndpointId,
        operation: dto.operation as 'SET' | 'REMOVE',
        key: dto.key,
        ...(dto.value !== undefined ? { value: dto.value } : {}),
      }),
      ctx,
    );
  }

  @MessagePattern(ConferenceCommands.updateParticipantMetadata)
  async updateParticipantMetadata(@Payload(valid) dto: UpdateConferenceParticipantMetadataWebCommand, @Ctx() nats: NatsContext): Promise<null> {
    const ctx = requestContextOf(nats);
    return this.conferences.execute(this.cmd(ctx, dto.conferenceId, { kind: 'updateParticipantMetadata', userEndpointId: dto.userEndpointId, metadata: dto.newMetadata }), ctx);
  }

  @MessagePattern(ConferenceCommands.updateStreamMetadata)
  async updateStreamMetadata(@Payload(valid) dto: UpdateConferenceStreamMetadataWebCommand, @Ctx() nats: NatsContext): Promise<null> {
    const ctx = requestContextOf(nats);
    return this.conferences.execute(
      this.cmd(ctx, dto.conferenceId, { kind: 'updateStreamMetadata', userEndpointId: dto.userEndpointId, streamId: dto.streamId, metadata: dto.newMetadata ?? {} }),
      ctx,
    );
  }

  @MessagePattern(ConferenceCommands.updatePublishedStreamBitrate)
  async updateBitrate(@Payload(valid) dto: ConferenceUpdatePublishedStreamBitrateWebCommand, @Ctx() nats: NatsContext): Promise<null> {
    const ctx = requestContextOf(nats);
    return this.conferences.execute(
      this.cmd(ctx, dto.conferenceId, { kind: 'updateBitrate', userEndpointId: dto.userEndpointId, videoBitrate: dto.videoBitrate, ...(dto.streamId !== undefined ? { streamId: dto.streamId } : {}) }),
      ctx,
      {
        // The limit is applied by the SFU first; the event records what was applied.
        before: async (_state, events) => {
          for (const e of events) {
            if (e.type !== 'ConferenceStreamBitrateUpdatedEvent') continue;
            await this.media(MediaCommands.setPublishedBitrate, { conferenceId: dto.conferenceId, organizationId: ctx.actor.organizationId, streamId: e.data.streamId, videoBitrate: dto.videoBitrate }, ctx);
          }
        },
      },
    );
  }

  @MessagePattern(ConferenceCommands.publishStream)
  async publishStream(@Payload(valid) dto: ConferencePublishStreamWebCommand, @Ctx() nats: NatsContext): Promise<ConferencePublishResult> {
    const ctx = requestContextOf(nats);
    const streamId = dto.streamId ?? randomUUID();
    return this.conferences.execute<MediaPublishResponse, ConferencePublishResult>(
      this.cmd(ctx, dto.conferenceId, {
        kind: 'publishStream',
        userEndpointId: dto.userEndpointId,
        streamId,
        streamType: dto.conferenceStreamType,
        metadata: dto.metadata ?? {},
        ...(dto.videoBitrate !== undefined ? { videoBitrate: dto.videoBitrate } : {}),
      }),
      ctx,
      {
        before: (state) =>
          this.media<MediaPublishResponse>(
            MediaCommands.publish,
            {
              conferenceId: dto.conferenceId,
              organizationId: state.organizationId,
              userEndpointId: dto.userEndpointId,
              streamId,
              streamType: dto.conferenceStreamType,
              sdpOffer: dto.sdpOffer,
              ...(dto.videoBitrate !== undefined ? { videoBitrate: dto.videoBitrate } : {}),
            },
            ctx,
          ),
        abandon: () => this.media(MediaCommands.release, { conferenceId: dto.conferenceId, organizationId: ctx.actor.organizationId, streamId }, ctx),
        answer: ({ result }) => ({ streamId, sdpAnswer: (result as MediaPublishResponse).sdpAnswer }),
      },
    );
  }

  @MessagePattern(ConferenceCommands.unpublishStream)
  async unpublishStream(@Payload(valid) dto: ConferenceUnpublishStreamWebCommand, @Ctx() nats: NatsContext): Promise<null> {
    const ctx = requestContextOf(nats);
    return this.conferences.execute(this.cmd(ctx, dto.conferenceId, { kind: 'unpublishStream', userEndpointId: dto.userEndpointId, streamId: dto.streamId }), ctx);
  }

  @MessagePattern(ConferenceCommands.viewStream)
  async viewStream(@Payload(valid) dto: ConferenceViewStreamWebCommand, @Ctx() nats: NatsContext): Promise<ConferenceStreamViewResult> {
    const ctx = requestContextOf(nats);
    const viewerId = dto.viewerId ?? randomUUID();
    return this.conferences.execute<MediaViewResponse, ConferenceStreamViewResult>(
      this.cmd(ctx, dto.conferenceId, { kind: 'viewStream', userEndpointId: dto.userEndpointId, streamId: dto.streamId, viewerId }),
      ctx,
      {
        before: (state) =>
          this.media<MediaViewResponse>(
            MediaCommands.view,
            { conferenceId: dto.conferenceId, organizationId: state.organizationId, userEndpointId: dto.userEndpointId, streamId: dto.streamId, viewerId, sdpOffer: dto.sdpOffer },
            ctx,
          ),
        abandon: () => this.media(MediaCommands.release, { conferenceId: dto.conferenceId, organizationId: ctx.actor.organizationId, streamId: dto.streamId, viewerId }, ctx),
        answer: ({ result }) => ({ viewerId, sdpAnswer: (result as MediaViewResponse).sdpAnswer }),
      },
    );
  }

  @MessagePattern(ConferenceCommands.stopViewStream)
  async stopViewStream(@Payload(valid) dto: ConferenceStopViewStreamWebCommand, @Ctx() nats: NatsContext): Promise<null> {
    const ctx = requestContextOf(nats);
    return this.conferences.execute(this.cmd(ctx, dto.conferenceId, { kind: 'stopViewStream', userEndpointId: dto.userEndpointId, streamId: dto.streamId, viewerId: dto.viewerId }), ctx);
  }

  @MessagePattern(ConferenceCommands.addPublishStreamIceCandidates)
  async addPublishStreamIceCandidates(@Payload(valid) dto: ConferencePublishStreamIceCandidatesWebCommand, @Ctx() nats: NatsContext): Promise<null> {
    const ctx = requestContextOf(nats);
    const state = await this.conferences.load(ctx.actor.organizationId, dto.conferenceId);
    guards.publishedStreamOf(state, ctx.actor, dto.conferenceId, dto.userEndpointId, dto.streamId);
    await this.media(MediaCommands.addPublishIceCandidates, { conferenceId: dto.conferenceId, organizationId: ctx.actor.organizationId, streamId: dto.streamId, candidates: dto.iceCandidates }, ctx);
    return null;
  }

  @MessagePattern(ConferenceCommands.addViewStreamIceCandidates)
  async addViewStreamIceCandidates(@Payload(valid) dto: ConferenceViewStreamIceCandidatesWebCommand, @Ctx() nats: NatsContext): Promise<null> {
    const ctx = requestContextOf(nats);
    const state = await this.conferences.load(ctx.actor.organizationId, dto.conferenceId);
    guards.viewerOf(state, ctx.actor, dto.conferenceId, dto.userEndpointId, dto.streamId, dto.viewerId);
    await this.media(
      MediaCommands.addViewIceCandidates,
      { conferenceId: dto.conferenceId, organizationId: ctx.actor.organizationId, streamId: dto.streamId, viewerId: dto.viewerId, candidates: dto.iceCandidates },
      ctx,
    );
    return null;
  }

  @MessagePattern(ConferenceCommands.updateParticipantState)
  async updateParticipantState(@Payload(valid) dto: UpdateParticipantStateCommand, @Ctx() nats: NatsContext): Promise<null> {
    // The presence service's verdict, and nobody else's (NATS lets only it send this, too).
    const ctx = requestFrom(nats, 'presence');
    return this.conferences.execute(this.cmd(ctx, dto.conferenceId, { kind: 'updateParticipantState', userEndpointId: dto.userEndpointId, state: dto.state }), ctx);
  }

  /** SERVICE only: sends a client event to every endpoint joined to the conference (not stored). */
  @MessagePattern(ConferenceCommands.sendEvent)
  async sendEvent(@Payload(valid) dto: SendEventToConferenceWebCommand, @Ctx() nats: NatsContext): Promise<SendEventResponse> {
    const ctx = requestContextOf(nats);
    const problem = problemWithClientEvent(dto.event);
    if (problem) throw new ParleyError('BAD_REQUEST', problem, { fields: ['event'] });
    const maskProblem = problemWithMasks(dto.masks ?? []);
    if (maskProblem) throw new ParleyError('BAD_REQUEST', maskProblem, { fields: ['masks'] });
    const state = await this.conferences.load(ctx.actor.organizationId, dto.conferenceId);
    const endpoints = guards.joinedEndpoints(state, ctx.actor, dto.conferenceId);
    const delivery = { id: randomUUID(), qos: qosLevel(dto.qos), event: dto.event };
    // The log line carries the masked copy; the endpoints get the event as sent.
    this.logger.log({ msg: 'sendEvent', deliveryId: delivery.id, conferenceId: dto.conferenceId, endpoints: endpoints.length, qos: delivery.qos, event: maskEvent(dto.event, dto.masks ?? []) });
    await deliverToEndpoints(this.kit.nc, endpoints.map((ep) => ({ organizationId: state.organizationId, userEndpointId: ep.userEndpointId })), delivery);
    return { eventsSent: endpoints.length };
  }

  @MessagePattern(ConferenceQueries.get)
  get(@Payload(valid) q: ConferenceIdQuery, @Ctx() nats: NatsContext): Promise<Conference> {
    return this.conferences.view(q.conferenceId, requestContextOf(nats));
  }

  @MessagePattern(ConferenceQueries.simpleView)
  simpleView(@Payload(valid) q: ConferenceIdQuery, @Ctx() nats: NatsContext): Promise<ConferenceSimpleView> {
    return this.conferences.simpleView(q.conferenceId, requestContextOf(nats));
  }

  @MessagePattern(ConferenceQueries.active)
  active(@Payload(valid) q: ActiveConferencesQuery, @Ctx() nats: NatsContext): Promise<ActiveConferencesPage> {
    return this.conferences.active(requestContextOf(nats), q.after);
  }

  @MessagePattern(ConferenceQueries.events)
  events(@Payload(valid) q: ConferenceEventsQuery, @Ctx() nats: NatsContext): Promise<ConferenceEvent[]> {
    return this.conferences.events(q.conferenceId, q.afterVersion, requestContextOf(nats));
  }
}
