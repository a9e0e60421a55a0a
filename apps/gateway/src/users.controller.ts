import { Body, Controller, Get, Header, HttpCode, Inject, Param, Post, Query, Res } from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiBearerAuth,
  ApiConflictResponse,
  ApiNoContentResponse,
  ApiNotFoundResponse,
  ApiOAuth2,
  ApiOkResponse,
  ApiOperation,
  ApiQuery,
  ApiTags,
} from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import {
  EndpointDelivery,
  KeepUserEndpointAliveWebCommand,
  ParleyError,
  PresenceCommands,
  RegisterResult,
  RegisterUserEndpointWebCommand,
  type RequestContext,
  SendEventToUserWebCommand,
  UnregisterUserEndpointWebCommand,
} from '@parley/contracts';
import type { NatsRpcClient } from '@parley/messaging';
import type { GatewayConfig } from './config';
import { LongPollSessions, ownEndpoint } from './long-poll-sessions';
import { idParam, listQuery } from './http-params';
import { Access, Command } from './access';
import { ApiCommonErrors } from './api-docs';
import { Ctx } from './request-context';
import { GATEWAY_CONFIG, RPC_CLIENT } from './tokens';
import { UserQuotas } from './user-quotas';

/** The spec's Registrations (/users/endpoints): decided by the presence service over NATS. */
@ApiTags('Registrations')
@ApiBearerAuth()
@ApiOAuth2([])
@ApiBadRequestResponse({ description: 'Malformed body: the message names each field.' })
@ApiCommonErrors()
@Controller('users/endpoints')
export class UsersController {
  constructor(
    @Inject(RPC_CLIENT) private readonly rpc: NatsRpcClient,
    @Inject(GATEWAY_CONFIG) private readonly config: GatewayConfig,
    private readonly longPolls: LongPollSessions,
    private readonly quotas: UserQuotas,
  ) {}

  @Post()
  @Command('registerEndpoint')
  @HttpCode(200)
  @Header('content-type', 'application/json; charset=utf-8')
  @ApiOperation({
    summary: 'Registers a user endpoint (answers its id as a JSON string).',
    description:
      'The endpoint must send a keepalive at least every keepAliveSeconds: past that its conference participations turn SICK, and after twice that it expires (unregistered; it leaves its conferences with reason "expired"). With serverKeepAliveReminderOn it is sent a UserEndpointKeepAliveRequestedEvent when two thirds of the time have passed.',
  })
  @ApiOkResponse({ schema: { type: 'string' } })
  @ApiConflictResponse({ description: 'The userEndpointId is registered by another user.' })
  async register(@Body() body: RegisterUserEndpointWebCommand, @Ctx() ctx: RequestContext): Promise<string> {
    const { id } = await this.rpc.request<RegisterResult>(PresenceCommands.register, body, ctx);
    return JSON.stringify(id);
  }

  @Post('register')
  @Command('registerEndpoint')
  @HttpCode(200)
  @ApiOperation({ summary: 'Registers a user endpoint (answers {id}; the iOS-friendly form of POST /users/endpoints).' })
  @ApiOkResponse({ type: RegisterResult })
  @ApiConflictResponse({ description: 'The userEndpointId is registered by another user.' })
  registerForId(@Body() body: RegisterUserEndpointWebCommand, @Ctx() ctx: RequestContext): Promise<RegisterResult> {
    return this.rpc.request(PresenceCommands.register, body, ctx);
  }

  @Post('keepalive')
  @Command('useEndpoint')
  @HttpCode(204)
  @ApiOperation({ summary: 'Keeps a user endpoint alive (and HEALTHY again if it was SICK).' })
  @ApiNoContentResponse()
  @ApiNotFoundResponse({ description: 'Not a registered endpoint of the caller (or it expired).' })
  async keepAlive(@Body() body: KeepUserEndpointAliveWebCommand, @Ctx() ctx: RequestContext): Promise<void> {
    await this.rpc.request(PresenceCommands.keepAlive, body, ctx);
  }

  @Post('unregister')
  @Command('useEndpoint')
  @HttpCode(204)
  @ApiOperation({ summary: 'Unregisters a user endpoint: it leaves its conferences with the reason given, its socket is closed and its queued events dropped.' })
  @ApiNoContentResponse()
  @ApiNotFoundResponse({ description: 'Not a registered endpoint of the caller.' })
  async unregister(@Body() body: UnregisterUserEndpointWebCommand, @Ctx() ctx: RequestContext): Promise<void> {
    await this.rpc.request(PresenceCommands.unregister, body, ctx);
  }

  @Post('sendEvent')
  @Command('sendEventToUser')
  @HttpCode(200)
  @Header('content-type', 'application/json; charset=utf-8')
  @ApiOperation({
    summary: 'Sends an event to one endpoint of a user, or to all of them; answers the number of endpoints sent to.',
    description:
      "A user reaches users of its own organization (the token's); a SERVICE caller names the organization. An endpoint with no socket or long poll open gets the event when it next connects, whatever the qos (kept while the endpoint is registered, at most 1,000 per endpoint); qos 1 events are delivered again until the client acknowledges them ({\"ack\": id} on the socket, ?ack= on the long poll).",
  })
  @ApiOkResponse({ schema: { type: 'integer' } })
  @ApiNotFoundResponse({ description: 'The named userEndpointId is not a registered endpoint of that user in that organization.' })
  async sendEvent(@Body() body: SendEventToUserWebCommand, @Ctx() ctx: RequestContext): Promise<string> {
    return JSON.stringify(await this.rpc.request<number>(PresenceCommands.sendEvent, body, ctx));
  }

  @Get(':id/events')
  @Access('useEndpoint')
  @ApiOperation({
    summary: "The endpoint's events, for clients that cannot hold the socket (/rtc-api/ws) (long poll).",
    description:
      'Answers what arrived since the last poll, or waits (LONG_POLL_TIMEOUT_MS) for the next and answers [] if none comes. The session behind it lives on this gateway for a while after each poll, buffering; qos 1 deliveries are acknowledged with ?ack=id,id on the next poll, else delivered again later.',
  })
  @ApiQuery({ name: 'ack', required: false, description: 'Comma-separated qos 1 delivery ids the client has handled.' })
  @ApiOkResponse({ type: [EndpointDelivery] })
  @ApiNotFoundResponse({ description: 'Not a registered endpoint of the caller.' })
  async events(@Param('id') id: string, @Query('ack') ack: unknown, @Ctx() ctx: RequestContext, @Res({ passthrough: true }) reply: FastifyReply): Promise<EndpointDelivery[]> {
    idParam(id);
    const acks = listQuery(ack);
    if (acks.length > 1000) throw new ParleyError('BAD_REQUEST', 'ack lists at most 1000 delivery ids', { fields: ['ack'] });
    await ownEndpoint(this.rpc, id, ctx, this.config.rpcTimeoutMs);
    return this.quotas.parkedPolls.hold(ctx.actor, () => {
      const gone = new AbortController();
      reply.raw.once('close', () => gone.abort());
      return this.longPolls.poll(ctx.actor, id, acks, this.config.longPollTimeoutMs, gone.signal);
    });
  }
}
