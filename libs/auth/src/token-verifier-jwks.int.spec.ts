import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type JWK, type JWTPayload, SignJWT, exportJWK, generateKeyPair, type KeyLike } from 'jose';
import { ParleyError } from '@parley/contracts';
import { authConfigFromEnv } from './auth-config';
import { TokenIssuer } from './token-issuer';
import { TokenVerifier } from './token-verifier';

jest.setTimeout(30_000);

/** A stand-in identity provider: a real HTTP server on a random port serving a JWKS. */
interface Idp {
  url: string;
  hits: () => number;
  setStatus: (s: number) => void;
  close: () => Promise<void>;
}

const startJwksServer = (keys: JWK[]): Promise<Idp> => {
  let hits = 0;
  let status = 200;
  const server: Server = createServer((req, res) => {
    hits++;
    if (req.url !== '/.well-known/jwks.json') {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(status, { 'content-type': 'application/json' }).end(status === 200 ? JSON.stringify({ keys }) : 'nope');
  });
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      resolve({
        url: `http://127.0.0.1:${port}/.well-known/jwks.json`,
        hits: () => hits,
        setStatus: (s) => (status = s),
        close: () => new Promise<void>((r) => server.close(() => r())),
      });
    });
  });
};

const now = () => Math.floor(Date.now() / 1000);
const claims = (): JWTPayload => ({ sub: 'idp-user', organization_id: 'org1', roles: ['AGENT'], iss: 'https://idp.example', aud: 'parley', iat: now(), exp: now() + 300 });
const sign = (payload: JWTPayload, key: KeyLike, alg: string, kid: string) => new SignJWT(payload).setProtectedHeader({ alg, kid, typ: 'JWT' }).sign(key);

describe('TokenVerifier with a remote JWKS', () => {
  let idp: Idp;
  let rsa: { privateKey: KeyLike; publicKey: KeyLike };
  let ec: { privateKey: KeyLike; publicKey: KeyLike };

  beforeAll(async () => {
    rsa = await generateKeyPair('RS256');
    ec = await generateKeyPair('ES256');
    const rsaJwk = { ...(await exportJWK(rsa.publicKey)), kid: 'rsa-1', alg: 'RS256', use: 'sig' };
    const ecJwk = { ...(await exportJWK(ec.publicKey)), kid: 'ec-1', alg: 'ES256', use: 'sig' };
    idp = await startJwksServer([rsaJwk, ecJwk]);
  });
  afterAll(() => idp.close());

  it('verifies an RS256 token against the served keys', async () => {
    const verifier = new TokenVerifier(authConfigFromEnv({ JWKS_URL: idp.url }));
    await expect(verifier.verify(await sign(claims(), rsa.privateKey, 'RS256', 'rsa-1'))).resolves.toEqual({
      userId: 'idp-user',
      organizationId: 'org1',
      roles: ['AGENT'],
    });
    expect(idp.hits()).toBeGreaterThan(0);
  });

  it("never lets an identity provider's token act for other organizations (only OAUTH_CLIENTS grants that)", async () => {
    const verifier = new TokenVerifier(authConfigFromEnv({ JWKS_URL: idp.url }));
    const actor = await verifier.verify(await sign({ ...claims(), roles: ['SERVICE'], acts_for: ['org-b'] }, rsa.privateKey, 'RS256', 'rsa-1'));
    expect(actor.actsFor).toBeUndefined();
    expect(actor.roles).toEqual(['SERVICE']);
  });

  it('verifies an ES256 token too, and caches the key set', async () => {
    const verifier = new TokenVerifier(authConfigFromEnv({ JWKS_URL: idp.url }));
    await verifier.verify(await sign(claims(), ec.privateKey, 'ES256', 'ec-1'));
    const before = idp.hits();
    await verifier.verify(await sign(claims(), rsa.privateKey, 'RS256', 'rsa-1'));
    expect(idp.hits()).toBe(before);
  });

  it('checks only that an issuer and an audience are there unless they are configured', async () => {
    const verifier = new TokenVerifier(authConfigFromEnv({ JWKS_URL: idp.url }));
    await expect(verifier.verify(await sign({ ...claims(), iss: 'https://idp.example', aud: 'x' }, rsa.privateKey, 'RS256', 'rsa-1'))).resolves.toMatchObject({
      userId: 'idp-user',
    });
  });

  it('refuses a token without an issuer or an audience, even where neither is configured (development)', async () => {
    const verifier = new TokenVerifier(authConfigFromEnv({ JWKS_URL: idp.url }));
    await expect(verifier.verify(await sign({ ...claims(), iss: undefined }, rsa.privateKey, 'RS256', 'rsa-1'))).rejects.toThrow(/lacks the "iss" claim/);
    await expect(verifier.verify(await sign({ ...claims(), aud: undefined }, rsa.privateKey, 'RS256', 'rsa-1'))).rejects.toThrow(/lacks the "aud" claim/);
  });

  it('checks issuer and audience when configured', async () => {
    const verifier = new TokenVerifier(authConfigFromEnv({ JWKS_URL: idp.url, JWT_ISSUER: 'https://idp.example', JWT_AUDIENCE: 'parley' }));
    const ok = { ...claims(), iss: 'https://idp.example', aud: 'parley' };
    await expect(verifier.verify(await sign(ok, rsa.privateKey, 'RS256', 'rsa-1'))).resolves.toMatchObject({ userId: 'idp-user' });
    await expect(verifier.verify(await sign({ ...ok, iss: 'https://evil.example' }, rsa.privateKey, 'RS256', 'rsa-1'))).rejects.toThrow(/issuer/);
    await expect(verifier.verify(await sign({ ...ok, aud: 'other' }, rsa.privateKey, 'RS256', 'rsa-1'))).rejects.toThrow(/audience/);
    await expect(verifier.verify(await sign({ ...ok, iss: undefined }, rsa.privateKey, 'RS256', 'rsa-1'))).rejects.toThrow(/lacks the "iss" claim/);
    await expect(verifier.verify(await sign({ ...ok, aud: undefined }, rsa.privateKey, 'RS256', 'rsa-1'))).rejects.toThrow(/lacks the "aud" claim/);
  });

  it('refuses a token signed by a key that is not in the JWKS', async () => {
    const stranger = await generateKeyPair('RS256');
    const verifier = new TokenVerifier(authConfigFromEnv({ JWKS_URL: idp.url }));
    await expect(verifier.verify(await sign(claims(), stranger.privateKey, 'RS256', 'rsa-1'))).rejects.toThrow(/signature is invalid/);
    await expect(verifier.verify(await sign(claims(), stranger.privateKey, 'RS256', 'unknown-kid'))).rejects.toThrow(/key this server does not know/);
  });

  it('refuses HS256 tokens, even ones from our own issuer, in JWKS mode', async () => {
    const config = authConfigFromEnv({ JWKS_URL: idp.url });
    const { access_token } = await new TokenIssuer(config).issue({ userId: 'u1', organizationId: 'o1', roles: ['ADMIN'] });
    const e = await new TokenVerifier(config).verify(access_token).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(ParleyError);
    expect((e as ParleyError).code).toBe('UNAUTHORIZED');
    expect((e as ParleyError).message).toMatch(/algorithm/);
  });

  it('refuses expired JWKS tokens and missing claims', async () => {
    const verifier = new TokenVerifier(authConfigFromEnv({ JWKS_URL: idp.url }));
    await expect(verifier.verify(await sign({ ...claims(), exp: now() - 60 }, rsa.privateKey, 'RS256', 'rsa-1'))).rejects.toThrow(/expired/);
    await expect(verifier.verify(await sign({ ...claims(), organization_id: undefined }, rsa.privateKey, 'RS256', 'rsa-1'))).rejects.toThrow(
      /organization_id/,
    );
  });

  it('answers UNAVAILABLE, not UNAUTHORIZED, when the JWKS cannot be fetched', async () => {
    idp.setStatus(500);
    try {
      const verifier = new TokenVerifier(authConfigFromEnv({ JWKS_URL: idp.url }));
      const e = await verifier.verify(await sign(claims(), rsa.privateKey, 'RS256', 'rsa-1')).catch((x: unknown) => x);
      expect(e).toBeInstanceOf(ParleyError);
      expect((e as ParleyError).code).toBe('UNAVAILABLE');
      expect((e as ParleyError).message).toMatch(/JWKS/);
    } finally {
      idp.setStatus(200);
    }
    const down = new TokenVerifier(authConfigFromEnv({ JWKS_URL: 'http://127.0.0.1:1/jwks.json' }));
    await expect(down.verify(await sign(claims(), rsa.privateKey, 'RS256', 'rsa-1'))).rejects.toMatchObject({ code: 'UNAVAILABLE' });
  });
});
