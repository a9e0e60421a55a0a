import helmet from '@fastify/helmet';
import type { FastifyInstance, FastifyRequest } from 'fastify';

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
 * Security headers on every answer of the public listener (API, demo page, docs), with
 * @fastify/helmet: X-Frame-Options DENY, X-Content-Type-Options nosniff, Referrer-Policy
 * no-referrer, Cross-Origin-Opener-Policy and -Resource-Policy same-origin, and the rest of
 * helmet's defaults. Two are Parley's own, decided per request: the Content-Security-Policy
 * (contentSecurityPolicy above; the docs' page gets its two allowances), and
 * Strict-Transport-Security, sent only when the request arrived over TLS, to this listener or,
 * with TRUST_PROXY, to a proxy that says so in X-Forwarded-Proto: a browser ignores it over plain
 * HTTP, and a development gateway on http://127.0.0.1 must not pin its host name to HTTPS.
 */
export async function registerSecurityHeaders(fastify: FastifyInstance): Promise<void> {
  await fastify.register(helmet, {
    global: true,
    contentSecurityPolicy: false, // set below, per request
    strictTransportSecurity: false, // set below, over TLS only
    frameguard: { action: 'deny' },
    referrerPolicy: { policy: 'no-referrer' },
    crossOriginEmbedderPolicy: false,
  });
  fastify.addHook('onRequest', async (req, reply) => {
    void reply.header('content-security-policy', contentSecurityPolicy({ docs: isDocs(req), host: req.headers.host }));
    if (req.protocol === 'https') void reply.header('strict-transport-security', HSTS_VALUE);
  });
}
