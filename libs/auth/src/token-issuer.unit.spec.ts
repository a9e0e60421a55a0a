import { decodeJwt, decodeProtectedHeader } from 'jose';
import { ParleyError } from '@parley/contracts';
import { authConfigFromEnv } from './auth-config';
import { OAuthError } from './oauth-error';
import { TokenIssuer } from './token-issuer';
import { TokenVerifier } from './token-verifier';

const config = authConfigFromEnv({
  JWT_SECRET: 'issuer-test-secret-0123456789abcdef',
  TOKEN_TTL_SECONDS: '900',
  OAUTH_CLIENTS: 'integration:s3cret:org1:SERVICE,ops:pa:ss:org2:ADMIN|AGENT,reseller:r3s:org3+org4:SERVICE',
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

  it("carries the organizations a client may act for (acts_for), and nothing of the kind for a client that has none", async () => {
    const t = await issuer.clientCredentials('reseller', 'r3s');
    expect(decodeJwt(t.access_token).acts_for).toEqual(['org4']);
    await expect(verifier.verify(t.access_token)).resolves.toEqual({ userId: 'reseller', organizationId: 'org3', roles: ['SERVICE'], actsFor: ['org4'] });
    expect(decodeJwt((await issuer.clientCredentials('integration', 's3cret')).access_token).acts_for).toBeUndefined();
    // Taken from OAUTH_CLIENTS as it is now: an organization removed there is gone from the client's tokens at once.
    const narrowed = new TokenVerifier(authConfigFromEnv({ JWT_SECRET: 'issuer-test-secret-0123456789abcdef', OAUTH_CLIENTS: 'reseller:r3s:org3:SERVICE' }));
    expect((await narrowed.verify(t.access_token)).actsFor).toBeUndefined();
    const wildcard = await issuer.issue({ userId: 'u', organizationId: 'org3', roles: ['SERVICE'], actsFor: ['>'] });
    await expect(verifier.verify(wildcard.access_token)).rejects.toMatchObject({ code: 'UNAUTHORIZED', message: /"acts_for" claim must be a list of organization ids/ });
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

  const oauthRejection = async (p: Promise<unknown>): Promise<OAuthError> => {
    const e = await p.then(
      () => undefined,
      (x: unknown) => x,
    );
    expect(e).toBeInstanceOf(OAuthError);
    return e as OAuthError;
  };

  it('refuses a scope beyond the client roles with invalid_scope (RFC 6749 §5.2), a 400 naming what was asked and what is allowed', async () => {
    const e = await oauthRejection(issuer.clientCredentials('integration', 's3cret', 'SERVICE ADMIN'));
    expect({ error: e.error, status: e.status }).toEqual({ error: 'invalid_scope', status: 400 });
    expect(e.description).toMatch(/may not request ADMIN; allowed: SERVICE/);
    expect((await oauthRejection(issuer.clientCredentials('integration', 's3cret', 'ROOT'))).error).toBe('invalid_scope');
  });

  it('keeps an invalid_scope description short whatever the scope asked', async () => {
    const e = await oauthRejection(issuer.clientCredentials('integration', 's3cret', Array.from({ length: 50 }, (_, i) => `${'X'.repeat(500)}${i}`).join(' ')));
    expect(e.description.length).toBeLessThan(500);
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
    const e = await oauthRejection(issuer.clientCredentials(id, secret));
    expect({ error: e.error, status: e.status }).toEqual({ error: 'invalid_client', status: 401 });
    expect(e.description).toBe('unknown client or wrong client secret');
  });

  it('refuses everyone when no clients are configured', async () => {
    const none = new TokenIssuer(authConfigFromEnv({ JWT_SECRET: 'x' }));
    expect((await oauthRejection(none.clientCredentials('integration', 's3cret'))).error).toBe('invalid_client');
  });
});
