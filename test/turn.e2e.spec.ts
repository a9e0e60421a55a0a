import { relayCandidates, startCoturn, type CoturnHandle } from './support/coturn';
import { Stack } from './support/stack';

describe('TURN credentials (TURN REST API) against a real coturn', () => {
  const secret = 'turn-shared-secret-for-tests';
  let coturn: CoturnHandle;
  let stack: Stack;

  beforeAll(async () => {
    coturn = await startCoturn(secret);
    stack = await Stack.start({
      media: { env: { STUN_URLS: `stun:127.0.0.1:${coturn.port}`, TURN_URLS: coturn.url, TURN_SECRET: secret, TURN_TTL_SECONDS: '600' } },
    });
  });
  afterAll(async () => {
    await stack?.stop();
    await coturn?.stop();
  });

  it('GET /iceServers/v2 answers credentials a TURN allocation accepts, and a tampered password is refused', async () => {
    const api = await stack.api('agent-1', 'org-a', ['AGENT']);
    const res = await api.get('/iceServers/v2');
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ stun: `stun:127.0.0.1:${coturn.port}`, turn: coturn.url, turnUsername: expect.stringMatching(/^\d+:agent-1$/), turnPassword: expect.any(String), ttl: 600 });
    const expiry = Number(res.body.turnUsername.split(':')[0]);
    expect(expiry - Math.floor(Date.now() / 1000)).toBeGreaterThan(590);

    const ok = await relayCandidates({ urls: res.body.turn, username: res.body.turnUsername, credential: res.body.turnPassword });
    expect(ok.length).toBeGreaterThan(0);
    const tampered = res.body.turnPassword.slice(0, -2) + (res.body.turnPassword.endsWith('A=') ? 'B=' : 'A=');
    const refused = await relayCandidates({ urls: res.body.turn, username: res.body.turnUsername, credential: tampered });
    expect(refused).toEqual([]);
  });

  it('401 without a token', async () => {
    expect((await stack.anonymous().get('/iceServers/v2')).status).toBe(401);
  });
});
