import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { type JWTPayload, type KeyLike, SignJWT, exportJWK, generateKeyPair } from 'jose';
import type { Browser, Page } from 'playwright-core';
import { DEV_JWT_SECRET, authConfigFromEnv } from '@parley/auth';
import { type NatsServerHandle, REPOSITORY_ROOT, type TsChildHandle, spawnTs, startNats, waitFor } from '@parley/testing';
import { type RunningGateway, gatewayConfigFromEnv, startGateway } from '../apps/gateway/src';
import { devSignIn } from '../apps/gateway/src/gateway.module';
import { launchChromium } from './support/browser';
import { Api, testGatewayConfig } from './support/stack';
import { testProcessEnv } from './support/secrets';

/**
 * Production refuses to run insecurely, and what a deployment exposes (docs/security.md): the
 * gateway and the media service refuse weak or public secrets outside development mode, security
 * headers on every answer, /metrics and the API documents kept off the public listener, no
 * credential in a log line, and the token endpoint's errors in RFC 6749 §5.2's shape.
 */
const GATEWAY_MAIN = join(REPOSITORY_ROOT, 'apps/gateway/src/main.ts');
const MEDIA_MAIN = join(REPOSITORY_ROOT, 'apps/media/src/main.ts');
const SECRET = 'hardening-test-secret-0123456789abcdef'; // 38 bytes
const CLIENTS = 'crm:crm-secret:org-h:SERVICE';

/** Every variable that decides the gateway's authentication, empty (so the test's own environment cannot leak in), then `env`. */
const gatewayEnv = (natsUrl: string, env: Record<string, string>): Record<string, string> => ({
  NATS_URL: natsUrl,
  HOST: '127.0.0.1',
  PORT: '0',
  METRICS_PORT: '0',
  LOG_LEVEL: 'info',
  PARLEY_MODE: '',
  JWT_SECRET: '',
  JWKS_URL: '',
  JWT_AUDIENCE: '',
  JWT_ISSUER: '',
  OAUTH_CLIENTS: '',
  API_DOCS: '',
  // Its NATS user and signing key, as every process is given them.
  ...testProcessEnv('gateway'),
  ...env,
});

/** A stand-in identity provider: its JWKS over HTTP on a free port. */
async function identityProvider(): Promise<{ url: string; sign(claims: JWTPayload): Promise<string>; close(): Promise<void> }> {
  const { privateKey, publicKey }: { privateKey: KeyLike; publicKey: KeyLike } = await generateKeyPair('RS256');
  const jwk = { ...(await exportJWK(publicKey)), kid: 'k1', alg: 'RS256', use: 'sig' };
  const server: Server = createServer((_req, res) => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: [jwk] })));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/jwks.json`,
    sign: (claims) => new SignJWT(claims).setProtectedHeader({ alg: 'RS256', kid: 'k1', typ: 'JWT' }).sign(privateKey),
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

describe('hardening: production refuses to run insecurely, and exposes only what it must', () => {
  let nats: NatsServerHandle;
  let production: RunningGateway;
  let development: RunningGateway;
  const extra: RunningGateway[] = [];
  const children: TsChildHandle[] = [];

  beforeAll(async () => {
    nats = await startNats();
    production = await startGateway(testGatewayConfig(nats.url, { mode: 'production', rpcTimeoutMs: 500 }), authConfigFromEnv({ JWT_SECRET: SECRET, OAUTH_CLIENTS: CLIENTS }));
    development = await startGateway(testGatewayConfig(nats.url), authConfigFromEnv({ JWT_SECRET: SECRET, OAUTH_CLIENTS: CLIENTS }));
  });
  afterAll(async () => {
    for (const child of children) await child.kill('SIGKILL');
    for (const g of [production, development, ...extra]) await g?.close().catch(() => undefined);
    await nats?.stop();
  });

  describe('1. production mode (PARLEY_MODE=production, the default) refuses weak secrets', () => {
    it.each([
      ['with no JWT_SECRET (PARLEY_MODE unset: production is the default)', {}, /JWT_SECRET is not set .*generate one with `openssl rand -base64 48`.*JWKS_URL with JWT_AUDIENCE and JWT_ISSUER/],
      ['with a 31-byte JWT_SECRET', { PARLEY_MODE: 'production', JWT_SECRET: 'x'.repeat(31) }, /JWT_SECRET is 31 bytes long, fewer than 32.*openssl rand -base64 48/],
      ['with the public development secret', { PARLEY_MODE: 'production', JWT_SECRET: DEV_JWT_SECRET }, /JWT_SECRET is not set \(or is the public development secret/],
      ['with JWKS_URL but neither JWT_AUDIENCE nor JWT_ISSUER', { JWKS_URL: 'http://127.0.0.1:9/jwks.json' }, /JWKS_URL is set without JWT_AUDIENCE and JWT_ISSUER/],
      ['with JWKS_URL and JWT_AUDIENCE but no JWT_ISSUER', { JWKS_URL: 'http://127.0.0.1:9/jwks.json', JWT_AUDIENCE: 'parley' }, /JWKS_URL is set without JWT_ISSUER/],
    ])('the gateway process refuses to start %s: it exits with 1 and says which variable and how to make a value', async (_what, env, message) => {
      const child = spawnTs(GATEWAY_MAIN, { env: gatewayEnv(nats.url, env) });
      children.push(child);
      const exit = await child.exited;
      expect({ code: exit.code, said: message.test(child.output()) }).toEqual({ code: 1, said: true });
      expect(child.output()).toMatch(/gateway could not start/);
      expect(child.output()).not.toMatch(/listening/);
    });

    it('the same checks refuse startGateway in the process, before it connects to anything', async () => {
      const config = { ...gatewayConfigFromEnv({}), natsUrl: 'nats://127.0.0.1:1' };
      expect(config.mode).toBe('production');
      await expect(startGateway(config, authConfigFromEnv({}))).rejects.toThrow(/JWT_SECRET is not set/);
      await expect(startGateway(config, authConfigFromEnv({ JWT_SECRET: 'x'.repeat(31) }))).rejects.toThrow(/31 bytes/);
    });

    it('the gateway starts in production with a proper secret, without the development sign-in or a warning about development', async () => {
      const child = spawnTs(GATEWAY_MAIN, { env: gatewayEnv(nats.url, { PARLEY_MODE: 'production', JWT_SECRET: SECRET }) });
      children.push(child);
      const ready = await child.message<{ ready?: string; url?: string; metricsUrl?: string }>((m) => m?.ready === 'gateway', 60_000);
      const demo = await fetch(`${ready.url}/demo.json`);
      expect(await demo.json()).toEqual({ devSignIn: false });
      expect((await fetch(`${ready.url}/demo/token`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"userId":"u","organizationId":"o","roles":["ADMIN"]}' })).status).toBe(404);
      expect((await fetch(ready.metricsUrl!)).status).toBe(200);
      expect(child.output()).toMatch(/"PARLEY_MODE":"production"/);
      expect(child.output()).not.toMatch(/PARLEY_MODE=development|development secret/);
    });

    it('the development sign-in exists only in development mode, whatever the secret', () => {
      expect(devSignIn(authConfigFromEnv({}), 'development')).toBe(true);
      expect(devSignIn(authConfigFromEnv({}), 'production')).toBe(false);
      expect(devSignIn(authConfigFromEnv({ JWT_SECRET: SECRET }), 'development')).toBe(false);
    });

    it('with JWKS_URL, JWT_AUDIENCE and JWT_ISSUER: an identity provider token without aud or iss is refused (401), one with both accepted; in development too', async () => {
      const idp = await identityProvider();
      try {
        const gateway = await startGateway(
          testGatewayConfig(nats.url, { mode: 'production', rpcTimeoutMs: 300 }),
          authConfigFromEnv({ JWKS_URL: idp.url, JWT_AUDIENCE: 'parley-api', JWT_ISSUER: 'https://idp.example' }),
        );
        extra.push(gateway);
        const now = Math.floor(Date.now() / 1000);
        const claims = { sub: 'idp-user', organization_id: 'org-h', roles: ['AGENT'], iss: 'https://idp.example', aud: 'parley-api', iat: now, exp: now + 300 };
        const call = async (c: JWTPayload) => new Api(gateway.url, await idp.sign(c)).get('/conferences/active');
        for (const [claim, without] of [['aud', { ...claims, aud: undefined }], ['iss', { ...claims, iss: undefined }]] as const) {
          const res = await call(without);
          expect({ status: res.status, message: res.body.message }).toEqual({ status: 401, message: `Access token lacks the "${claim}" claim` });
        }
        expect((await call({ ...claims, aud: 'another-app' })).status).toBe(401);
        expect((await call({ ...claims, iss: 'https://evil.example' })).status).toBe(401);
        // Authenticated: what answers is the missing conference service (503), not the token check.
        expect((await call(claims)).status).toBe(503);
        // Development mode may leave JWT_AUDIENCE and JWT_ISSUER unset, but a token must still carry both.
        const dev = await startGateway(testGatewayConfig(nats.url, { rpcTimeoutMs: 300 }), authConfigFromEnv({ JWKS_URL: idp.url }));
        extra.push(dev);
        const devCall = async (c: JWTPayload) => new Api(dev.url, await idp.sign(c)).get('/conferences/active');
        expect((await devCall({ ...claims, aud: undefined })).body.message).toBe('Access token lacks the "aud" claim');
        expect((await devCall({ ...claims, iss: undefined })).body.message).toBe('Access token lacks the "iss" claim');
        expect((await devCall({ ...claims, aud: 'any', iss: 'any' })).status).toBe(503);
      } finally {
        await idp.close();
      }
    });

    it('the media service refuses TURN_URLS without a TURN_SECRET of 32 characters in production, before it connects to anything', async () => {
      const env = { NATS_URL: 'nats://127.0.0.1:1', MEDIA_WORKERS: '1', LOG_LEVEL: 'info', PARLEY_MODE: 'production', TURN_URLS: 'turn:127.0.0.1:3478?transport=udp' };
      for (const [secret, said] of [['', 'is not'], ['short-turn-secret', 'has 17 characters']]) {
        const child = spawnTs(MEDIA_MAIN, { env: { ...env, TURN_SECRET: secret } });
        children.push(child);
        expect((await child.exited).code).toBe(1);
        expect(child.output()).toMatch(new RegExp(`media could not start: SettingError: TURN_URLS is set but TURN_SECRET ${said}: PARLEY_MODE=production .*at least 32 characters.*openssl rand -hex 32`));
        expect(child.output()).not.toContain('short-turn-secret');
      }
    });
  });

  describe('3. security headers', () => {
    const expectHeaders = (res: Response) => {
      expect({
        frame: res.headers.get('x-frame-options'),
        nosniff: res.headers.get('x-content-type-options'),
        referrer: res.headers.get('referrer-policy'),
        hsts: res.headers.get('strict-transport-security'),
      }).toEqual({ frame: 'DENY', nosniff: 'nosniff', referrer: 'no-referrer', hsts: null });
      const csp = res.headers.get('content-security-policy') ?? '';
      expect(csp).toContain("frame-ancestors 'none'");
      expect(csp).toContain("default-src 'self'");
      expect(csp).toContain("script-src 'self'");
      return csp;
    };

    it('on an API route, its errors included', async () => {
      const res = await fetch(`${production.url}/rtc-api/conferences/active`);
      expect(res.status).toBe(401);
      expect(expectHeaders(res)).toContain("style-src 'self';");
    });

    it('on the demo page and its files, with a policy that lets it fetch and open WebSockets to its own host only', async () => {
      for (const path of ['/', '/demo/app.js', '/demo/style.css', '/demo.json']) {
        const res = await fetch(`${production.url}${path}`);
        expect({ path, status: res.status }).toEqual({ path, status: 200 });
        const host = new URL(production.url).host;
        expect(expectHeaders(res)).toContain(`connect-src 'self' ws://${host} wss://${host}`);
      }
    });

    it('on the docs, whose page alone may use inline styles', async () => {
      for (const path of ['/rtc-api/docs', '/rtc-api/docs/openapi.json', '/rtc-api/docs/asyncapi.json']) {
        const res = await fetch(`${development.url}${path}`);
        expect({ path, status: res.status }).toEqual({ path, status: 200 });
        expect(expectHeaders(res)).toContain("style-src 'self' 'unsafe-inline'");
      }
    });

    it('Strict-Transport-Security only for a request that came over TLS: here through a trusted proxy saying so in X-Forwarded-Proto', async () => {
      const proxied = await startGateway(testGatewayConfig(nats.url, { mode: 'production', trustProxy: ['127.0.0.1'] }), authConfigFromEnv({ JWT_SECRET: SECRET }));
      extra.push(proxied);
      const https = await fetch(`${proxied.url}/demo.json`, { headers: { 'x-forwarded-proto': 'https' } });
      expect(https.headers.get('strict-transport-security')).toBe('max-age=31536000; includeSubDomains');
      expect((await fetch(`${proxied.url}/demo.json`, { headers: { 'x-forwarded-proto': 'http' } })).headers.get('strict-transport-security')).toBeNull();
      expect((await fetch(`${proxied.url}/demo.json`)).headers.get('strict-transport-security')).toBeNull();
      // A proxy that is not trusted cannot say so.
      expect((await fetch(`${production.url}/demo.json`, { headers: { 'x-forwarded-proto': 'https' } })).headers.get('strict-transport-security')).toBeNull();
    });

    describe('in Chromium', () => {
      let browser: Browser;
      beforeAll(async () => {
        browser = await launchChromium();
      });
      afterAll(() => browser?.close());

      /** A page under its Content-Security-Policy, with every violation it reports collected in `violations`. */
      const open = async (url: string, violations: string[]): Promise<Page> => {
        const page = await (await browser.newContext()).newPage();
        await page.exposeFunction('reportViolation', (v: string) => violations.push(v));
        await page.addInitScript(() => {
          const g = globalThis as any;
          g.document.addEventListener('securitypolicyviolation', (e: any) => g.reportViolation(`${e.violatedDirective} ${e.blockedURI}`));
        });
        page.on('console', (m) => {
          if (m.type() === 'error' && /Content Security Policy/i.test(m.text())) violations.push(m.text());
        });
        const response = await page.goto(url);
        expect(response?.headers()['content-security-policy']).toMatch(/default-src 'self'/);
        return page;
      };

      it('the demo page works under the policy (its script, styles, fetches, camera, a WebSocket to its host); an injected handler and a foreign socket are blocked', async () => {
        const dev = await startGateway(testGatewayConfig(nats.url), authConfigFromEnv({}));
        extra.push(dev);
        const violations: string[] = [];
        const page = await open(dev.url, violations);
        // app.js ran and fetched /demo.json; style.css applies; the sign-in form gets its token.
        await page.waitForSelector('#dev-signin:not([hidden])');
        expect(await page.evaluate(() => (globalThis as any).getComputedStyle((globalThis as any).document.querySelector('header')).display)).toBe('flex');
        expect(await page.evaluate(async () => (await fetch('/demo/token', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"userId":"u","organizationId":"o","roles":["AGENT"]}' })).status)).toBe(200);
        expect(await page.evaluate(async () => (await (globalThis as any).navigator.mediaDevices.getUserMedia({ audio: true, video: true })).getTracks().length)).toBe(2);
        // A WebSocket to its own host is allowed (the server then refuses it: no token).
        const own = await page.evaluate(
          () =>
            new Promise<string>((resolve) => {
              const g = globalThis as any;
              const ws = new g.WebSocket(`ws://${g.location.host}/rtc-api/ws?userEndpointId=ep-1`);
              ws.onclose = (e: any) => resolve(`closed ${e.code}`);
            }),
        );
        expect(own).toMatch(/^closed/);
        expect(violations).toEqual([]);
        // What an injected attribute handler would run, the policy stops; a socket to another host too.
        await page.evaluate(() => (globalThis as any).document.body.insertAdjacentHTML('beforeend', '<img src="/demo/none.png" onerror="globalThis.injected = 1">'));
        await page.evaluate(() => {
          try {
            new (globalThis as any).WebSocket('ws://127.0.0.2:9/');
          } catch {
            /* refused at once by some browsers */
          }
        });
        await waitFor(() => violations.some((v) => v.startsWith('script-src-attr')) && violations.some((v) => v.startsWith('connect-src')), { description: 'both violations reported' });
        expect(await page.evaluate(() => (globalThis as any).injected)).toBeUndefined();
      });

      it('Swagger UI renders the API under the policy without a violation', async () => {
        const violations: string[] = [];
        const page = await open(`${development.url}/rtc-api/docs`, violations);
        await page.waitForSelector('.opblock-summary-path', { timeout: 30_000 });
        expect(await page.locator('.opblock').count()).toBeGreaterThanOrEqual(20);
        expect(violations).toEqual([]);
      });
    });
  });

  describe('4. exposure', () => {
    it('/metrics is not on the public listener; it answers on the metrics listener (127.0.0.1:9464 by default) and nothing else there', async () => {
      for (const g of [production, development]) expect((await fetch(`${g.url}/metrics`)).status).toBe(404);
      const scraped = await fetch(production.metricsUrl);
      expect(scraped.status).toBe(200);
      expect(await scraped.text()).toMatch(/parley_http_request_duration_seconds_bucket/);
      expect(production.metricsUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/metrics$/);
      expect((await fetch(production.metricsUrl.replace(/\/metrics$/, '/health'))).status).toBe(404);
      expect(new URL(production.metricsUrl).port).not.toBe(new URL(production.url).port);
      const defaults = gatewayConfigFromEnv({});
      expect({ host: defaults.metricsHost, port: defaults.metricsPort }).toEqual({ host: '127.0.0.1', port: 9464 });
    });

    it('the API documents are 404 in production unless API_DOCS=public; public in development mode unless API_DOCS=off', async () => {
      const paths = ['/rtc-api/docs', '/rtc-api/docs/openapi.json', '/rtc-api/docs/asyncapi.json', '/rtc-api/docs/openapi.yaml'];
      const statuses = async (g: RunningGateway) => Promise.all(paths.map(async (p) => (await fetch(`${g.url}${p}`)).status));
      expect(await statuses(production)).toEqual([404, 404, 404, 404]);
      expect(await statuses(development)).toEqual([200, 200, 200, 200]);
      const publicDocs = await startGateway(testGatewayConfig(nats.url, { mode: 'production', apiDocs: 'public' }), authConfigFromEnv({ JWT_SECRET: SECRET }));
      const hiddenDocs = await startGateway(testGatewayConfig(nats.url, { apiDocs: 'off' }), authConfigFromEnv({ JWT_SECRET: SECRET }));
      extra.push(publicDocs, hiddenDocs);
      expect(await statuses(publicDocs)).toEqual([200, 200, 200, 200]);
      expect(await statuses(hiddenDocs)).toEqual([404, 404, 404, 404]);
      expect(() => gatewayConfigFromEnv({ API_DOCS: 'yes' })).toThrow(/API_DOCS must be one of public, off, got "yes"/);
    });
  });

  describe('5. no credential in a log line', () => {
    it('query-string tokens and secrets, the Authorization header and cookies are redacted from the gateway log', async () => {
      const child = spawnTs(GATEWAY_MAIN, { env: gatewayEnv(nats.url, { PARLEY_MODE: 'production', JWT_SECRET: SECRET, OAUTH_CLIENTS: CLIENTS, RPC_TIMEOUT_MS: '300' }) });
      children.push(child);
      const { url } = await child.message<{ ready?: string; url: string }>((m) => m?.ready === 'gateway', 60_000);
      const secrets = ['AT-1-leak', 'CS-2-leak', 'RT-3-leak', 'PW-4-leak', 'CODE-5-leak', 'TOKEN-6-leak', 'HDR-7-leak', 'COOKIE-8-leak', 'WS-9-leak', 'FORM-10-leak', 'BASIC-11-leak'];
      await fetch(`${url}/rtc-api/conferences/active?access_token=AT-1-leak&client_secret=CS-2-leak&refresh_token=RT-3-leak&password=PW-4-leak&code=CODE-5-leak&token=TOKEN-6-leak&v=1`, {
        headers: { authorization: 'Bearer HDR-7-leak', cookie: 'session=COOKIE-8-leak' },
      });
      await fetch(`${url}/rtc-api/ws?userEndpointId=ep-1&access_token=WS-9-leak`);
      await fetch(`${url}/rtc-api/oauth/token?client_secret=CS-2-leak`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: `Basic ${Buffer.from('crm:BASIC-11-leak').toString('base64')}` },
        body: 'grant_type=client_credentials&client_secret=FORM-10-leak',
      });
      // Each request's line is there (so the log was written), with its credentials redacted.
      await waitFor(() => /conferences\/active\?access_token=\[Redacted\]/.test(child.output()) && /oauth\/token\?client_secret=\[Redacted\]/.test(child.output()) && /\/rtc-api\/ws\?userEndpointId=ep-1&access_token=\[Redacted\]/.test(child.output()), {
        description: 'the request log lines',
      });
      const log = child.output();
      expect(log.length).toBeLessThan(64_000); // the whole output, not a tail of it (spawnTs keeps 64 KB)
      expect(log).toContain('client_secret=[Redacted]&refresh_token=[Redacted]&password=[Redacted]&code=[Redacted]&token=[Redacted]&v=1');
      expect(log).toMatch(/"authorization":"\[Redacted\]"/);
      expect(log).toMatch(/"cookie":"\[Redacted\]"/);
      expect(secrets.filter((s) => log.includes(s))).toEqual([]);
      expect(log).not.toContain(Buffer.from('crm:BASIC-11-leak').toString('base64'));
    });
  });

  describe('6. the token endpoint answers errors as RFC 6749 §5.2 says', () => {
    const token = (body: string | undefined, headers: Record<string, string> = {}) =>
      fetch(`${production.url}/rtc-api/oauth/token`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers }, body });
    const basic = (id: string, secret: string) => ({ authorization: `Basic ${Buffer.from(`${id}:${secret}`).toString('base64')}` });
    /** The status, the body's exact keys and code, and the headers §5.1/§5.2 and RFC 7235 ask for. */
    const answer = async (res: Response) => {
      const body = (await res.json()) as Record<string, unknown>;
      expect(Object.keys(body).sort()).toEqual(['error', 'error_description']);
      expect(typeof body.error_description === 'string' && body.error_description.length > 0).toBe(true);
      expect({ cacheControl: res.headers.get('cache-control'), pragma: res.headers.get('pragma') }).toEqual({ cacheControl: 'no-store', pragma: 'no-cache' });
      return { status: res.status, error: body.error, challenge: res.headers.get('www-authenticate'), description: String(body.error_description) };
    };

    it.each([
      ['a missing grant_type', 400, 'invalid_request', 'client_id=crm&client_secret=crm-secret', {}, /grant_type is missing/],
      ['an empty body', 400, 'invalid_request', '', {}, /grant_type is missing/],
      ['a repeated parameter', 400, 'invalid_request', 'grant_type=client_credentials&grant_type=password&client_id=crm&client_secret=crm-secret', {}, /'grant_type' is given more than once/],
      ['an unsupported grant_type', 400, 'unsupported_grant_type', 'grant_type=password&username=u&password=p', {}, /client_credentials/],
      ['a scope the client may not have', 400, 'invalid_scope', 'grant_type=client_credentials&client_id=crm&client_secret=crm-secret&scope=ADMIN', {}, /may not request ADMIN; allowed: SERVICE/],
      ['an unknown scope', 400, 'invalid_scope', 'grant_type=client_credentials&scope=ROOT', basic('crm', 'crm-secret'), /ROOT/],
      ['two authentication methods', 400, 'invalid_request', 'grant_type=client_credentials&client_secret=crm-secret', basic('crm', 'crm-secret'), /authenticated twice/],
    ])('%s: %d %s', async (_what, status, error, body, headers, description) => {
      const got = await answer(await token(body, headers));
      expect({ status: got.status, error: got.error, challenge: got.challenge }).toEqual({ status, error, challenge: null });
      expect(got.description).toMatch(description);
      // RFC 6749 §5.2: error_description is printable ASCII without '"' or '\\'.
      expect(got.description).toMatch(/^[\x20-\x21\x23-\x5B\x5D-\x7E]*$/);
    });

    it.each([
      ['a wrong secret in the body', 'grant_type=client_credentials&client_id=crm&client_secret=nope', {}],
      ['no credentials at all', 'grant_type=client_credentials', {}],
      ['an unknown client with HTTP Basic', 'grant_type=client_credentials', basic('nobody', 'crm-secret')],
      ['a wrong secret with HTTP Basic', 'grant_type=client_credentials', basic('crm', 'nope')],
      ['a malformed Basic header', 'grant_type=client_credentials', { authorization: 'Basic !!!not-base64' }],
      ['another Authorization scheme', 'grant_type=client_credentials&client_id=crm&client_secret=crm-secret', { authorization: 'Bearer abc' }],
    ])('bad client credentials (%s): 401 invalid_client with a Basic challenge', async (_what, body, headers) => {
      const got = await answer(await token(body, headers));
      expect({ status: got.status, error: got.error, challenge: got.challenge }).toEqual({ status: 401, error: 'invalid_client', challenge: 'Basic realm="parley", charset="UTF-8"' });
    });

    it('a malformed JSON body and a parameter that is not a string are invalid_request too; a good request is a token, never cached', async () => {
      const json = (body: string) => fetch(`${production.url}/rtc-api/oauth/token`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
      expect(await answer(await json('{"grant_type":'))).toMatchObject({ status: 400, error: 'invalid_request' });
      expect(await answer(await json('{"grant_type":"client_credentials","client_id":"crm","client_secret":["crm-secret"]}'))).toMatchObject({ status: 400, error: 'invalid_request', description: 'client_secret must be a string' });
      const ok = await token('grant_type=client_credentials&client_id=crm&client_secret=crm-secret');
      expect(ok.status).toBe(200);
      expect({ cacheControl: ok.headers.get('cache-control'), pragma: ok.headers.get('pragma') }).toEqual({ cacheControl: 'no-store', pragma: 'no-cache' });
      expect(await ok.json()).toMatchObject({ token_type: 'Bearer', access_token: expect.any(String) });
    });
  });
});
