import { Body, Controller, HttpCode, Inject, Post, Req } from '@nestjs/common';
import { ApiBadRequestResponse, ApiBearerAuth, ApiBody, ApiHeader, ApiOAuth2, ApiOkResponse, ApiOperation, ApiTags, ApiUnauthorizedResponse } from '@nestjs/swagger';
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
  @ApiBody({ schema: { type: 'object', additionalProperties: true, required: ['account_id', 'api_key'], properties: { account_id: { type: 'string' }, api_key: { type: 'string' } } } })
  @ApiOkResponse({ schema: { type: 'object', additionalProperties: { type: 'string' } } })
  @ApiUnauthorizedResponse({ description: 'The credentials are not those of a Talkdesk account configured for the organization.' })
  validate(@Body() body: Record<string, unknown>, @Ctx() ctx: RequestContext): Promise<Record<string, string>> {
    if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new ParleyError('BAD_REQUEST', 'The body must be a JSON object with account_id and api_key', { fields: ['account_id', 'api_key'] });
    const { account_id, api_key } = body;
    for (const [name, v, max] of [['account_id', account_id, 256], ['api_key', api_key, 1024]] as const) {
      if (typeof v !== 'string' || v === '' || v.length > max) throw new ParleyError('BAD_REQUEST', `${name} must be a string of 1 to ${max} characters`, { fields: [name] });
    }
    return this.rpc.request(InteractionCommands.talkdeskValidate, { account_id, api_key }, ctx);
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
