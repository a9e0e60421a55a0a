import { Inject, Injectable } from '@nestjs/common';
import {
  type CreateRatingWebCommand,
  type CreatingRatingWebResponse,
  ParleyError,
  RATING_CONTEXT,
  type Rating,
  type RatingDomainEvent,
  type RatingsQuery,
  type RequestContext,
  pageOf,
} from '@parley/contracts';
import { Aggregate, KIT, causeOf, instantOf, changingTooFast } from '@parley/service-kit';
import { type RateCommand, type RatingState, ratingDecider, ratingIdOf, ratingsVisibleTo } from './domain/rating';
import { ratingsOf } from './infra/rating-views';
import type { InteractionKit } from './settings';

/** Ratings of calls and conferences: one stream each, the `rating_views` row in the append's transaction. */
@Injectable()
export class RatingService {
  private readonly ratings: Aggregate<RateCommand, RatingDomainEvent, RatingState>;

  constructor(@Inject(KIT) private readonly kit: InteractionKit) {
    this.ratings = new Aggregate(kit, {
      context: RATING_CONTEXT,
      decider: ratingDecider,
      // A rating is written once and never read back through its stream: nothing worth keeping in memory.
      cacheSize: 0,
      tooManyConflicts: changingTooFast('Rating'),
    });
  }

  async rate(dto: CreateRatingWebCommand, ctx: RequestContext): Promise<CreatingRatingWebResponse> {
    const { organizationId, userId } = ctx.actor;
    const now = instantOf(this.kit.clock);
    const ratingId = ratingIdOf(organizationId, dto.sessionType, dto.sessionId, userId);
    const command: RateCommand = {
      kind: 'rate',
      ratingId,
      organizationId,
      actor: ctx.actor,
      now,
      sessionType: dto.sessionType,
      sessionId: dto.sessionId,
      score: dto.rating,
      ...(dto.comment !== undefined ? { comment: dto.comment } : {}),
      ...(dto.userEndpointId !== undefined ? { userEndpointId: dto.userEndpointId } : {}),
      ...(dto.interactionId !== undefined ? { interactionId: dto.interactionId } : {}),
    };
    const { answer } = await this.ratings.execute(organizationId, ratingId, command, { ...causeOf(ctx), time: now }, { answer: () => ({ id: ratingId }) });
    return answer;
  }

  /** The ratings the caller may see, newest first, as many as fit in one answer (Limits.pageBytes). */
  async list(q: RatingsQuery, ctx: RequestContext): Promise<Rating[]> {
    if (q.interactionId === undefined && (q.sessionType === undefined || q.sessionId === undefined)) {
      throw new ParleyError('BAD_REQUEST', 'Ratings are listed by interactionId, or by sessionType and sessionId', { fields: ['interactionId', 'sessionId'] });
    }
    // Staff see every rating of the organization; anyone else only its own (the table's "hidden" leaves the rest out).
    return pageOf(await ratingsOf(this.kit.store, ctx.actor.organizationId, q, ratingsVisibleTo(ctx.actor)));
  }
}
