import { Body, Controller, Get, HttpCode, Inject, Param, Post } from '@nestjs/common';
import { ApiBadRequestResponse, ApiBearerAuth, ApiConflictResponse, ApiOAuth2, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { CreateRatingWebCommand, CreatingRatingWebResponse, InteractionCommands, InteractionQueries, RATINGS_LISTED_MAX, Rating, type RatingsQuery, type RequestContext } from '@parley/contracts';
import type { NatsRpcClient } from '@parley/messaging';
import { Access, Command } from './access';
import { ApiCommonErrors } from './api-docs';
import { idParam } from './http-params';
import { Ctx } from './request-context';
import { RPC_CLIENT } from './tokens';

const LISTED = `Newest first: every rating of the organization for staff (AGENT, SERVICE, ADMIN), a customer's own only; at most ${RATINGS_LISTED_MAX}, and fewer when they would pass 768 KB as JSON.`;

/** The spec's Ratings endpoints: decided by the interaction service over NATS. */
@ApiTags('Ratings')
@ApiBearerAuth()
@ApiOAuth2([])
@ApiBadRequestResponse({ description: 'Malformed input: the message names each field.' })
@ApiCommonErrors()
@Controller('ratings')
export class RatingsController {
  constructor(@Inject(RPC_CLIENT) private readonly rpc: NatsRpcClient) {}

  @Post()
  @Command('rateSession')
  @HttpCode(200)
  @ApiOperation({ summary: 'Rates a call or conference (1 to 5); a user rates one session once.' })
  @ApiOkResponse({ type: CreatingRatingWebResponse })
  @ApiConflictResponse({ description: 'The caller has already rated that session.' })
  rate(@Body() body: CreateRatingWebCommand, @Ctx() ctx: RequestContext): Promise<CreatingRatingWebResponse> {
    return this.rpc.request(InteractionCommands.rate, body, ctx);
  }

  @Get('interactions/:interactionId')
  @Access('readRatings')
  @ApiOperation({ summary: "An interaction's ratings.", description: LISTED })
  @ApiOkResponse({ type: [Rating] })
  ofInteraction(@Param('interactionId') id: string, @Ctx() ctx: RequestContext): Promise<Rating[]> {
    const q: RatingsQuery = { interactionId: idParam(id, 'interactionId') };
    return this.rpc.request(InteractionQueries.ratings, q, ctx);
  }

  @Get('conferences/:conferenceId')
  @Access('readRatings')
  @ApiOperation({ summary: "A conference's ratings.", description: LISTED })
  @ApiOkResponse({ type: [Rating] })
  ofConference(@Param('conferenceId') id: string, @Ctx() ctx: RequestContext): Promise<Rating[]> {
    const q: RatingsQuery = { sessionType: 'CONFERENCE', sessionId: idParam(id, 'conferenceId') };
    return this.rpc.request(InteractionQueries.ratings, q, ctx);
  }
}
