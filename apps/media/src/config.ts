import { cpus } from 'node:os';
import type { IceServersConfig } from './ice-servers';
import { envInt } from '@parley/messaging';

/** The media service's settings, from the environment (see the README's table). */
export interface MediaConfig {
  natsUrl: string;
  logLevel: string;
  /** mediasoup workers; one per core by default. */
  workers: number;
  rtcMinPort: number;
  rtcMaxPort: number;
  /** Address the WebRTC transports listen on. */
  listenIp: string;
  /** Address announced in ICE candidates when the SFU is behind NAT (the host's public address). */
  announcedIp?: string;
  /** Copies JetStream keeps of PARLEY_EVENTS; the same on every service, since each applies it. */
  eventsStreamReplicas: number;
  iceServers: IceServersConfig;
  /** WebRTC transports (publications plus views) one user may hold across conferences (QUOTA_USER_TRANSPORTS). */
  transportsPerUser: number;
}

export function mediaConfigFromEnv(env: NodeJS.ProcessEnv = process.env): MediaConfig {
  const int = (name: string, dflt: number, min = 1, max = 65535) => envInt(env, name, dflt, min, max);
  const config: MediaConfig = {
    natsUrl: env.NATS_URL || 'nats://127.0.0.1:4222',
    logLevel: env.LOG_LEVEL || 'info',
    workers: int('MEDIA_WORKERS', cpus().length, 1, 64),
    rtcMinPort: int('RTC_MIN_PORT', 40000),
    rtcMaxPort: int('RTC_MAX_PORT', 40999),
    listenIp: env.LISTEN_IP || '127.0.0.1',
    announcedIp: env.ANNOUNCED_IP || undefined,
    eventsStreamReplicas: int('EVENTS_STREAM_REPLICAS', 1, 1, 5),
    transportsPerUser: int('QUOTA_USER_TRANSPORTS', 32, 1, 100_000),
    iceServers: {
      stunUrls: env.STUN_URLS || '',
      turnUrls: env.TURN_URLS || '',
      turnSecret: env.TURN_SECRET || undefined,
      ttlSeconds: int('TURN_TTL_SECONDS', 86400, 60, 7 * 86400),
    },
  };
  if (config.rtcMinPort > config.rtcMaxPort) throw new Error('RTC_MIN_PORT must not be above RTC_MAX_PORT');
  return config;
}
