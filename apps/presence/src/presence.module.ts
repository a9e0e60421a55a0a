import { type DynamicModule, Module } from '@nestjs/common';
import { LoggerModule } from 'nestjs-pino';
import type { NatsConnection } from 'nats';
import type { ServiceHealth } from '@parley/contracts';
import type { EventStore } from '@parley/eventsourcing';
import type { Clock, PresenceConfig } from './config';
import { PresenceController } from './presence.controller';
import { PresenceService } from './presence.service';
import { CLOCK, EVENT_STORE, NATS_CONNECTION, PRESENCE_CONFIG, RELAY_KICK, SERVICE_HEALTH } from './tokens';

export interface PresenceModuleDeps {
  config: PresenceConfig;
  store: EventStore;
  nc: NatsConnection;
  clock: Clock;
  kickRelay: () => void;
  health: () => Promise<ServiceHealth>;
}

/** Wires the presence service; the connections are made (and closed) by the bootstrap. */
@Module({})
export class PresenceModule {
  static forRoot(deps: PresenceModuleDeps): DynamicModule {
    return {
      module: PresenceModule,
      imports: [LoggerModule.forRoot({ pinoHttp: { level: deps.config.logLevel, name: 'presence' } })],
      controllers: [PresenceController],
      providers: [
        PresenceService,
        { provide: PRESENCE_CONFIG, useValue: deps.config },
        { provide: EVENT_STORE, useValue: deps.store },
        { provide: NATS_CONNECTION, useValue: deps.nc },
        { provide: CLOCK, useValue: deps.clock },
        { provide: RELAY_KICK, useValue: deps.kickRelay },
        { provide: SERVICE_HEALTH, useValue: deps.health },
      ],
    };
  }
}
