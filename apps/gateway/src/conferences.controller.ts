import { Readable } from 'node:stream';
import { Body, Controller, Get, HttpCode, Inject, Param, Post, Query, Res, StreamableFile } from '@nestjs/common';
import { ApiBadRequestResponse, ApiBearerAuth, ApiForbiddenResponse, ApiNoContentResponse, ApiNotFoundResponse, ApiOkResponse, ApiOperation, ApiQuery, ApiTags, ApiUnprocessableEntityResponse, ApiConflictResponse, ApiServiceUnavailableResponse, ApiOAuth2 } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import {
  type ActiveConferencesPage,
  Conference,
  ConferenceCommands,
  ConferenceEvent,
  ConferencePublishResult,
  ConferencePublishStreamIceCandidatesWebCommand,
  ConferencePublishStreamWebCommand,
  ConferenceQueries,
  ConferenceSimpleView,
  ConferenceStopViewStreamWebCommand,
  ConferenceStreamViewResult,
  ConferenceSummary,
  ConferenceUnpublishStreamWebCommand,
  ConferenceUpdatePublishedStreamBitrateWebCommand,
  ConferenceViewStreamIceCandidatesWebCommand,
  ConferenceViewStreamWebCommand,
  CreateConferenceWebCommand,
  EndConferenceWebCommand,
  JoinConferenceWebCommand,
  LeaveConferenceWebCommand,
  ParleyError,
  type RequestContext,
  SendEventResponse,
  SendEventToConferenceWebCommand,
  SetInteractionIdWebCommand,
  UpdateConferenceMetadataWebCommand,
  UpdateConferenceParticipantMetadataWebCommand,
  UpdateConferenceStreamMetadataWebCommand,
  toFeedEvent,
} from '@parley/contracts';
import type { NatsRpcClient } from '@parley/messaging';
import { ConferenceEventsHub } from './conference-events.hub';
import type { GatewayConfig } from './config';
import { idParam, singleQuery } from './http-params';
import { Access, Command } from './access';
import { ApiCommonErrors } from './api-docs';
import { Ctx } from './request-context';
import { GATEWAY_CONFIG, RPC_CLIENT } from './tokens';
import { UserQuotas } from './user-quotas';

const ICE_NOTE =
  'Parley\'s SFU (mediasoup) is ICE-lite: it learns the browser\'s address from the browser\'s own connectivity checks, so candidates are validated and recorded but are not needed for the media to flow.';

/** The spec's /conferences endpoints: validated here, decided by the conference service over NATS. */
@ApiTags('Conferences')
@ApiBearerAuth()
@ApiOAuth2([])
@ApiBadRequestResponse({ description: 'Malformed body: the message names each field.' })
@ApiNotFoundResponse({ description: 'No such conference in your organization.' })
@ApiCommonErrors()
@Controller('conferences')
export class ConferencesController {
  constructor(
    @Inject(RPC_CLIENT) private readonly rpc: NatsRpcClient,
    private readonly hub: ConferenceEventsHub,
    @Inject(GATEWAY_CONFIG) private readonly config: GatewayConfig,
    private readonly quotas: UserQuotas,
  ) {}

  @Post('create')
  @Command('createConference')
  @HttpCode(200)
  @ApiOperation({ summary: 'Creates a conference.', description: 'The organization is the token\'s; only a SERVICE caller may name another. Only ROUTER mode is supported.' })
  @ApiOkResponse({ type: ConferenceSummary })
  @ApiConflictResponse({ description: 'The conference id is taken.' })
  create(@Body() body: CreateConferenceWebCommand, @Ctx() ctx: RequestContext): Promise<ConferenceSummary> {
    return this.rpc.request(ConferenceCommands.create, body, ctx);
  }

  @Post('join')
  @Command('joinConference')
  @HttpCode(200)
  @ApiOperation({ summary: 'Joins a conference.' })
  @ApiOkResponse({ type: ConferenceSummary })
  @ApiUnprocessableEntityResponse({ description: 'Conference already joined from the same user and endpoint.' })
  @ApiConflictResponse({ description: 'The conference has ended, or the endpoint id is joined by another user.' })
  join(@Body() body: JoinConferenceWebCommand, @Ctx() ctx: RequestContext): Promise<ConferenceSummary> {
    return this.rpc.request(ConferenceCommands.join, body, ctx);
  }

  @Post('leave')
  @Command('leaveConference')
  @HttpCode(204)
  @ApiOperation({ summary: 'Leaves a conference; the participant\'s streams are unpublished.' })
  @ApiNoContentResponse()
  async leave(@Body() body: LeaveConferenceWebCommand, @Ctx() ctx: RequestContext): Promise<void> {
    await this.rpc.request(ConferenceCommands.leave, body, ctx);
  }

  @Post('end')
  @Command('endConference')
  @HttpCode(204)
  @ApiOperation({ summary: 'Ends a conference. No command is accepted afterwards (409).' })
  @ApiNoContentResponse()
  @ApiForbiddenResponse({ description: 'Only the creator, a participant, an agent or a service may end it.' })
  async end(@Body() body: EndConferenceWebCommand, @Ctx() ctx: RequestContext): Promise<void> {
    await this.rpc.request(ConferenceCommands.end, body, ctx);
  }

  @Post('interaction')
  @Command('setConferenceInteraction')
  @HttpCode(204)
  @ApiOperation({ summary: 'Sets the interaction id of a conference.' })
  @ApiNoContentResponse()
  async interaction(@Body() body: SetInteractionIdWebCommand, @Ctx() ctx: RequestContext): Promise<void> {
    await this.rpc.request(ConferenceCommands.setInteraction, body, ctx);
  }

  @Post('updateMetadata')
  @Command('updateConferenceMetadata')
  @HttpCode(204)
  @ApiOperation({ summary: 'Updates conference metadata (SET or REMOVE one key).' })
  @ApiNoContentResponse()
  async updateMetadata(@Body() body: UpdateConferenceMetadataWebCommand, @Ctx() ctx: RequestContext): Promise<void> {
    await this.rpc.request(ConferenceCommands.updateMetadata, body, ctx);
  }

  @Post('updateParticipantMetadata')
  @Command('updateParticipantMetadata')
  @HttpCode(204)
  @ApiOperation({ summary: 'Replaces the metadata of the caller\'s participant.' })
  @ApiNoContentResponse()
  async updateParticipantMetadata(@Body() body: UpdateConferenceParticipantMetadataWebCommand, @Ctx() ctx: RequestContext): Promise<void> {
    await this.rpc.request(ConferenceCommands.updateParticipantMetadata, body, ctx);
  }

  @Post('updateStreamMetadata')
  @Command('updateStreamMetadata')
  @HttpCode(204)
  @ApiOperation({ summary: 'Replaces the metadata of a stream the caller publishes.' })
  @ApiNoContentResponse()
  async updateStreamMetadata(@Body() body: UpdateConferenceStreamMetadataWebCommand, @Ctx() ctx: RequestContext): Promise<void> {
    await this.rpc.request(ConferenceCommands.updateStreamMetadata, body, ctx);
  }

  @Post('updatePublishedStreamBitrate')
  @Command('updatePublishedStreamBitrate')
  @HttpCode(204)
  @ApiOperation({ summary: 'Limits the video bitrate of a published stream (applied by the SFU).' })
  @ApiNoContentResponse()
  @ApiServiceUnavailableResponse({ description: 'The media service is not running.' })
  async updatePublishedStreamBitrate(@Body() body: ConferenceUpdatePublishedStreamBitrateWebCommand, @Ctx() ctx: RequestContext): Promise<void> {
    await this.rpc.request(ConferenceCommands.updatePublishedStreamBitrate, body, ctx);
  }

  @Post('publishStream')
  @Command('publishStream')
  @HttpCode(200)
  @ApiOperation({ summary: 'Publishes a stream: SDP offer in, the SFU\'s SDP answer out.' })
  @ApiOkResponse({ type: ConferencePublishResult })
  @ApiServiceUnavailableResponse({ description: 'The media service is not running.' })
  publishStream(@Body() body: ConferencePublishStreamWebCommand, @Ctx() ctx: RequestContext): Promise<ConferencePublishResult> {
    return this.rpc.request(ConferenceCommands.publishStream, body, ctx);
  }

  @Post('unpublishStream')
  @Command('unpublishStream')
  @HttpCode(204)
  @ApiOperation({ summary: 'Unpublishes a stream.' })
  @ApiNoContentResponse()
  async unpublishStream(@Body() body: ConferenceUnpublishStreamWebCommand, @Ctx() ctx: RequestContext): Promise<void> {
    await this.rpc.request(ConferenceCommands.unpublishStream, body, ctx);
  }

  @Post('viewStream')
  @Command('viewStream')
  @HttpCode(200)
  @ApiOperation({ summary: 'Views a published stream: the viewer\'s recvonly offer in, the SFU\'s answer out.' })
  @ApiOkResponse({ type: ConferenceStreamViewResult })
  @ApiServiceUnavailableResponse({ description: 'The media service is not running.' })
  viewStream(@Body() body: ConferenceViewStreamWebCommand, @Ctx() ctx: RequestContext): Promise<ConferenceStreamViewResult> {
    return this.rpc.request(ConferenceCommands.viewStream, body, ctx);
  }

  @Post('stopViewStream')
  @Command('stopViewStream')
  @HttpCode(204)
  @ApiOperation({ summary: 'Stops viewing a stream.' })
  @ApiNoContentResponse()
  async stopViewStream(@Body() body: ConferenceStopViewStreamWebCommand, @Ctx() ctx: RequestContext): Promise<void> {
    await this.rpc.request(ConferenceCommands.stopViewStream, body, ctx);
  }

  @Post('addPublishStreamIceCandidates')
  @Command('addIceCandidates')
  @HttpCode(204)
  @ApiOperation({ summary: 'Adds ICE candidates of a published stream.', description: ICE_NOTE })
  @ApiNoContentResponse()
  async addPublishStreamIceCandidates(@Body() body: ConferencePublishStreamIceCandidatesWebCommand, @Ctx() ctx: RequestContext): Promise<void> {
    await this.rpc.request(ConferenceCommands.addPublishStreamIceCandidates, body, ctx);
  }

  @Post('addViewStreamIceCandidates')
  @Command('addIceCandidates')
  @HttpCode(204)
  @ApiOperation({ summary: 'Adds ICE candidates of a view.', description: ICE_NOTE })
  @ApiNoContentResponse()
  async addViewStreamIceCandidates(@Body() body: ConferenceViewStreamIceCandidatesWebCommand, @Ctx() ctx: RequestContext): Promise<void> {
    await this.rpc.request(ConferenceCommands.addViewStreamIceCandidates, body, ctx);
  }

  @Post('sendEvent')
  @Command('sendEventToConference')
  @HttpCode(200)
  @ApiOperation({ summary: 'Sends an event to every endpoint joined to the conference. SERVICE only.', description: 'Answers the number of endpoints it was sent to.' })
  @ApiOkResponse({ type: SendEventResponse })
  sendEvent(@Body() body: SendEventToConferenceWebCommand, @Ctx() ctx: RequestContext): Promise<SendEventResponse> {
    return this.rpc.request(ConferenceCommands.sendEvent, body, ctx);
  }

  @Get('active')
  @Access('listActiveConferences')
  @ApiOperation({
    summary: "The active conferences of the caller's organization.",
    description: 'Oldest first. The conference service answers it page by page over NATS; the pages are streamed into one JSON array.',
  })
  @ApiOkResponse({ type: [Conference] })
  async active(@Ctx() ctx: RequestContext): Promise<StreamableFile> {
    // The first page before the answer starts, so that its failure is still an error status.
    const first = await this.rpc.request<ActiveConferencesPage>(ConferenceQueries.active, {}, ctx);
    const send = <T>(body: unknown) => this.rpc.request<T>(ConferenceQueries.active, body, ctx);
    async function* json(): AsyncGenerator<string> {
      yield '[';
      let separator = '';
      for (let page: ActiveConferencesPage | undefined = first; page; page = page.next ? await send<ActiveConferencesPage>({ after: page.next }) : undefined) {
        for (const conference of page.conferences) {
          yield separator + JSON.stringify(conference);
          separator = ',';
        }
      }
      yield ']';
    }
    return new StreamableFile(Readable.from(json()), { type: 'application/json; charset=utf-8' });
  }

  @Get(':id')
  @Access('readConference')
  @ApiOperation({ summary: 'The conference aggregate.' })
  @ApiOkResponse({ type: Conference })
  get(@Param('id') id: string, @Ctx() ctx: RequestContext): Promise<Conference> {
    return this.rpc.request(ConferenceQueries.get, { conferenceId: idParam(id) }, ctx);
  }

  @Get(':id/simpleView')
  @Access('readConference')
  @ApiOperation({ summary: 'The conference with participants grouped by user.' })
  @ApiOkResponse({ type: ConferenceSimpleView })
  simpleView(@Param('id') id: string, @Ctx() ctx: RequestContext): Promise<ConferenceSimpleView> {
    return this.rpc.request(ConferenceQueries.simpleView, { conferenceId: idParam(id) }, ctx);
  }

  @Get(':id/events')
  @Access('readConference')
  @ApiOperation({
    summary: 'The conference\'s events with conferenceVersion > v, in order (long poll).',
    description:
      'When there are none it waits (LONG_POLL_TIMEOUT_MS, 5 s by default) and answers as soon as one is committed, else []. One answer holds at most 256 events (and 768 KB): poll again from the last conferenceVersion for the rest.',
  })
  @ApiQuery({ name: 'v', type: Number, required: true, description: 'The last conference version the client has seen (0 for all).' })
  @ApiOkResponse({ type: [ConferenceEvent] })
  async events(@Param('id') id: string, @Query('v') vQuery: unknown, @Ctx() ctx: RequestContext, @Res({ passthrough: true }) reply: FastifyReply): Promise<ConferenceEvent[]> {
    const conferenceId = idParam(id);
    const v = singleQuery(vQuery, 'v');
    if (v === undefined || !/^\d{1,15}$/.test(v)) throw new ParleyError('BAD_REQUEST', 'v must be a non-negative integer (the last conference version seen)', { fields: ['v'] });
    const query = { conferenceId, afterVersion: Number(v) };
    return this.quotas.parkedPolls.hold(ctx.actor, async () => {
      const deadline = Date.now() + this.config.longPollTimeoutMs;
      const gone = new AbortController();
      // The response's 'close' before it was sent means the client went away: stop waiting for it.
      reply.raw.once('close', () => gone.abort());
      for (;;) {
        // Register before asking, so an event committed between the answer and the wait still wakes us.
        const abandon = new AbortController();
        const next = this.hub.next(ctx.actor.organizationId, conferenceId, Math.max(0, deadline - Date.now()), AbortSignal.any([gone.signal, abandon.signal]));
        const events = await this.rpc.request<ConferenceEvent[]>(ConferenceQueries.events, query, ctx);
        if (events.length > 0 || Date.now() >= deadline || gone.signal.aborted) {
          abandon.abort();
          return events;
        }
        const woken = await next;
        if (!woken) return [];
        // The conference service just answered for this caller and conference (same organization);
        // the event that woke us is the one it waits for when it is the next version: answer it
        // as the feed would, without asking again. Anything else (a gap, an unreadable message) asks.
        if (woken.event && woken.event.streamVersion === query.afterVersion + 1) return [toFeedEvent(conferenceId, woken.event)];
      }
    });
  }
}
