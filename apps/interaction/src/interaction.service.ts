import { Inject, Injectable } from '@nestjs/common';
import {
  type CreateInteractionResponse,
  type CreateInteractionWebCommand,
  INTERACTION_CONTEXT,
  INTERACTION_OFFSET_MAX,
  type Interaction,
  type InteractionDomainEvent,
  type InteractionPageQuery,
  type PageInteraction,
  ParleyError,
  type RequestContext,
  type UpdateInteractionCommand,
  authorize,
  interactionPage,
  mayAccess,
  unguessableId,
  wholePage,
} from '@parley/contracts';
import { Aggregate, KIT, causeOf, instantOf, changingTooFast } from '@parley/service-kit';
import { type InteractionCommand, type InteractionState, interactionDecider, notFound, readable } from './domain/decider';
import { conferencesOfInteraction, tookPart } from './infra/interaction-conferences';
import { interactionsPage } from './infra/interaction-views';
import type { InteractionKit } from './settings';

/** Interactions: load, decide, append (the `interaction_views` row in the same transaction), and the range query. */
@Injectable()
export class InteractionService {
  private readonly interactions: Aggregate<InteractionCommand, InteractionDomainEvent, InteractionState>;

  constructor(@Inject(KIT) private readonly kit: InteractionKit) {
    this.interactions = new Aggregate(kit, {
      context: INTERACTION_CONTEXT,
      decider: interactionDecider,
      cacheSize: kit.settings.cacheSize,
      tooManyConflicts: changingTooFast('Interaction'),
    });
  }

  /** Whether the caller's organization has the interaction (whoever may see it). */
  async exists(interactionId: string, ctx: RequestContext): Promise<boolean> {
    return (await this.interactions.load(ctx.actor.organizationId, interactionId)).status === 'created';
  }

  create(dto: CreateInteractionWebCommand, ctx: RequestContext): Promise<CreateInteractionResponse>;
  /** With the command's own answer (what a retry under its transaction id is given back). */
  create<A>(dto: CreateInteractionWebCommand, ctx: RequestContext, answer: (created: CreateInteractionResponse) => A): Promise<A>;
  async create<A>(dto: CreateInteractionWebCommand, ctx: RequestContext, answer?: (created: CreateInteractionResponse) => A): Promise<A | CreateInteractionResponse> {
    const interactionId = dto.interactionId ?? unguessableId();
    const { organizationId } = ctx.actor;
    const now = instantOf(this.kit.clock);
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
    const outcome = await this.interactions.execute(organizationId, interactionId, command, { ...causeOf(ctx), time: now }, {
      answer: ({ state }): A | CreateInteractionResponse => {
        const created = { interactionId: state.id, version: state.version };
        return answer ? answer(created) : created;
      },
    });
    return outcome.answer;
  }

  /**
   * Whether the caller created or joined a conference that named the interaction, asked of the
   * read model only where the answer changes what the caller may do (not for its creator, not
   * for staff, who may anyway).
   */
  private async tookPart(s: InteractionState, ctx: RequestContext): Promise<boolean> {
    const { actor } = ctx;
    if (s.status === 'none' || s.organizationId !== actor.organizationId || s.createdBy === actor.userId) return false;
    if (mayAccess('updateInteraction', 'any other of its organization', actor)) return false;
    return tookPart(this.kit.store, actor.organizationId, s.id, actor.userId);
  }

  /** The interaction, if the caller may see it; else 404 (another organization's is the same). */
  private async visible(interactionId: string, ctx: RequestContext): Promise<InteractionState> {
    const s = await this.interactions.load(ctx.actor.organizationId, interactionId);
    if (!readable(s, ctx.actor, await this.tookPart(s, ctx))) throw notFound(interactionId);
    return s;
  }

  async update(dto: UpdateInteractionCommand, ctx: RequestContext): Promise<null> {
    const { organizationId } = ctx.actor;
    const now = instantOf(this.kit.clock);
    const s = await this.interactions.load(organizationId, dto.interactionId);
    const tookPart = await this.tookPart(s, ctx);
    // A stale version is only told to a caller that may see the interaction: the decider's 404 comes first.
    if (dto.version !== undefined && !readable(s, ctx.actor, tookPart)) throw notFound(dto.interactionId);
    const command: InteractionCommand = {
      kind: 'update',
      interactionId: dto.interactionId,
      organizationId,
      actor: ctx.actor,
      now,
      tookPart,
      ...(dto.type !== undefined ? { type: dto.type } : {}),
      ...(dto.data !== undefined ? { data: dto.data } : {}),
    };
    const { answer } = await this.interactions.execute(organizationId, dto.interactionId, command, { ...causeOf(ctx), time: now }, {
      ...(dto.version !== undefined ? { expectedVersion: dto.version } : {}),
    });
    return answer;
  }

  /** The conferences that named the interaction (the read model follows the conference service's events), newest first. */
  async conferences(interactionId: string, ctx: RequestContext): Promise<string[]> {
    await this.visible(interactionId, ctx);
    return conferencesOfInteraction(this.kit.store, ctx.actor.organizationId, interactionId);
  }

  async get(interactionId: string, ctx: RequestContext): Promise<Interaction> {
    const s = await this.visible(interactionId, ctx);
    return { id: s.id, organizationId: s.organizationId, createdBy: s.createdBy, createdAt: s.createdAt, ...(s.type !== undefined ? { type: s.type } : {}), data: s.data, version: s.version };
  }

  async page(q: InteractionPageQuery, ctx: RequestContext): Promise<PageInteraction> {
    authorize('listInteractions', "its own organization's", ctx.actor, () => new ParleyError('NOT_FOUND', 'Not found'));
    if (Date.parse(q.end) < Date.parse(q.start)) throw new ParleyError('BAD_REQUEST', `end (${q.end}) is before start (${q.start})`, { fields: ['end'] });
    if (q.page * q.size > INTERACTION_OFFSET_MAX) throw new ParleyError('BAD_REQUEST', `page × size may be at most ${INTERACTION_OFFSET_MAX}`, { fields: ['page'] });
    const { content, total } = await interactionsPage(this.kit.store, ctx.actor.organizationId, q);
    return wholePage(interactionPage(content, q, total), `A page of ${q.size} interactions`);
  }
}
