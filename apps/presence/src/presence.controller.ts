import { Controller, Inject } from '@nestjs/common';
import { Ctx, MessagePattern, NatsContext, Payload } from '@nestjs/microservices';
import {
  KeepUserEndpointAliveWebCommand,
  PresenceCommands,
  PresenceQueries,
  type RegisterResult,
  RegisterUserEndpointWebCommand,
  SendEventToUserWebCommand,
  UnregisterUserEndpointWebCommand,
  UserEndpointQuery,
  type UserEndpointView,
} from '@parley/contracts';
import { parleyValidationPipe, requestContextOf } from '@parley/messaging';
import { PresenceService } from './presence.service';

const valid = parleyValidationPipe();

/** The presence service's NATS handlers (queue group "presence"). */
@Controller()
export class PresenceController {
  constructor(
    @Inject(PresenceService) private readonly presence: PresenceService,
  ) {}

  @MessagePattern(PresenceCommands.register)
  async register(@Payload(valid) dto: RegisterUserEndpointWebCommand, @Ctx() nats: NatsContext): Promise<RegisterResult> {
    return this.presence.register(dto, requestContextOf(nats));
  }

  @MessagePattern(PresenceCommands.keepAlive)
  async keepAlive(@Payload(valid) dto: KeepUserEndpointAliveWebCommand, @Ctx() nats: NatsContext): Promise<null> {
    await this.presence.keepAlive(dto, requestContextOf(nats));
    return null;
  }

  @MessagePattern(PresenceCommands.unregister)
  async unregister(@Payload(valid) dto: UnregisterUserEndpointWebCommand, @Ctx() nats: NatsContext): Promise<null> {
    await this.presence.unregister(dto, requestContextOf(nats));
    return null;
  }

  @MessagePattern(PresenceCommands.sendEvent)
  async sendEvent(@Payload(valid) dto: SendEventToUserWebCommand, @Ctx() nats: NatsContext): Promise<number> {
    return this.presence.sendEvent(dto, requestContextOf(nats));
  }

  @MessagePattern(PresenceQueries.endpoint)
  endpoint(@Payload(valid) q: UserEndpointQuery, @Ctx() nats: NatsContext): Promise<UserEndpointView> {
    return this.presence.endpoint(q.userEndpointId, requestContextOf(nats));
  }
}
