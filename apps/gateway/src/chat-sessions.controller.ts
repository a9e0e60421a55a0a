import { Body, Controller, Get, HttpCode, Inject, Param, Patch, Post, Query } from '@nestjs/common';
import { ApiBadRequestResponse, ApiBearerAuth, ApiConflictResponse, ApiNotFoundResponse, ApiOAuth2, ApiOkResponse, ApiOperation, ApiQuery, ApiTags } from '@nestjs/swagger';
import {
  CHAT_SESSIONS_LISTED_DEFAULT,
  CHAT_SESSIONS_LISTED_MAX,
  CHAT_SESSION_OFFSET_MAX,
  CHAT_SESSION_STATES,
  ChatSession,
  ChatSessionCommands,
  type ChatSessionListQuery,
  ChatSessionQueries,
  type ChatSessionStateName,
  CreateChatSessionWebCommand,
  PatchChatSessionWebCommand,
  type RequestContext,
} from '@parley/contracts';
import type { NatsRpcClient } from '@parley/messaging';
import { Access, Command } from './access';
import { ApiCommonErrors } from './api-docs';
import { badField, idParam, intQuery, optionalIdQuery, singleQuery } from './http-params';
import { Ctx } from './request-context';
import { RPC_CLIENT } from './tokens';

const NOT_FOUND = 'No such chat session in your organization (or not one you may see).';

/** The telemedicine API's chat sessions: decided by the interaction service over NATS. */
@ApiTags('Chat_Session')
@ApiBearerAuth()
@ApiOAuth2([])
@ApiBadRequestResponse({ description: 'Malformed input: the message names each field.' })
@ApiCommonErrors()
@Controller('chat-sessions')
export class ChatSessionsController {
  constructor(@Inject(RPC_CLIENT) private readonly rpc: NatsRpcClient) {}

  @Get()
  @Access('readChatSession')
  @ApiOperation({
    summary: 'Chat sessions, newest first.',
    description: `Staff (AGENT, SERVICE, ADMIN) see every session of the organization; anyone else those it takes part in, or whose room is a conference it created or joined. At most ${CHAT_SESSIONS_LISTED_MAX} a page; a page larger than 768 KB as JSON is 413 (ask for a smaller size).`,
  })
  @ApiQuery({ name: 'state', required: false, enum: CHAT_SESSION_STATES, description: 'Only sessions in this state.' })
  @ApiQuery({ name: 'participant', required: false, type: String, description: 'Only sessions with this account among the participants.' })
  @ApiQuery({ name: 'page', required: false, type: Number, description: 'Zero-based page index (0..N)' })
  @ApiQuery({ name: 'size', required: false, type: Number, description: `The size of the page (1..${CHAT_SESSIONS_LISTED_MAX}, default ${CHAT_SESSIONS_LISTED_DEFAULT})` })
  @ApiOkResponse({ type: [ChatSession] })
  list(@Query('state') state: unknown, @Query('participant') participant: unknown, @Query('page') page: unknown, @Query('size') size: unknown, @Ctx() ctx: RequestContext): Promise<ChatSession[]> {
    const stateValue = singleQuery(state, 'state');
    if (stateValue !== undefined && !(CHAT_SESSION_STATES as readonly string[]).includes(stateValue)) throw badField('state', `state must be one of: ${CHAT_SESSION_STATES.join(', ')}`);
    const participantValue = optionalIdQuery(participant, 'participant');
    const query: ChatSessionListQuery = {
      ...(stateValue !== undefined ? { state: stateValue as ChatSessionStateName } : {}),
      ...(participantValue !== undefined ? { participant: participantValue } : {}),
      page: intQuery(page, 'page', 0, 0, CHAT_SESSION_OFFSET_MAX),
      size: intQuery(size, 'size', CHAT_SESSIONS_LISTED_DEFAULT, 1, CHAT_SESSIONS_LISTED_MAX),
    };
    return this.rpc.request(ChatSessionQueries.list, query, ctx);
  }

  @Get(':id')
  @Access('readChatSession')
  @ApiOperation({ summary: 'A chat session by its id.' })
  @ApiOkResponse({ type: ChatSession })
  @ApiNotFoundResponse({ description: NOT_FOUND })
  get(@Param('id') id: string, @Ctx() ctx: RequestContext): Promise<ChatSession> {
    return this.rpc.request(ChatSessionQueries.get, { chatSessionId: idParam(id) }, ctx);
  }

  @Post()
  @Command('createChatSession')
  @HttpCode(200)
  @ApiOperation({ summary: 'Creates a chat session (state created) between its participants.', description: 'startedAt/By, acceptedAt/By, rejectedAt/By, rejectReason, finishedAt/By are stamped by the directives of PATCH: giving one is 400.' })
  @ApiOkResponse({ type: ChatSession })
  create(@Body() body: CreateChatSessionWebCommand, @Ctx() ctx: RequestContext): Promise<ChatSession> {
    return this.rpc.request(ChatSessionCommands.create, body, ctx);
  }

  @Patch(':id')
  @Command('updateChatSession')
  @ApiOperation({
    summary: "Changes a chat session's fields and/or gives it directives; answers the session as it is after.",
    description:
      'Directives, applied in this order after the fields: start (created → started), accept or reject (started → accepted | rejected), finish (accepted → finished); each stamps the caller and the server\'s time. A directive the state does not allow is 409 naming the state, and nothing changes; a rejected or finished session\'s fields cannot change (409).',
  })
  @ApiOkResponse({ type: ChatSession })
  @ApiNotFoundResponse({ description: NOT_FOUND })
  @ApiConflictResponse({ description: 'The session is not in the state the directive needs, or is closed: the message names its state.' })
  patch(@Param('id') id: string, @Body() body: PatchChatSessionWebCommand, @Ctx() ctx: RequestContext): Promise<ChatSession> {
    return this.rpc.request(ChatSessionCommands.patch, { ...body, chatSessionId: idParam(id) }, ctx);
  }
}
