import { AuthConfigError, DEV_JWT_SECRET, authConfigFromEnv, checkProductionAuth, parseOAuthClients } from './auth-config';

describe('authConfigFromEnv', () => {
  it('uses development defaults and says so', () => {
    const c = authConfigFromEnv({});
    expect(c).toEqual({ jwtSecret: DEV_JWT_SECRET, usingDevelopmentSecret: true, issuer: 'parley', tokenTtlSeconds: 3600, clients: [] });
  });

  it('reads every variable', () => {
    const c = authConfigFromEnv({
      JWT_SECRET: 'a-real-secret',
      JWT_ISSUER: 'https://parley.example',
      JWT_AUDIENCE: 'parley-api',
      TOKEN_TTL_SECONDS: '600',
      OAUTH_CLIENTS: 'integration:s3cret:org1:SERVICE, admin:pw:org2:ADMIN|AGENT',
    });
    expect(c).toEqual({
      jwtSecret: 'a-real-secret',
      usingDevelopmentSecret: false,
      issuer: 'https://parley.example',
      audience: 'parley-api',
      tokenTtlSeconds: 600,
      clients: [
        { id: 'integration', secret: 's3cret', organizationId: 'org1', roles: ['SERVICE'], actsFor: [] },
        { id: 'admin', secret: 'pw', organizationId: 'org2', roles: ['ADMIN', 'AGENT'], actsFor: [] },
      ],
    });
  });

  it('treats empty variables as unset', () => {
    expect(authConfigFromEnv({ JWT_SECRET: '', JWT_ISSUER: ' ', JWT_AUDIENCE: '', JWKS_URL: '', OAUTH_CLIENTS: '' })).toEqual(authConfigFromEnv({}));
  });

  it('checks issuer and audience of JWKS tokens only when set explicitly', () => {
    expect(authConfigFromEnv({ JWKS_URL: 'https://idp.example/.well-known/jwks.json' }).jwks).toEqual({ url: 'https://idp.example/.well-known/jwks.json' });
    expect(authConfigFromEnv({ JWKS_URL: 'http://127.0.0.1:9/jwks', JWT_ISSUER: 'idp', JWT_AUDIENCE: 'api' }).jwks).toEqual({
      url: 'http://127.0.0.1:9/jwks',
      issuer: 'idp',
      audience: 'api',
    });
  });

  it.each([
    [{ TOKEN_TTL_SECONDS: 'abc' }, /TOKEN_TTL_SECONDS must be a positive whole number/],
    [{ TOKEN_TTL_SECONDS: '0' }, /TOKEN_TTL_SECONDS/],
    [{ TOKEN_TTL_SECONDS: '1.5' }, /TOKEN_TTL_SECONDS/],
    [{ JWKS_URL: 'not a url' }, /JWKS_URL must be an absolute http\(s\) URL/],
    [{ JWKS_URL: 'ftp://idp/jwks' }, /JWKS_URL must use http or https/],
    [{ OAUTH_CLIENTS: 'integration:s3cret:org1' }, /OAUTH_CLIENTS entry 1 must look like id:secret:organizationId:ROLE1\|ROLE2/],
    [{ OAUTH_CLIENTS: 'a:b:o:SERVICE,:b:o:SERVICE' }, /entry 2 has an empty client id/],
    [{ OAUTH_CLIENTS: 'a::o:SERVICE' }, /client "a"\) has an empty secret/],
    [{ OAUTH_CLIENTS: 'a:b::SERVICE' }, /empty organizationId/],
    [{ OAUTH_CLIENTS: 'a:b:o:' }, /has no roles/],
    [{ OAUTH_CLIENTS: 'a:b:o:SERVICE|ROOT' }, /unknown role\(s\) ROOT/],
    [{ OAUTH_CLIENTS: 'a:b:o:SERVICE,a:c:o:AGENT' }, /configured twice/],
  ])('rejects malformed config %j', (env, message) => {
    expect(() => authConfigFromEnv(env)).toThrow(AuthConfigError);
    expect(() => authConfigFromEnv(env)).toThrow(message);
  });

  it('never echoes a client secret in an error', () => {
    expect(() => parseOAuthClients('a:top-secret-value:o:ROOT')).not.toThrow(/top-secret-value/);
    expect(() => parseOAuthClients('a:top-secret-value:o:ROOT')).toThrow(AuthConfigError);
  });

  it('lets a secret contain ":" and ignores a trailing comma', () => {
    expect(parseOAuthClients('svc:pa:ss:word:org1:SERVICE,')).toEqual([{ id: 'svc', secret: 'pa:ss:word', organizationId: 'org1', roles: ['SERVICE'], actsFor: [] }]);
  });
  it('reads the organizations a client may act for besides its own (home+other+…), each an organization id', () => {
    expect(parseOAuthClients('svc:pw:org1+org2+org3+org2:SERVICE')).toEqual([{ id: 'svc', secret: 'pw', organizationId: 'org1', roles: ['SERVICE'], actsFor: ['org2', 'org3'] }]);
    expect(() => parseOAuthClients('svc:pw:org1+*:SERVICE')).toThrow(/names organization "\*"; organization ids are 1 to 128 letters/);
    expect(() => parseOAuthClients('svc:pw:org1+:SERVICE')).toThrow(/names organization ""/);
  });
});

describe('checkProductionAuth (PARLEY_MODE=production)', () => {
  const secret32 = 'x'.repeat(32);
  const jwks = { JWKS_URL: 'https://idp.example/.well-known/jwks.json' };
  const refusal = (env: Record<string, string>): string => {
    try {
      checkProductionAuth(authConfigFromEnv(env));
    } catch (e) {
      expect(e).toBeInstanceOf(AuthConfigError);
      return (e as Error).message;
    }
    throw new Error(`accepted ${JSON.stringify(env)}`);
  };

  it.each([
    ['no JWT_SECRET and no JWKS_URL', {}, /JWT_SECRET is not set .*openssl rand -base64 48.*JWKS_URL with JWT_AUDIENCE and JWT_ISSUER/],
    ['the public development secret', { JWT_SECRET: DEV_JWT_SECRET }, /public development secret/],
    ['a 31-byte secret', { JWT_SECRET: 'x'.repeat(31) }, /JWT_SECRET is 31 bytes long, fewer than 32.*openssl rand -base64 48/],
    ['a 31-byte secret beside a complete JWKS_URL', { JWT_SECRET: 'x'.repeat(31), ...jwks, JWT_AUDIENCE: 'parley', JWT_ISSUER: 'https://idp.example' }, /JWT_SECRET is 31 bytes/],
    ['JWKS_URL without JWT_AUDIENCE and JWT_ISSUER', jwks, /JWKS_URL is set without JWT_AUDIENCE and JWT_ISSUER/],
    ['JWKS_URL without JWT_ISSUER', { ...jwks, JWT_AUDIENCE: 'parley' }, /JWKS_URL is set without JWT_ISSUER/],
    ['JWKS_URL without JWT_AUDIENCE', { ...jwks, JWT_ISSUER: 'https://idp.example' }, /JWKS_URL is set without JWT_AUDIENCE/],
    ['OAUTH_CLIENTS signed with the public secret', { ...jwks, JWT_AUDIENCE: 'parley', JWT_ISSUER: 'https://idp.example', OAUTH_CLIENTS: 'crm:s3cret:org1:SERVICE' }, /OAUTH_CLIENTS is set without a JWT_SECRET/],
  ])('refuses %s, naming the variable and how to fix it', (_what, env, message) => {
    const text = refusal(env);
    expect(text).toMatch(message);
    expect(text).toMatch(/PARLEY_MODE=production/);
    expect(text).toMatch(/PARLEY_MODE=development/);
  });

  it('counts bytes, not characters', () => {
    expect(refusal({ JWT_SECRET: 'é'.repeat(15) })).toMatch(/30 bytes/);
    expect(() => checkProductionAuth(authConfigFromEnv({ JWT_SECRET: 'é'.repeat(16) }))).not.toThrow();
  });

  it.each([
    ['a 32-byte secret', { JWT_SECRET: secret32 }],
    ['a 32-byte secret with clients', { JWT_SECRET: secret32, OAUTH_CLIENTS: 'crm:s3cret:org1:SERVICE' }],
    ['JWKS_URL with JWT_AUDIENCE and JWT_ISSUER', { ...jwks, JWT_AUDIENCE: 'parley', JWT_ISSUER: 'https://idp.example' }],
  ])('accepts %s', (_what, env) => {
    expect(() => checkProductionAuth(authConfigFromEnv(env))).not.toThrow();
  });

  it('never echoes the secret', () => {
    expect(refusal({ JWT_SECRET: 'short-secret-value' })).not.toContain('short-secret-value');
  });
});
