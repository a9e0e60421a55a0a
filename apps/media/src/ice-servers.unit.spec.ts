import { createHmac } from 'node:crypto';
import { iceServersFor } from './ice-servers';

describe('TURN REST credentials', () => {
  const config = { stunUrls: 'stun:turn.example.org:3478', turnUrls: 'turn:turn.example.org:3478?transport=udp', turnSecret: 's3cret', ttlSeconds: 600 };

  it('username is "<expiry>:<userId>", password base64 HMAC-SHA1 of it', () => {
    const r = iceServersFor(config, 'agent-1', 1_800_000_000);
    expect(r).toEqual({
      stun: config.stunUrls,
      turn: config.turnUrls,
      turnUsername: '1800000600:agent-1',
      turnPassword: createHmac('sha1', 's3cret').update('1800000600:agent-1').digest('base64'),
      ttl: 600,
    });
    // A SHA-1 digest is 20 bytes: 28 base64 characters.
    expect(r.turnPassword).toMatch(/^[A-Za-z0-9+/]{27}=$/);
  });
  it('is 503 with a clear message when TURN is not configured', () => {
    expect(() => iceServersFor({ ...config, turnSecret: undefined }, 'u', 0)).toThrow(/TURN is not configured/);
  });
});
