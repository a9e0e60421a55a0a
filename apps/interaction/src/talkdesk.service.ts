import { createHash, timingSafeEqual } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import {
  type Interaction,
  ParleyError,
  type RequestContext,
  TALKDESK_ACTIVITY_MAX,
  TALKDESK_CONTACT_KEY,
  TALKDESK_INTERACTION_TYPE,
  type TalkdeskActivityQuery,
  type TalkdeskContactActivityResponseItem,
  type TalkdeskCreateTalkdeskRequest,
  type TalkdeskCreateTalkdeskResponse,
  type TalkdeskCredentials,
  authorize,
  pageOf,
  talkdeskInteractionId,
} from '@parley/contracts';
import { KIT } from '@parley/service-kit';
import { interactionsOfContact } from './infra/interaction-views';
import { InteractionService } from './interaction.service';
import type { InteractionKit } from './settings';

const digest = (s: string) => createHash('sha256').update(s).digest();
const sameSecret = (a: string, b: string) => timingSafeEqual(digest(a), digest(b));
const notFound = () => new ParleyError('NOT_FOUND', 'Not found');
const word = (v: unknown, dflt: string) => (typeof v === 'string' && v !== '' ? v : dflt);

/**
 * The Talkdesk integration: a contact's interaction (created once, found after), the contact's
 * activity (its interactions), and the check of an integration's credentials against
 * TALKDESK_INTEGRATIONS.
 */
@Injectable()
export class TalkdeskService {
  constructor(
    @Inject(KIT) private readonly kit: InteractionKit,
    @Inject(InteractionService) private readonly interactions: InteractionService,
  ) {}

  private mayUseContacts(ctx: RequestContext): void {
    authorize('talkdeskContacts', "its own organization's contacts", ctx.actor, notFound);
  }

  async create(dto: TalkdeskCreateTalkdeskRequest, ctx: RequestContext): Promise<TalkdeskCreateTalkdeskResponse> {
    this.mayUseContacts(ctx);
    const contactId = dto.data.contact_id;
    const interactionId = talkdeskInteractionId(contactId);
    try {
      return await this.interactions.create({ interactionId, type: TALKDESK_INTERACTION_TYPE, data: { [TALKDESK_CONTACT_KEY]: contactId } }, ctx, () => ({
        message: 'created',
        contact_external_id: interactionId,
      }));
    } catch (e) {
      // The contact has its interaction already (made before, or by a request racing this one): found.
      if (e instanceof ParleyError && e.code === 'CONFLICT' && (await this.interactions.exists(interactionId, ctx))) return { message: 'found', contact_external_id: interactionId };
      throw e;
    }
  }

  /** The contact's interactions of the types asked (all when none), newest first, as Talkdesk's activity items pointing back to each. */
  async activity(q: TalkdeskActivityQuery, ctx: RequestContext): Promise<TalkdeskContactActivityResponseItem[]> {
    this.mayUseContacts(ctx);
    const types = q.meta?.interaction_types?.length ? q.meta.interaction_types : undefined;
    const found = await interactionsOfContact(this.kit.store, ctx.actor.organizationId, q.data.contact_id, types, TALKDESK_ACTIVITY_MAX);
    // As many as fit in one answer (each item's subject and description come from the data, up to its 16 KiB).
    return pageOf(
      found.map((i: Interaction) => ({
      id: i.id,
      subject: word(i.data.subject, i.type ?? 'Interaction'),
      description: word(i.data.description, `${i.type ?? 'Interaction'} ${i.id}, created by ${i.createdBy}`),
      date: i.createdAt,
      url: `${q.origin}/rtc-api/interactions/${encodeURIComponent(i.id)}`,
      type: i.type ?? '',
      priority: word(i.data.priority, 'normal'),
      status: word(i.data.status, 'open'),
      })),
    );
  }

  /** The integration's claims when its credentials are configured for the caller's organization; 401 otherwise (which one failed is not told). */
  validate(body: TalkdeskCredentials, ctx: RequestContext): Record<string, string> {
    authorize('talkdeskValidate', 'credentials of its own organization', ctx.actor, notFound);
    const match = this.kit.settings.talkdeskIntegrations.find(
      (t) => t.organizationId === ctx.actor.organizationId && sameSecret(t.accountId, body.account_id) && sameSecret(t.apiKey, body.api_key),
    );
    if (!match) throw new ParleyError('UNAUTHORIZED', 'The Talkdesk integration credentials are not valid for this organization');
    return { account_id: match.accountId, organization_id: match.organizationId, valid: 'true' };
  }
}
