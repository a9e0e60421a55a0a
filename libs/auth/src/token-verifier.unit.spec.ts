import { type JWK, SignJWT, type JWTPayload, createLocalJWKSet, exportJWK, generateKeyPair } from 'jose';
import { ParleyError } from '@parley/contracts';
import { authConfigFromEnv } from './auth-config';
import { TokenIssuer } from './token-issuer';
import { TokenVerifier, VERIFIED_TOKENS, VERIFIED_TOKEN_TTL_MS } from './token-verifier';

const SECRET = 'unit-test-secret-0123456789abcdef';
const config = authConfigFromEnv({ JWT_SECRET: SECRET });
const key = new TextEncoder().encode(SECRET);
const now = () => Math.floor(Date.now() / 1000);

/** Signs arbitrary claims, so each test can break exactly one thing. */
const sign = (claims: JWTPayload, opts: { secret?: Uint8Array; alg?: string } = {}) =>
  new SignJWT(claims).setProtectedHeader({ alg: opts.alg ?? 'HS256' }).sign(opts.secret ?? key);

const good = (): JWTPayload => ({ sub: 'u1', organization_id: 'o1', roles: ['AGENT'], iss: 'parley', iat: now(), exp: now() + 60 });

const rejection = async (p: Promise<unknown>): Promise<ParleyError> => {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(ParleyError);
    return e as ParleyError;
  }
  throw new Error('expected a rejection');
};

describe('TokenVerifier (HS256)', () => {
  const verifier = new TokenVerifier(config);

  it('returns the Actor of a valid token', async () => {
    await expect(verifier.verify(await sign({ ...good(), roles: ['AGENT', 'CUSTOMER'] }))).resolves.toEqual({
      userId: 'u1',
      organizationId: 'o1',
      roles: ['AGENT', 'CUSTOMER'],
    });
  });

  it("keeps Parley's role names only, each exactly: 'CUSTOMER,SERVICE' is no role, and an identity provider's own roles are none", async () => {
    await expect(verifier.verify(await sign({ ...good(), roles: ['CUSTOMER,SERVICE', 'offline_access', 'AGENT', 'AGENT', 'service'] }))).resolves.toEqual({
      userId: 'u1',
      organizationId: 'o1',
      roles: ['AGENT'],
    });
  });

  it('accepts what TokenIssuer issues', async () => {
    const { access_token } = await new TokenIssuer(config).issue({ userId: 'u9', organizationId: 'o9', roles: ['ADMIN'] });
    await expect(verifier.verify(access_token)).resolves.toEqual({ userId: 'u9', organizationId: 'o9', roles: ['ADMIN'] });
  });

  it('refuses an expired token', async () => {
    const e = await rejection(verifier.verify(await sign({ ...good(), iat: now() - 3600, exp: now() - 60 })));
    expect(e.code).toBe('UNAUTHORIZED');
    expect(e.message).toMatch(/expired/);
  });

  it('tolerates a few seconds of clock skew, and no more', async () => {
    const justExpired = await sign({ ...good(), exp: 1_000_000 });
    const at = (s: number) => new TokenVerifier(config, { now: () => new Date(s * 1000) });
    await expect(at(1_000_004).verify(justExpired)).resolves.toMatchObject({ userId: 'u1' });
    await expect(at(1_000_006).verify(justExpired)).rejects.toThrow(/expired/);
  });

  it('refuses a token signed with another secret', async () => {
    const e = await rejection(verifier.verify(await sign(good(), { secret: new TextEncoder().encode('another-secret-another-secret!!') })));
    expect(e.code).toBe('UNAUTHORIZED');
    expect(e.message).toMatch(/signature is invalid/);
  });

  it('refuses a tampered payload', async () => {
    const [h, , s] = (await sign(good())).split('.');
    const forged = Buffer.from(JSON.stringify({ ...good(), roles: ['ADMIN'] })).toString('base64url');
    await expect(verifier.verify(`${h}.${forged}.${s}`)).rejects.toThrow(/signature is invalid/);
  });

  it('refuses an unsigned (alg none) token', async () => {
    const header = Buffer.from(JSON.stringify({ alg: 'none' })).toString('base64url');
    const body = Buffer.from(JSON.stringify(good())).toString('base64url');
    const e = await rejection(verifier.verify(`${header}.${body}.`));
    expect(e.code).toBe('UNAUTHORIZED');
  });

  it('refuses another issuer, and a token without one', async () => {
    await expect(verifier.verify(await sign({ ...good(), iss: 'someone-else' }))).rejects.toThrow(/issuer this server does not accept/);
    const { iss: _drop, ...noIss } = good();
    await expect(verifier.verify(await sign(noIss))).rejects.toThrow(/lacks the "iss" claim/);
  });

  it('checks the audience when one is configured', async () => {
    const withAud = new TokenVerifier(authConfigFromEnv({ JWT_SECRET: SECRET, JWT_AUDIENCE: 'parley-api' }));
    await expect(withAud.verify(await sign({ ...good(), aud: 'parley-api' }))).resolves.toMatchObject({ userId: 'u1' });
    await expect(withAud.verify(await sign({ ...good(), aud: 'other-api' }))).rejects.toThrow(/audience/);
    await expect(withAud.verify(await sign(good()))).rejects.toThrow(/lacks the "aud" claim/);
  });

  it('refuses a token without exp', async () => {
    const { exp: _drop, ...noExp } = good();
    await expect(verifier.verify(await sign(noExp))).rejects.toThrow(/lacks the "exp" claim/);
  });

  it.each([
    ['sub', { sub: undefined }],
    ['sub', { sub: '' }],
    ['organization_id', { organization_id: undefined }],
    ['organization_id', { organization_id: 42 }],
    // It names NATS subjects and stream ids: a wildcard or a separator would reach across organizations.
    ['organization_id', { organization_id: '>' }],
    ['organization_id', { organization_id: 'org.a' }],
    ['organization_id', { organization_id: 'org/a' }],
    ['sub', { sub: 'a\u0000b' }],
    ['roles', { roles: undefined }],
    ['roles', { roles: 'AGENT' }],
    ['roles', { roles: ['AGENT', 7] }],
  ])('refuses a token whose %s claim is missing or wrong: %j', async (claim, patch) => {
    const e = await rejection(verifier.verify(await sign({ ...good(), ...patch })));
    expect(e.code).toBe('UNAUTHORIZED');
    expect(e.message).toContain(`"${claim}"`);
    expect(e.details).toEqual({ claim });
  });

  it('accepts an empty roles array (no role-gated routes then)', async () => {
    await expect(verifier.verify(await sign({ ...good(), roles: [] }))).resolves.toEqual({ userId: 'u1', organizationId: 'o1', roles: [] });
  });

  it.each([[''], ['   '], ['not-a-jwt'], ['a.b.c'], [undefined as unknown as string]])('refuses garbage %p', async (token) => {
    const e = await rejection(verifier.verify(token));
    expect(e.code).toBe('UNAUTHORIZED');
    expect(e.message).toMatch(/Missing access token|malformed/);
  });
});

describe('TokenVerifier: a verified token is remembered', () => {
  it('until it expires: past exp (and the clock tolerance) it is checked again and refused; a tampered copy is never taken for it', async () => {
    let at = now() * 1000;
    const verifier = new TokenVerifier(config, { now: () => new Date(at) });
    const token = await sign({ ...good(), iat: Math.floor(at / 1000), exp: Math.floor(at / 1000) + 30 });
    const first = await verifier.verify(token);
    expect(verifier.remembered).toBe(1);
    expect(await verifier.verify(token)).toBe(first); // answered from memory
    expect(Object.isFrozen(first) && Object.isFrozen(first.roles)).toBe(true);
    const [h, p, sig] = token.split('.');
    const tampered = [h, p, `${sig.slice(0, -2)}${sig.endsWith('AA') ? 'BB' : 'AA'}`].join('.');
    expect((await rejection(verifier.verify(tampered))).message).toMatch(/signature|malformed/);
    at += 20_000;
    expect(await verifier.verify(token)).toBe(first);
    at += 16_000; // 36 s after: past exp and the 5 s tolerance
    expect((await rejection(verifier.verify(token))).message).toMatch(/expired/);
  });

  it(`for at most ${VERIFIED_TOKEN_TTL_MS / 1000} s: a key gone from the key set stops opening it then`, async () => {
    const ec = await generateKeyPair('ES256');
    const jwk: JWK = { ...(await exportJWK(ec.publicKey)), kid: 'ec-1', alg: 'ES256' };
    let keys: JWK[] = [jwk];
    let at = now() * 1000;
    const verifier = new TokenVerifier(authConfigFromEnv({ JWKS_URL: 'https://idp.example/jwks.json' }), { jwks: (h, t) => createLocalJWKSet({ keys })(h, t), now: () => new Date(at) });
    const token = await new SignJWT({ sub: 'idp-user', organization_id: 'org1', roles: ['AGENT'], iss: 'https://idp.example', aud: 'parley', iat: now(), exp: now() + 3600 })
      .setProtectedHeader({ alg: 'ES256', kid: 'ec-1' })
      .sign(ec.privateKey);
    await verifier.verify(token);
    keys = [];
    at += VERIFIED_TOKEN_TTL_MS - 1000;
    await expect(verifier.verify(token)).resolves.toMatchObject({ userId: 'idp-user' });
    at += 2000;
    expect((await rejection(verifier.verify(token))).message).toMatch(/key this server does not know/);
  });

  it(`at most ${VERIFIED_TOKENS} of them, the oldest forgotten first`, async () => {
    const verifier = new TokenVerifier(config);
    const tokens = await Promise.all(Array.from({ length: VERIFIED_TOKENS + 5 }, (_, i) => sign({ ...good(), sub: `u${i}` })));
    for (const t of tokens) await verifier.verify(t);
    expect(verifier.remembered).toBe(VERIFIED_TOKENS);
  });
});
