import { createHash } from 'node:crypto';
import rateLimit from '@fastify/rate-limit';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { quotaExceeded } from '@parley/contracts';
import { parseBasicAuth } from '@parley/auth';
import type { RateLimits } from './config';
import { TOKEN_PATH } from './http-error.filter';
import { bearerTokenOf, pathOf } from './http-params';

/** Routes no limit applies to: load balancers ask often, from one address, without a token. */
const EXEMPT = new Set(['/health']);

/** The bearer token, hashed: the per-token key. */
function tokenOf(req: FastifyRequest): string | undefined {
  const token = bearerTokenOf(req);
  return token ? createHash('sha256').update(token).digest('base64url').slice(0, 22) : undefined;
}

/** The client id a token request names (HTTP Basic, or the body's client_id). */
function clientIdOf(req: FastifyRequest): string | undefined {
  const basic = parseBasicAuth(req.headers.authorization);
  if (basic) return basic.id;
  const id = (req.body as Record<string, unknown> | undefined)?.client_id;
  return typeof id === 'string' && id ? id : undefined;
}

/**
 * Rate limits at the gateway (@fastify/rate-limit's counters, one fixed window each): every
 * request counts against its address and, with a bearer token, against the token; a token
 * request (POST /oauth/token) against its address and the client id it names, with far lower
 * limits, so secrets cannot be guessed at speed. A request over any limit is 429 with a
 * Retry-After of the seconds left in the window.
 */
export async function registerRateLimits(fastify: FastifyInstance, limits: RateLimits, onLimited: (limit: string) => void): Promise<void> {
  await fastify.register(rateLimit, { global: false, cache: 100_000 });
  const windowSeconds = Math.round(limits.windowMs / 1000);
  const limiter = (name: string, what: string, max: number, keyOf: (req: FastifyRequest) => string | undefined) => {
    const check = fastify.createRateLimit({
      max,
      timeWindow: limits.windowMs,
      keyGenerator: (req) => `${name}:${keyOf(req) ?? ''}`,
      allowList: (req) => keyOf(req) === undefined,
    });
    return async (req: FastifyRequest) => {
      const r = await check(req);
      if (r.isAllowed || !r.isExceeded) return;
      onLimited(name);
      throw quotaExceeded(`Too many requests ${what}: at most ${max} per ${windowSeconds} s; retry in ${r.ttlInSeconds} s`, name, max, r.ttlInSeconds);
    };
  };
  const perAddress = limiter('perAddress', 'from this address', limits.perAddress, (req) => req.ip);
  const perToken = limiter('perToken', 'with this token', limits.perToken, tokenOf);
  const tokenPerAddress = limiter('tokenPerAddress', 'for tokens from this address', limits.tokenPerAddress, (req) => req.ip);
  const tokenPerClient = limiter('tokenPerClient', 'for tokens of this client', limits.tokenPerClient, clientIdOf);

  fastify.addHook('onRequest', async (req) => {
    const path = pathOf(req);
    if (EXEMPT.has(path)) return;
    if (path === TOKEN_PATH) return tokenPerAddress(req);
    await perAddress(req);
    await perToken(req);
  });
  // The client id may be in the body, which is parsed by now.
  fastify.addHook('preHandler', async (req) => {
    if (pathOf(req) === TOKEN_PATH) await tokenPerClient(req);
  });
}
