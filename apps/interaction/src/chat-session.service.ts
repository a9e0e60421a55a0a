import { Inject, Injectable } from '@nestjs/common';
import {
  CHAT_SESSION_CONTEXT,
  CHAT_SESSION_OFFSET_MAX,
  type ChatSession,
  type ChatSessionDomainEvent,
  type ChatSessionListQuery,
  type CreateChatSessionWebCommand,
  type PatchChatSessionCommand,
  ParleyError,
  type RequestContext,
  mayAccess,
  unguessableId,
  wholePage,
} from '@parley/contracts';
import { Aggregate, KIT, causeOf, instantOf, changingTooFast } from '@parley/service-kit';
import { type ChatSessionCommand, type ChatSessionState, chatSessionDecider, chatSessionNotFound, chatSessionReadable, chatSessionsVisibleTo, toChatSession } from './domain/chat-session';
import { chatSessionsPage } from './infra/chat-session-views';
import { tookPartInConference } from './infra/interaction-conferences';
import type { InteractionKit } from './settings';

/** Telemedicine chat sessions: load, decide, append (the `chat_session_views` row in the same transaction), and the list. */
@Injectable()
export class ChatSessionService {
  private readonly sessions: Aggregate<ChatSessionCommand, ChatSessionDomainEvent, ChatSessionState>;

  constructor(@Inject(KIT) private readonly kit: InteractionKit) {
    this.sessions = new Aggregate(kit, {
      context: CHAT_SESSION_CONTEXT,
      decider: chatSessionDecider,
      cacheSize: kit.settings.cacheSize,
      tooManyConflicts: changingTooFast('Chat session'),
    });
  }

  async create(dto: CreateChatSessionWebCommand, ctx: RequestContext): Promise<ChatSession> {
    const chatSessionId = unguessableId();
    const { organizationId } = ctx.actor;
    const now = instantOf(this.kit.clock);
    const command: ChatSessionCommand = {
      kind: 'create',
      chatSessionId,
      organizationId,
      actor: ctx.actor,
      now,
      createdAt: dto.createdAt !== undefined ? new Date(dto.createdAt).toISOString() : now,
      type: dto.type ?? 'telemed',
      participants: dto.participants,
      ...(dto.room !== undefined ? { room: dto.room, roomIsCallersConference: await this.isCallersConference(dto.room, ctx) } : {}),
      ...(dto.title !== undefined ? { title: dto.title } : {}),
    };
    const { answer } = await this.sessions.execute(organizationId, chatSessionId, command, { ...causeOf(ctx), time: now }, { answer: ({ state }) => toChatSession(state) });
    return answer;
  }

  /**
   * Whether the caller created or joined the conference the session's room names, asked of the
   * read model only where it changes what the caller may do (not for a participant, not for staff).
   */
  private async inRoomConference(s: ChatSessionState, ctx: RequestContext): Promise<boolean> {
    const { actor } = ctx;
    if (s.status === 'none' || s.room === undefined || s.organizationId !== actor.organizationId || s.participants.includes(actor.userId)) return false;
    if (mayAccess('updateChatSession', 'any other of its organization', actor)) return false;
    return tookPartInConference(this.kit.store, actor.organizationId, s.room, actor.userId);
  }

  /**
   * Whether `room` is a conference the caller created or joined, asked of the read model only where
   * it changes what the caller may do (staff may choose any room).
   */
  private async isCallersConference(room: string, ctx: RequestContext): Promise<boolean> {
    if (mayAccess('updateChatSession', 'one the caller takes part in, moved to a room that is not a conference the caller took part in', ctx.actor)) return false;
    return tookPartInConference(this.kit.store, ctx.actor.organizationId, room, ctx.actor.userId);
  }

  async patch(dto: PatchChatSessionCommand, ctx: RequestContext): Promise<ChatSession> {
    const { organizationId } = ctx.actor;
    const now = instantOf(this.kit.clock);
    const s = await this.sessions.load(organizationId, dto.chatSessionId);
    const command: ChatSessionCommand = {
      kind: 'patch',
      chatSessionId: dto.chatSessionId,
      organizationId,
      actor: ctx.actor,
      now,
      inRoomConference: await this.inRoomConference(s, ctx),
      ...(dto.room !== undefined && dto.room !== s.room ? { roomIsCallersConference: await this.isCallersConference(dto.room, ctx) } : {}),
      fields: {
        ...(dto.type !== undefined ? { type: dto.type } : {}),
        ...(dto.room !== undefined ? { room: dto.room } : {}),
        ...(dto.participants !== undefined ? { participants: dto.participants } : {}),
        ...(dto.title !== undefined ? { title: dto.title } : {}),
      },
      ...(dto.start !== undefined ? { start: dto.start } : {}),
      ...(dto.accept !== undefined ? { accept: dto.accept } : {}),
      ...(dto.reject !== undefined ? { reject: dto.reject } : {}),
      ...(dto.finish !== undefined ? { finish: dto.finish } : {}),
    };
    const { answer } = await this.sessions.execute(organizationId, dto.chatSessionId, command, { ...causeOf(ctx), time: now }, { answer: ({ state }) => toChatSession(state) });
    return answer;
  }

  async get(chatSessionId: string, ctx: RequestContext): Promise<ChatSession> {
    const s = await this.sessions.load(ctx.actor.organizationId, chatSessionId);
    if (!chatSessionReadable(s, ctx.actor, await this.inRoomConference(s, ctx))) throw chatSessionNotFound(chatSessionId);
    return toChatSession(s);
  }

  /** A page of the sessions the caller may see, newest first; 413 when it would pass Limits.pageBytes (a smaller size fits). */
  async list(q: ChatSessionListQuery, ctx: RequestContext): Promise<ChatSession[]> {
    if (q.page * q.size > CHAT_SESSION_OFFSET_MAX) throw new ParleyError('BAD_REQUEST', `page × size may be at most ${CHAT_SESSION_OFFSET_MAX}`, { fields: ['page'] });
    return wholePage(await chatSessionsPage(this.kit.store, ctx.actor.organizationId, q, chatSessionsVisibleTo(ctx.actor)), `A page of ${q.size} chat sessions`);
  }
}
