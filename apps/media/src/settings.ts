import { cpus } from 'node:os';
import { type Kit, SettingError, int, optional, text } from '@parley/service-kit';

/** The media service's own settings (the platform's come with the kit). */
export const mediaSettings = {
  workerBin: optional('MEDIASOUP_WORKER_BIN', "mediasoup's worker binary (npm start builds it from Debian's libraries; mediasoup reads this variable itself)"),
  workers: int('MEDIA_WORKERS', cpus().length, 'mediasoup workers (one per core by default)', { max: 64 }),
  rtcMinPort: int('RTC_MIN_PORT', 40000, 'the lowest UDP/TCP port of WebRTC transports', { max: 65535 }),
  rtcMaxPort: int('RTC_MAX_PORT', 40999, 'the highest UDP/TCP port of WebRTC transports', { max: 65535 }),
  listenIp: text('LISTEN_IP', '127.0.0.1', 'the address WebRTC transports listen on'),
  announcedIp: optional('ANNOUNCED_IP', "the address announced in ICE candidates when the SFU is behind NAT (the host's public address)"),
  transportsPerUser: int('QUOTA_USER_TRANSPORTS', 32, 'WebRTC transports (publications plus views) one user may hold across conferences', { max: 100_000 }),
  iceServers: {
    stunUrls: text('STUN_URLS', '', 'STUN URLs handed to clients, comma-separated'),
    turnUrls: text('TURN_URLS', '', 'TURN URLs handed to clients, comma-separated'),
    turnSecret: optional('TURN_SECRET', "coturn's static-auth-secret: time-limited TURN credentials are signed with it", { secret: true }),
    ttlSeconds: int('TURN_TTL_SECONDS', 86400, 'how long TURN credentials last', { min: 60, max: 7 * 86400 }),
  },
};

export type MediaKit = Kit<typeof mediaSettings>;

/** The fewest characters of TURN_SECRET production accepts beside TURN_URLS. */
export const MIN_TURN_SECRET_CHARS = 32;

/**
 * What the settings cannot say one by one. Outside development mode (PARLEY_MODE=production, the
 * default), TURN_URLS handed to clients need a TURN_SECRET of at least 32 characters: the TURN
 * credentials are HMACs with it, and a short one can be guessed from a single credential offline.
 */
export function checkMediaSettings(s: Pick<MediaKit['settings'], 'mode' | 'rtcMinPort' | 'rtcMaxPort' | 'iceServers'>): void {
  if (s.rtcMinPort > s.rtcMaxPort) throw new SettingError('RTC_MIN_PORT must not be above RTC_MAX_PORT');
  const { turnUrls, turnSecret } = s.iceServers;
  if (s.mode !== 'development' && turnUrls.trim() !== '' && (turnSecret ?? '').length < MIN_TURN_SECRET_CHARS) {
    throw new SettingError(
      `TURN_URLS is set but TURN_SECRET ${turnSecret ? `has ${turnSecret.length} characters` : 'is not'}: PARLEY_MODE=production (the default) needs one of at least ${MIN_TURN_SECRET_CHARS} characters, the same as coturn's static-auth-secret; generate one with \`openssl rand -hex 32\` (letters and digits, as coturn's entrypoint needs). (On a development machine, PARLEY_MODE=development allows a shorter one.)`,
    );
  }
}
