import { type DynamicModule, Module } from '@nestjs/common';
import { LoggerModule } from 'nestjs-pino';
import type { MediaConfig } from './config';
import { MediaController } from './media.controller';
import { Sfu } from './sfu/sfu';
import { MEDIA_CONFIG } from './tokens';

@Module({})
export class MediaModule {
  static forRoot(deps: { config: MediaConfig; sfu: Sfu }): DynamicModule {
    return {
      module: MediaModule,
      imports: [LoggerModule.forRoot({ pinoHttp: { level: deps.config.logLevel, name: 'media' } })],
      controllers: [MediaController],
      providers: [
        { provide: Sfu, useValue: deps.sfu },
        { provide: MEDIA_CONFIG, useValue: deps.config },
      ],
    };
  }
}
