import { Controller, Inject } from '@nestjs/common';
import { Ctx, MessagePattern, NatsContext, Payload } from '@nestjs/microservices';
import { type ChatSession, ChatSessionCommands, ChatSessionIdQuery, ChatSessionListQuery, ChatSessionQueries, CreateChatSessionWebCommand, PatchChatSessionCommand } from '@parley/contracts';
import { parleyValidationPipe, requestContextOf } from '@parley/messaging';
import { ChatSessionService } from './chat-session.service';

const valid = parleyValidationPipe();

/** The interaction service's NATS handlers of telemedicine chat sessions. */
@Controller()
export class ChatSessionController {
  constructor(@Inject(ChatSessionService) private readonly sessions: ChatSessionService) {}

  @MessagePattern(ChatSessionCommands.create)
  create(@Payload(valid) dto: CreateChatSessionWebCommand, @Ctx() nats: NatsContext): Promise<ChatSession> {
    return this.sessions.create(dto, requestContextOf(nats));
  }

  @MessagePattern(ChatSessionCommands.patch)
  patch(@Payload(valid) dto: PatchChatSessionCommand, @Ctx() nats: NatsContext): Promise<ChatSession> {
    return this.sessions.patch(dto, requestContextOf(nats));
  }

  @MessagePattern(ChatSessionQueries.get)
  get(@Payload(valid) q: ChatSessionIdQuery, @Ctx() nats: NatsContext): Promise<ChatSession> {
    return this.sessions.get(q.chatSessionId, requestContextOf(nats));
  }

  @MessagePattern(ChatSessionQueries.list)
  list(@Payload(valid) q: ChatSessionListQuery, @Ctx() nats: NatsContext): Promise<ChatSession[]> {
    return this.sessions.list(q, requestContextOf(nats));
  }
}
