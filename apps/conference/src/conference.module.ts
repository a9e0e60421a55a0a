import { type DynamicModule, Module } from '@nestjs/common';
import { LoggerModule } from 'nestjs-pino';
import type { NatsConnection } from 'nats';
import type { ServiceHealth } from '@parley/contracts';
import type { EventStore } from '@parley/eventsourcing';
import { NatsRpcClient } from '@parley/messaging';
import type { ConferenceConfig } from './config';
import { ConferenceController } from './conference.controller';
import { ConferenceService } from './conference.service';
import { CONFERENCE_CONFIG, EVENT_STORE, NATS_CONNECTION, RELAY_KICK, RPC_CLIENT, SERVICE_HEALTH } from './tokens';

export interface ConferenceModuleDeps {
  config: ConferenceConfig;
  store: EventStore;
  nc: NatsConnection;
  kickRelay: () => void;
  health: () => Promise<ServiceHealth>;
}

/** Wires the conference service; the connections are made (and closed) by main.ts's bootstrap. */
@Module({})
export class ConferenceModule {
  static forRoot(deps: ConferenceModuleDeps): DynamicModule {
    return {
      module: ConferenceModule,
      imports: [LoggerModule.forRoot({ pinoHttp: { level: deps.config.logLevel, name: 'conference' } })],
      controllers: [ConferenceController],
      providers: [
        ConferenceService,
        { provide: CONFERENCE_CONFIG, useValue: deps.config },
        { provide: EVENT_STORE, useValue: deps.store },
        { provide: NATS_CONNECTION, useValue: deps.nc },
        { provide: RELAY_KICK, useValue: deps.kickRelay },
        { provide: SERVICE_HEALTH, useValue: deps.health },
        { provide: RPC_CLIENT, useValue: new NatsRpcClient(deps.nc, deps.config.mediaTimeoutMs) },
      ],
    };
  }
}
