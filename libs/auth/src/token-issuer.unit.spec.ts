import { decodeJwt, decodeProtectedHeader } from 'jose';
import { ParleyError } from '@parley/contracts';
import { authConfigFromEnv } from './auth-config';
import { TokenIssuer } from './token-issuer';
import { TokenVerifier } from './token-verifier';

const config = authConfigFromEnv({
  JWT_SECRET: 'issuer-test-secret-0123456789abcdef',
  TOKEN_TTL_SECONDS: '900',
  OAUTH_CLIENTS: 'integration:s3cret:org1:SERVICE,ops:pa:ss:org2:ADMIN|AGENT',
});
const issuer = new TokenIssuer(config);
const verifier = new TokenVerifier(config);

const rejection = async (p: Promise<unknown>): Promise<ParleyError> => {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(ParleyError);
    return e as ParleyError;
  }
  throw new Error('expected a rejection');
};

describe('TokenIssuer.issue', () => {
  it('issues an HS256 Bearer token with iat/exp/iss/jti and the actor claims', async () => {
    const t = await issuer.issue({ userId: 'u1', organizationId: 'o1', roles: ['AGENT', 'CUSTOMER'] });
    expect(t.token_type).toBe('Bearer');
    expect(t.expires_in).toBe(900);
    expect(decodeProtectedHeader(t.access_token)).toEqual({ alg: 'HS256', typ: 'JWT' });
    const c = decodeJwt(t.access_token);
    expect(c).toEqual({
      sub: 'u1',
      organization_id: 'o1',
      roles: ['AGENT', 'CUSTOMER'],
      iss: 'parley',
      iat: expect.any(Number),
      exp: (c.iat as number) + 900,
      jti: expect.stringMatching(/^[0-9a-f-]{36}$/),
    });
    expect(Math.abs((c.iat as number) - Date.now() / 1000)).toBeLessThan(5);
  });

  it('gives every token its own jti', async () => {
    const a = decodeJwt((await issuer.issue({ userId: 'u', organizationId: 'o', roles: [] })).access_token);
    const b = decodeJwt((await issuer.issue({ userId: 'u', organizationId: 'o', roles: [] })).access_token);
    expect(a.jti).not.toEqual(b.jti);
  });

  it('honours ttlSeconds and the configured audience', async () => {
    const withAud = new TokenIssuer(authConfigFromEnv({ JWT_SECRET: 'x', JWT_AUDIENCE: 'api' }));
    const t = await withAud.issue({ userId: 'u1', organizationId: 'o1', roles: ['AGENT'], ttlSeconds: 30 });
    expect(t.expires_in).toBe(30);
    const c = decodeJwt(t.access_token);
    expect(c.aud).toBe('api');
    expect((c.exp as number) - (c.iat as number)).toBe(30);
  });

  it('issues tokens that expire: minted in the past they are refused', async () => {
    const past = new TokenIssuer(config, { now: () => new Date(Date.now() - 2 * 3600_000) });
    const { access_token } = await past.issue({ userId: 'u1', organizationId: 'o1', roles: ['AGENT'], ttlSeconds: 60 });
    await expect(verifier.verify(access_token)).rejects.toThrow(/expired/);
  });

  it.each([
    [{ userId: '', organizationId: 'o', roles: [] }, /user id/],
    [{ userId: 'u', organizationId: '', roles: [] }, /organization id/],
    [{ userId: 'u', organizationId: 'o', roles: 'AGENT' as unknown as string[] }, /roles/],
    [{ userId: 'u', organizationId: 'o', roles: [], ttlSeconds: 0 }, /lifetime/],
    [{ userId: 'u', organizationId: 'o', roles: [], ttlSeconds: 1.5 }, /lifetime/],
  ])('refuses bad input %j', async (input, message) => {
    const e = await rejection(issuer.issue(input));
    expect(e.code).toBe('BAD_REQUEST');
    expect(e.message).toMatch(message);
  });
});

describe('TokenIssuer.clientCredentials', () => {
  it('issues a token for the client with its configured organization and roles', async () => {
    const t = await issuer.clientCredentials('integration', 's3cret');
    expect(t).toEqual({ access_token: expect.any(String), token_type: 'Bearer', expires_in: 900 });
    await expect(verifier.verify(t.access_token)).resolves.toEqual({ userId: 'integration', organizationId: 'org1', roles: ['SERVICE'] });
  });

  it('accepts a secret containing ":"', async () => {
    const t = await issuer.clientCredentials('ops', 'pa:ss');
    await expect(verifier.verify(t.access_token)).resolves.toEqual({ userId: 'ops', organizationId: 'org2', roles: ['ADMIN', 'AGENT'] });
  });

  it('narrows the roles to a requested scope', async () => {
    const t = await issuer.clientCredentials('ops', 'pa:ss', 'AGENT');
    expect(t.scope).toBe('AGENT');
    await expect(verifier.verify(t.access_token)).resolves.toEqual({ userId: 'ops', organizationId: 'org2', roles: ['AGENT'] });
    expect((await issuer.clientCredentials('ops', 'pa:ss', '  ')).scope).toBeUndefined();
  });

  it('refuses a scope beyond the client roles with invalid_scope', async () => {
    const e = await rejection(issuer.clientCredentials('integration', 's3cret', 'SERVICE ADMIN'));
    expect(e.code).toBe('BAD_REQUEST');
    expect(e.message).toMatch(/^invalid_scope: .*ADMIN/);
  });

  it.each([
    ['integration', 'wrong'],
    ['integration', 's3cret '],
    ['integration', 's3cre'],
    ['integration', ''],
    ['unknown', 's3cret'],
    ['', ''],
    ['Integration', 's3cret'],
  ])('refuses client %p with secret %p as invalid_client', async (id, secret) => {
    const e = await rejection(issuer.clientCredentials(id, secret));
    expect(e.code).toBe('UNAUTHORIZED');
    expect(e.message).toMatch(/^invalid_client/);
  });

  it('refuses everyone when no clients are configured', async () => {
    const none = new TokenIssuer(authConfigFromEnv({ JWT_SECRET: 'x' }));
    await expect(none.clientCredentials('integration', 's3cret')).rejects.toThrow(/invalid_client/);
  });
});
