import { Inject, Injectable } from '@nestjs/common';
import {
  type CreateInteractionResponse,
  type CreateInteractionWebCommand,
  INTERACTION_CONTEXT,
  type Interaction,
  type InteractionDomainEvent,
  type InteractionPageQuery,
  Limits,
  type PageInteraction,
  ParleyError,
  type RequestContext,
  type UpdateInteractionCommand,
  authorize,
  interactionPage,
  jsonBytes,
  tooLarge,
  unguessableId,
} from '@parley/contracts';
import { Aggregate, KIT } from '@parley/service-kit';
import { type InteractionCommand, type InteractionState, interactionDecider, readable } from './domain/decider';
import { interactionsPage } from './infra/interaction-views';
import type { InteractionKit } from './settings';

const notFound = (id: string) => new ParleyError('NOT_FOUND', `Interaction ${id} not found`);

/** Interactions: load, decide, append (the `interaction_views` row in the same transaction), and the range query. */
@Injectable()
export class InteractionService {
  private readonly interactions: Aggregate<InteractionCommand, InteractionDomainEvent, InteractionState>;

  constructor(@Inject(KIT) private readonly kit: InteractionKit) {
    this.interactions = new Aggregate(kit, {
      context: INTERACTION_CONTEXT,
      decider: interactionDecider,
      cacheSize: kit.settings.cacheSize,
      tooManyConflicts: (id) => new ParleyError('CONFLICT', `Interaction ${id} is changing too fast; try again`),
    });
  }

  private now(): string {
    return new Date(this.kit.clock.now()).toISOString();
  }

  private static cause(ctx: RequestContext, time: string) {
    return { correlationId: ctx.correlationId, causationId: ctx.causationId, userId: ctx.actor.userId, time };
  }

  async create(dto: CreateInteractionWebCommand, ctx: RequestContext): Promise<CreateInteractionResponse> {
    const interactionId = dto.interactionId ?? unguessableId();
    const { organizationId } = ctx.actor;
    const now = this.now();
    const command: InteractionCommand = {
      kind: 'create',
      interactionId,
      organizationId,
      actor: ctx.actor,
      now,
      idChosenByCaller: dto.interactionId !== undefined,
      ...(dto.type !== undefined ? { type: dto.type } : {}),
      ...(dto.data !== undefined ? { data: dto.data } : {}),
    };
    const { answer } = await this.interactions.execute(organizationId, interactionId, command, InteractionService.cause(ctx, now), {
      answer: ({ state }) => ({ interactionId: state.id, version: state.version }),
    });
    return answer;
  }

  async update(dto: UpdateInteractionCommand, ctx: RequestContext): Promise<null> {
    const { organizationId } = ctx.actor;
    const now = this.now();
    const command: InteractionCommand = {
      kind: 'update',
      interactionId: dto.interactionId,
      organizationId,
      actor: ctx.actor,
      now,
      ...(dto.type !== undefined ? { type: dto.type } : {}),
      ...(dto.data !== undefined ? { data: dto.data } : {}),
    };
    // A stale version is only told to a caller that may see the interaction: the decider's 404 comes first.
    if (dto.version !== undefined && !readable(await this.interactions.load(organizationId, dto.interactionId), ctx.actor)) throw notFound(dto.interactionId);
    const { answer } = await this.interactions.execute(organizationId, dto.interactionId, command, InteractionService.cause(ctx, now), {
      ...(dto.version !== undefined ? { expectedVersion: dto.version } : {}),
    });
    return answer;
  }

  async get(interactionId: string, ctx: RequestContext): Promise<Interaction> {
    const s = await this.interactions.load(ctx.actor.organizationId, interactionId);
    if (!readable(s, ctx.actor)) throw notFound(interactionId);
    return { id: s.id, organizationId: s.organizationId, createdBy: s.createdBy, createdAt: s.createdAt, ...(s.type !== undefined ? { type: s.type } : {}), data: s.data, version: s.version };
  }

  async page(q: InteractionPageQuery, ctx: RequestContext): Promise<PageInteraction> {
    authorize('listInteractions', "its own organization's", ctx.actor, () => new ParleyError('NOT_FOUND', 'Not found'));
    if (Date.parse(q.end) < Date.parse(q.start)) throw new ParleyError('BAD_REQUEST', `end (${q.end}) is before start (${q.start})`, { fields: ['end'] });
    const { content, total } = await interactionsPage(this.kit.store, ctx.actor.organizationId, q);
    const page = interactionPage(content, q, total);
    const bytes = jsonBytes(page);
    if (bytes > Limits.pageBytes) throw tooLarge(`A page of ${q.size} interactions`, bytes, Limits.pageBytes, 'pageBytes');
    return page;
  }
}
