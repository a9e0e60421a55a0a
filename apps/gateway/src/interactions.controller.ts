import { Body, Controller, Get, HttpCode, Inject, Param, Post, Put, Query } from '@nestjs/common';
import { ApiBadRequestResponse, ApiBearerAuth, ApiConflictResponse, ApiNoContentResponse, ApiNotFoundResponse, ApiOAuth2, ApiOkResponse, ApiOperation, ApiQuery, ApiTags } from '@nestjs/swagger';
import {
  CreateInteractionResponse,
  CreateInteractionWebCommand,
  INTERACTION_FILTERS_MAX,
  INTERACTION_OFFSET_MAX,
  INTERACTION_PAGE_DEFAULT,
  INTERACTION_PAGE_MAX,
  INTERACTION_SORT_PROPERTIES,
  Interaction,
  InteractionCommands,
  type InteractionPageQuery,
  InteractionQueries,
  type InteractionSortOrder,
  PageInteraction,
  type RequestContext,
  UpdateInteractionWebCommand,
} from '@parley/contracts';
import type { NatsRpcClient } from '@parley/messaging';
import { Access, Command } from './access';
import { ApiCommonErrors } from './api-docs';
import { badField, idParam, intQuery, singleQuery } from './http-params';
import { Ctx } from './request-context';
import { RPC_CLIENT } from './tokens';


/** An ISO-8601 date-time with its offset (`2019-08-24T14:15:22Z`), as the spec's `date-time`. */
const DATE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}:\d{2})$/;

function instantQuery(value: unknown, name: string): string {
  const v = singleQuery(value, name);
  if (v === undefined || v === '') throw badField(name, `${name} is required: an ISO-8601 date-time such as 2019-08-24T14:15:22Z`);
  if (!DATE_TIME.test(v) || Number.isNaN(Date.parse(v))) throw badField(name, `${name} must be an ISO-8601 date-time with its offset, such as 2019-08-24T14:15:22Z`);
  return new Date(v).toISOString();
}

/** `key,value,key,value`: every pair must equal the interaction's data (string values). */
function paramsQuery(value: unknown): Record<string, string> {
  if (value === undefined) return {};
  const items = [value].flat().flatMap((v) => String(v).split(','));
  if (items.length === 1 && items[0] === '') return {};
  if (items.length % 2 !== 0) throw badField('params', `params must be key,value pairs (key,value,key,value…); it has ${items.length} items`);
  if (items.length / 2 > INTERACTION_FILTERS_MAX) throw badField('params', `params may hold at most ${INTERACTION_FILTERS_MAX} pairs`);
  const out: Record<string, string> = {};
  for (let i = 0; i < items.length; i += 2) {
    if (!items[i]) throw badField('params', `params item ${i + 1} is an empty key`);
    out[items[i]] = items[i + 1];
  }
  return out;
}

/** `property,asc|desc`, repeatable (Spring's Pageable): the direction defaults to asc. */
function sortQuery(value: unknown): InteractionSortOrder[] {
  const given = value === undefined ? [] : [value].flat().map(String);
  if (given.length > INTERACTION_FILTERS_MAX) throw badField('sort', `sort may be given at most ${INTERACTION_FILTERS_MAX} times`);
  return given.map((s) => {
    const [property, direction = 'asc', ...rest] = s.split(',');
    if (!(INTERACTION_SORT_PROPERTIES as readonly string[]).includes(property)) throw badField('sort', `sort property ${JSON.stringify(property)} is unknown; it may be ${INTERACTION_SORT_PROPERTIES.join(', ')}`);
    const dir = direction.toUpperCase();
    if ((dir !== 'ASC' && dir !== 'DESC') || rest.length > 0) throw badField('sort', `sort ${JSON.stringify(s)} must be property,asc or property,desc`);
    return { property: property as InteractionSortOrder['property'], direction: dir };
  });
}

/** The spec's Interaction endpoints: decided by the interaction service over NATS. */
@ApiTags('Interaction')
@ApiBearerAuth()
@ApiOAuth2([])
@ApiBadRequestResponse({ description: 'Malformed input: the message names each field.' })
@ApiCommonErrors()
@Controller('interactions')
export class InteractionsController {
  constructor(@Inject(RPC_CLIENT) private readonly rpc: NatsRpcClient) {}

  @Post()
  @Command('createInteraction')
  @HttpCode(200)
  @ApiOperation({ summary: 'Creates an interaction; an interactionId supplied (an integration\'s own id) is kept, otherwise the server makes one.' })
  @ApiOkResponse({ type: CreateInteractionResponse })
  @ApiConflictResponse({ description: 'An interaction with that id exists.' })
  create(@Body() body: CreateInteractionWebCommand, @Ctx() ctx: RequestContext): Promise<CreateInteractionResponse> {
    return this.rpc.request(InteractionCommands.create, body, ctx);
  }

  @Get()
  @Access('listInteractions')
  @ApiOperation({
    summary: "The organization's interactions created in [start, end), a page at a time.",
    description: `params: key,value pairs that must all equal the interaction's data (string values). sort: property,asc|desc, repeatable (${INTERACTION_SORT_PROPERTIES.join(', ')}); createdAt,desc when none is given; ties go by id. At most ${INTERACTION_PAGE_MAX} a page.`,
  })
  @ApiQuery({ name: 'start', required: true, type: String, format: 'date-time' })
  @ApiQuery({ name: 'end', required: true, type: String, format: 'date-time' })
  @ApiQuery({ name: 'params', required: false, type: String, description: 'key,value,key,value' })
  @ApiQuery({ name: 'page', required: false, type: Number, description: 'Zero-based page index (0..N)' })
  @ApiQuery({ name: 'size', required: false, type: Number, description: `The size of the page (1..${INTERACTION_PAGE_MAX}, default ${INTERACTION_PAGE_DEFAULT})` })
  @ApiQuery({ name: 'sort', required: false, type: String, isArray: true, description: 'Sorting criteria in the format: property,(asc|desc)' })
  @ApiOkResponse({ type: PageInteraction })
  page(
    @Query('start') start: unknown,
    @Query('end') end: unknown,
    @Query('params') params: unknown,
    @Query('page') page: unknown,
    @Query('size') size: unknown,
    @Query('sort') sort: unknown,
    @Ctx() ctx: RequestContext,
  ): Promise<PageInteraction> {
    const orders = sortQuery(sort);
    const query: InteractionPageQuery = {
      start: instantQuery(start, 'start'),
      end: instantQuery(end, 'end'),
      params: paramsQuery(params),
      page: intQuery(page, 'page', 0, 0, 1_000_000),
      size: intQuery(size, 'size', INTERACTION_PAGE_DEFAULT, 1, INTERACTION_PAGE_MAX),
      sort: orders.length > 0 ? orders : [{ property: 'createdAt', direction: 'DESC' }],
    };
    if (Date.parse(query.end) < Date.parse(query.start)) throw badField('end', `end (${query.end}) is before start (${query.start})`);
    if (query.page * query.size > INTERACTION_OFFSET_MAX) throw badField('page', `page × size may be at most ${INTERACTION_OFFSET_MAX}: narrow start and end to reach older interactions`);
    return this.rpc.request(InteractionQueries.page, query, ctx);
  }

  @Get(':interactionId')
  @Access('readInteraction')
  @ApiOperation({ summary: 'An interaction by its id.' })
  @ApiOkResponse({ type: Interaction })
  @ApiNotFoundResponse({ description: 'No such interaction in your organization (or not one you may see).' })
  get(@Param('interactionId') id: string, @Ctx() ctx: RequestContext): Promise<Interaction> {
    return this.rpc.request(InteractionQueries.get, { interactionId: idParam(id, 'interactionId') }, ctx);
  }

  @Get(':interactionId/conferences')
  @Access('readInteraction')
  @ApiOperation({
    summary: "The ids of the conferences that named the interaction (Parley's addition), newest first.",
    description: 'A conference names an interaction when it is created with an interactionId, or with POST /conferences/interaction. The list follows the conference service\'s events a moment after they are committed; at most 1,000.',
  })
  @ApiOkResponse({ schema: { type: 'array', items: { type: 'string' } } })
  @ApiNotFoundResponse({ description: 'No such interaction in your organization (or not one you may see).' })
  conferences(@Param('interactionId') id: string, @Ctx() ctx: RequestContext): Promise<string[]> {
    return this.rpc.request(InteractionQueries.conferences, { interactionId: idParam(id, 'interactionId') }, ctx);
  }

  @Put(':interactionId')
  @Command('updateInteraction')
  @HttpCode(204)
  @ApiOperation({ summary: "Updates an interaction's type and/or data (an omitted one is left as it is; data given replaces all data); with version, only at that version." })
  @ApiNoContentResponse({ description: 'Updated.' })
  @ApiNotFoundResponse({ description: 'No such interaction in your organization (or not one you may see).' })
  @ApiConflictResponse({ description: 'The version given is not the current one: nothing changed.' })
  async update(@Param('interactionId') id: string, @Body() body: UpdateInteractionWebCommand, @Ctx() ctx: RequestContext): Promise<void> {
    await this.rpc.request(InteractionCommands.update, { ...body, interactionId: idParam(id, 'interactionId') }, ctx);
  }
}
