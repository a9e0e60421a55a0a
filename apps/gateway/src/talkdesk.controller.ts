import { Body, Controller, HttpCode, Inject, Post, Req } from '@nestjs/common';
import { ApiBadRequestResponse, ApiBearerAuth, ApiHeader, ApiOAuth2, ApiOkResponse, ApiOperation, ApiTags, ApiUnauthorizedResponse } from '@nestjs/swagger';
import type { FastifyRequest } from 'fastify';
import {
  InteractionCommands,
  ParleyError,
  type RequestContext,
  type TalkdeskActivityQuery,
  TalkdeskContactActivityRequest,
  TalkdeskContactActivityResponseItem,
  TalkdeskCreateTalkdeskRequest,
  TalkdeskCreateTalkdeskResponse,
  TalkdeskCredentials,
} from '@parley/contracts';
import type { NatsRpcClient } from '@parley/messaging';
import { Command } from './access';
import { ApiCommonErrors } from './api-docs';
import { Ctx } from './request-context';
import { RPC_CLIENT } from './tokens';

/** A Host header as a URL's authority: a name or address, and a port. */
const HOST = /^[A-Za-z0-9.-]{1,253}(?::\d{1,5})?$/;

/** The spec's Talkdesk integration: decided by the interaction service over NATS. */
@ApiTags('Talkdesk integration')
@ApiBearerAuth()
@ApiOAuth2([])
@ApiBadRequestResponse({ description: 'Malformed input: the message names each field.' })
@ApiCommonErrors()
@Controller('talkdesk-integration')
export class TalkdeskController {
  constructor(@Inject(RPC_CLIENT) private readonly rpc: NatsRpcClient) {}

  @Post('create')
  @Command('talkdeskContacts')
  @HttpCode(200)
  @ApiOperation({ summary: "Creates the contact's interaction (talkdesk-<contact_id>, of type talkdesk), or finds it when it exists." })
  @ApiOkResponse({ type: TalkdeskCreateTalkdeskResponse })
  create(@Body() body: TalkdeskCreateTalkdeskRequest, @Ctx() ctx: RequestContext): Promise<TalkdeskCreateTalkdeskResponse> {
    return this.rpc.request(InteractionCommands.talkdeskCreate, body, ctx);
  }

  @Post('authorization-validator')
  @Command('talkdeskValidate')
  @HttpCode(200)
  @ApiOperation({
    summary: "Checks a Talkdesk integration's credentials ({account_id, api_key}) against the accounts configured for the caller's organization (TALKDESK_INTEGRATIONS); answers its claims.",
  })
  @ApiOkResponse({ schema: { type: 'object', additionalProperties: { type: 'string' } } })
  @ApiUnauthorizedResponse({ description: 'The credentials are not those of a Talkdesk account configured for the organization.' })
  validate(@Body() body: TalkdeskCredentials, @Ctx() ctx: RequestContext): Promise<Record<string, string>> {
    return this.rpc.request(InteractionCommands.talkdeskValidate, body, ctx);
  }

  @Post('activity')
  @Command('talkdeskContacts')
  @HttpCode(200)
  @ApiOperation({ summary: "The contact's interactions (of the types asked, all when none), newest first, at most 100, each with a url back to it on this server (from the request's Host)." })
  @ApiHeader({ name: 'Host', required: true })
  @ApiOkResponse({ type: [TalkdeskContactActivityResponseItem] })
  activity(@Body() body: TalkdeskContactActivityRequest, @Req() req: FastifyRequest, @Ctx() ctx: RequestContext): Promise<TalkdeskContactActivityResponseItem[]> {
    const host = req.headers.host;
    if (typeof host !== 'string' || !HOST.test(host)) throw new ParleyError('BAD_REQUEST', 'The Host header must name this server (a host name or address, and a port)', { fields: ['Host'] });
    const query: TalkdeskActivityQuery = { ...body, origin: `${req.protocol === 'https' ? 'https' : 'http'}://${host}` };
    return this.rpc.request(InteractionCommands.talkdeskActivity, query, ctx);
  }
}
