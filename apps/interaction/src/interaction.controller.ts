import { Controller, Inject } from '@nestjs/common';
import { Ctx, MessagePattern, NatsContext, Payload } from '@nestjs/microservices';
import {
  type CreateInteractionResponse,
  CreateInteractionWebCommand,
  type Interaction,
  InteractionCommands,
  InteractionIdQuery,
  InteractionPageQuery,
  InteractionQueries,
  type PageInteraction,
  type CreatingRatingWebResponse,
  CreateRatingWebCommand,
  type Rating,
  RatingsQuery,
  TalkdeskActivityQuery,
  type TalkdeskContactActivityResponseItem,
  TalkdeskCreateTalkdeskRequest,
  type TalkdeskCreateTalkdeskResponse,
  TalkdeskCredentials,
  UpdateInteractionCommand,
} from '@parley/contracts';
import { parleyValidationPipe, requestContextOf } from '@parley/messaging';
import { InteractionService } from './interaction.service';
import { RatingService } from './rating.service';
import { TalkdeskService } from './talkdesk.service';

const valid = parleyValidationPipe();

/** The interaction service's NATS handlers (queue group "interaction"): interactions, ratings, the Talkdesk integration. */
@Controller()
export class InteractionController {
  constructor(
    @Inject(InteractionService) private readonly interactions: InteractionService,
    @Inject(RatingService) private readonly ratings: RatingService,
    @Inject(TalkdeskService) private readonly talkdesk: TalkdeskService,
  ) {}

  @MessagePattern(InteractionCommands.create)
  create(@Payload(valid) dto: CreateInteractionWebCommand, @Ctx() nats: NatsContext): Promise<CreateInteractionResponse> {
    return this.interactions.create(dto, requestContextOf(nats));
  }

  @MessagePattern(InteractionCommands.update)
  update(@Payload(valid) dto: UpdateInteractionCommand, @Ctx() nats: NatsContext): Promise<null> {
    return this.interactions.update(dto, requestContextOf(nats));
  }

  @MessagePattern(InteractionQueries.get)
  get(@Payload(valid) q: InteractionIdQuery, @Ctx() nats: NatsContext): Promise<Interaction> {
    return this.interactions.get(q.interactionId, requestContextOf(nats));
  }

  @MessagePattern(InteractionQueries.conferences)
  conferences(@Payload(valid) q: InteractionIdQuery, @Ctx() nats: NatsContext): Promise<string[]> {
    return this.interactions.conferences(q.interactionId, requestContextOf(nats));
  }

  @MessagePattern(InteractionQueries.page)
  page(@Payload(valid) q: InteractionPageQuery, @Ctx() nats: NatsContext): Promise<PageInteraction> {
    return this.interactions.page(q, requestContextOf(nats));
  }

  @MessagePattern(InteractionCommands.rate)
  rate(@Payload(valid) dto: CreateRatingWebCommand, @Ctx() nats: NatsContext): Promise<CreatingRatingWebResponse> {
    return this.ratings.rate(dto, requestContextOf(nats));
  }

  @MessagePattern(InteractionQueries.ratings)
  ratingsOf(@Payload(valid) q: RatingsQuery, @Ctx() nats: NatsContext): Promise<Rating[]> {
    return this.ratings.list(q, requestContextOf(nats));
  }

  @MessagePattern(InteractionCommands.talkdeskCreate)
  talkdeskCreate(@Payload(valid) dto: TalkdeskCreateTalkdeskRequest, @Ctx() nats: NatsContext): Promise<TalkdeskCreateTalkdeskResponse> {
    return this.talkdesk.create(dto, requestContextOf(nats));
  }

  @MessagePattern(InteractionCommands.talkdeskActivity)
  talkdeskActivity(@Payload(valid) q: TalkdeskActivityQuery, @Ctx() nats: NatsContext): Promise<TalkdeskContactActivityResponseItem[]> {
    return this.talkdesk.activity(q, requestContextOf(nats));
  }

  @MessagePattern(InteractionCommands.talkdeskValidate)
  talkdeskValidate(@Payload(valid) body: TalkdeskCredentials, @Ctx() nats: NatsContext): Record<string, string> {
    return this.talkdesk.validate(body, requestContextOf(nats));
  }
}
