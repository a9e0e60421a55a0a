import type { IncomingMessage, ServerResponse } from 'node:http';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import helmet from 'helmet';

/** Where Swagger UI is served: its page needs inline styles and data: images, nothing else does. */
export const DOCS_PATH_PREFIX = '/rtc-api/docs';

/** HSTS for a year, subdomains included: sent only on a response to a request that came over TLS. */
export const HSTS_VALUE = 'max-age=31536000; includeSubDomains';

/** A Host header that may be written into a policy: a name or an IPv4/IPv6 address, and a port. */
const PLAIN_HOST = /^(?:[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*|\[[0-9A-Fa-f:.]+\])(?::\d{1,5})?$/;

/**
 * The Content-Security-Policy of a response. Scripts, styles, fonts and images come from this
 * origin only; nothing may frame a page (frame-ancestors 'none'); no plugins, no <base>, forms
 * post here only. Fetches go to this origin, and WebSockets to this host (`ws:`/`wss:`, named
 * because older browsers do not count them as 'self'). Swagger UI (under /rtc-api/docs) also
 * needs inline styles (its page has a <style> element) and data: images (its icons).
 */
export function contentSecurityPolicy(options: { docs: boolean; host?: string }): string {
  const sockets = options.host && PLAIN_HOST.test(options.host) ? ` ws://${options.host} wss://${options.host}` : '';
  return [
    "default-src 'self'",
    "base-uri 'none'",
    "object-src 'none'",
    "frame-ancestors 'none'",
    "form-action 'self'",
    "script-src 'self'",
    "script-src-attr 'none'",
    options.docs ? "style-src 'self' 'unsafe-inline'" : "style-src 'self'",
    options.docs ? "img-src 'self' data:" : "img-src 'self'",
    "font-src 'self'",
    `connect-src 'self'${sockets}`,
  ].join('; ');
}

const isDocs = (req: FastifyRequest): boolean => {
  const path = req.url.split('?')[0];
  return path === DOCS_PATH_PREFIX || path.startsWith(`${DOCS_PATH_PREFIX}/`);
};

/**
 * The headers helmet sets with Parley's options, worked out once by helmet itself (its middleware
 * run against a response that records them): they are the same for every request, and building
 * helmet's middleware for each request (as @fastify/helmet does) took about 2 % of the gateway's
 * profile samples under load (BENCHMARKS.md, issue 12).
 */
export const HELMET_HEADERS: Readonly<Record<string, string>> = (() => {
  const headers: Record<string, string> = {};
  const recorder = {
    setHeader: (name: string, value: string | number | readonly string[]) => void (headers[name.toLowerCase()] = String(value)),
    removeHeader: (name: string) => void delete headers[name.toLowerCase()],
  };
  helmet({
    contentSecurityPolicy: false, // set per request
    strictTransportSecurity: false, // set per request, over TLS only
    frameguard: { action: 'deny' },
    referrerPolicy: { policy: 'no-referrer' },
    crossOriginEmbedderPolicy: false,
  })({} as IncomingMessage, recorder as unknown as ServerResponse, () => undefined);
  return Object.freeze(headers);
})();

/**
 * Security headers on every answer of the public listener (API, demo page, docs): helmet's
 * (HELMET_HEADERS): X-Frame-Options DENY, X-Content-Type-Options nosniff, Referrer-Policy
 * no-referrer, Cross-Origin-Opener-Policy and -Resource-Policy same-origin, and the rest of
 * helmet's defaults. Two are Parley's own, decided per request: the Content-Security-Policy
 * (contentSecurityPolicy above; the docs' page gets its two allowances), and
 * Strict-Transport-Security, sent only when the request arrived over TLS, to this listener or,
 * with TRUST_PROXY, to a proxy that says so in X-Forwarded-Proto: a browser ignores it over plain
 * HTTP, and a development gateway on http://127.0.0.1 must not pin its host name to HTTPS.
 */
export function registerSecurityHeaders(fastify: FastifyInstance): void {
  fastify.addHook('onRequest', (req, reply, done) => {
    void reply.headers(HELMET_HEADERS);
    void reply.header('content-security-policy', contentSecurityPolicy({ docs: isDocs(req), host: req.headers.host }));
    if (req.protocol === 'https') void reply.header('strict-transport-security', HSTS_VALUE);
    done();
  });
}
