import { AuthConfigError, DEV_JWT_SECRET, authConfigFromEnv, parseOAuthClients } from './auth-config';

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
        { id: 'integration', secret: 's3cret', organizationId: 'org1', roles: ['SERVICE'] },
        { id: 'admin', secret: 'pw', organizationId: 'org2', roles: ['ADMIN', 'AGENT'] },
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
    expect(parseOAuthClients('svc:pa:ss:word:org1:SERVICE,')).toEqual([{ id: 'svc', secret: 'pa:ss:word', organizationId: 'org1', roles: ['SERVICE'] }]);
  });
});
