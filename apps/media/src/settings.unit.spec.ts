import { SettingError, platformSettings, readSettings } from '@parley/service-kit';
import { checkMediaSettings, mediaSettings } from './settings';

const settings = (env: Record<string, string>) => readSettings({ ...platformSettings, ...mediaSettings }, env);
const TURN_URLS = 'turn:turn.example.org:3478?transport=udp';

describe('checkMediaSettings', () => {
  it.each([
    ['without a TURN_SECRET', { TURN_URLS }, /TURN_URLS is set but TURN_SECRET is not: PARLEY_MODE=production .*at least 32 characters.*openssl rand -hex 32/],
    ['with a 31-character TURN_SECRET', { TURN_URLS, TURN_SECRET: 'a'.repeat(31) }, /TURN_SECRET has 31 characters/],
    ['with a short TURN_SECRET, PARLEY_MODE=production said', { PARLEY_MODE: 'production', TURN_URLS, TURN_SECRET: 'abc' }, /TURN_SECRET has 3 characters/],
  ])('refuses TURN_URLS in production %s, saying how to make one', (_what, env, message) => {
    expect(() => checkMediaSettings(settings(env))).toThrow(SettingError);
    expect(() => checkMediaSettings(settings(env))).toThrow(message);
  });

  it('never echoes the secret', () => {
    expect(() => checkMediaSettings(settings({ TURN_URLS, TURN_SECRET: 'short-turn-secret' }))).toThrow(/^(?!.*short-turn-secret)/s);
  });

  it.each([
    ['no TURN_URLS (STUN only)', { STUN_URLS: 'stun:stun.example.org:3478' }],
    ['TURN_URLS with a 32-character TURN_SECRET', { TURN_URLS, TURN_SECRET: 'a'.repeat(32) }],
    ['TURN_URLS without a secret in development mode', { PARLEY_MODE: 'development', TURN_URLS }],
    ['TURN_URLS with a short secret in development mode', { PARLEY_MODE: 'development', TURN_URLS, TURN_SECRET: 'dev' }],
  ])('accepts %s', (_what, env) => {
    expect(() => checkMediaSettings(settings(env))).not.toThrow();
  });

  it('still refuses RTC_MIN_PORT above RTC_MAX_PORT in either mode', () => {
    expect(() => checkMediaSettings(settings({ PARLEY_MODE: 'development', RTC_MIN_PORT: '5000', RTC_MAX_PORT: '4000' }))).toThrow(/RTC_MIN_PORT must not be above RTC_MAX_PORT/);
  });
});
