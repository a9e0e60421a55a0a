import { type CanActivate, type ExecutionContext, ForbiddenException, HttpException, Inject, Injectable, UnauthorizedException } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { type Actor, ParleyError, httpStatusOf } from '@parley/contracts';
import { type AuthenticatedRequest, IS_PUBLIC_KEY, ROLES_KEY } from './decorators';
import { TokenVerifier } from './token-verifier';

const REALM = 'parley';

/** RFC 6750 3: a quoted-string cannot hold '"' or '\', so they are dropped from the description. */
const challenge = (error?: string, description?: string): string => {
  let v = `Bearer realm="${REALM}"`;
  if (error) v += `, error="${error}"`;
  if (description) v += `, error_description="${description.replace(/["\\]/g, '')}"`;
  return v;
};

/** Fastify's reply has header(); Express's response has setHeader(). The guard serves either. */
const setHeader = (response: unknown, name: string, value: string): void => {
  const r = response as { header?: (n: string, v: string) => unknown; setHeader?: (n: string, v: string) => unknown } | undefined;
  if (typeof r?.header === 'function') r.header(name, value);
  else if (typeof r?.setHeader === 'function') r.setHeader(name, value);
};

type BearerResult = { token: string } | { missing: true } | { malformed: string };

const readBearer = (request: AuthenticatedRequest): BearerResult => {
  const header = request.headers?.authorization;
  if (header === undefined || header === '') return { missing: true };
  if (Array.isArray(header)) return { malformed: 'Send exactly one Authorization header' };
  // The scheme is case-insensitive (RFC 7235 2.1); the token is one b64token (RFC 6750 2.1).
  const m = /^\s*bearer\s+([A-Za-z0-9\-._~+/]+=*)\s*$/i.exec(header);
  if (!m) return { malformed: 'Authorization header must be "Bearer <access token>"' };
  return { token: m[1] };
};

/**
 * The gateway's global guard (register with `{ provide: APP_GUARD, useExisting: AuthGuard }`):
 * every route needs a valid bearer token unless marked @Public(); @Roles(...) then needs any
 * one of the listed roles. The verified Actor is left on `request.actor` for @CurrentActor().
 */
@Injectable()
export class AuthGuard implements CanActivate {
  constructor(
    @Inject(TokenVerifier) private readonly verifier: TokenVerifier,
    @Inject(Reflector) private readonly reflector: Reflector,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const targets = [context.getHandler(), context.getClass()];
    const isPublic = this.reflector.getAllAndOverride<boolean | undefined>(IS_PUBLIC_KEY, targets) === true;
    if (context.getType() !== 'http') {
      // Fail closed: this guard only knows how to read HTTP headers. A websocket or RPC handler
      // reached through a global guard must be @Public() and authenticate its own way.
      if (isPublic) return true;
      throw new ForbiddenException('AuthGuard only authenticates HTTP requests; mark this handler @Public() and authenticate it another way');
    }
    const http = context.switchToHttp();
    const request = http.getRequest<AuthenticatedRequest>();
    const bearer = readBearer(request);

    if (isPublic) {
      // Optional authentication: a public route may still want to know who is calling.
      if ('token' in bearer) {
        try {
          request.actor = await this.verifier.verify(bearer.token);
        } catch {
          /* ignored on purpose: the route is open to anonymous callers */
        }
      }
      return true;
    }

    if ('missing' in bearer) {
      setHeader(http.getResponse(), 'WWW-Authenticate', challenge());
      throw new UnauthorizedException('Missing access token: send "Authorization: Bearer <access token>"');
    }
    if ('malformed' in bearer) {
      setHeader(http.getResponse(), 'WWW-Authenticate', challenge('invalid_request', bearer.malformed));
      throw new UnauthorizedException(bearer.malformed);
    }

    let actor: Actor;
    try {
      actor = await this.verifier.verify(bearer.token);
    } catch (e) {
      if (e instanceof ParleyError && e.code === 'UNAUTHORIZED') {
        setHeader(http.getResponse(), 'WWW-Authenticate', challenge('invalid_token', e.message));
        throw new UnauthorizedException(e.message);
      }
      // e.g. UNAVAILABLE when the JWKS cannot be fetched: not the caller's fault, not a 401.
      if (e instanceof ParleyError) throw new HttpException(e.message, httpStatusOf(e.code));
      throw e;
    }
    request.actor = actor;

    const required = this.reflector.getAllAndOverride<string[] | undefined>(ROLES_KEY, targets);
    if (required && required.length > 0 && !required.some((r) => actor.roles.includes(r))) {
      setHeader(http.getResponse(), 'WWW-Authenticate', challenge('insufficient_scope'));
      throw new ForbiddenException(`This operation requires one of the roles ${required.join(', ')}; the caller has ${actor.roles.join(', ') || 'none'}`);
    }
    return true;
  }
}
