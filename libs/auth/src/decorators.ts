import { type ExecutionContext, SetMetadata, createParamDecorator } from '@nestjs/common';
import type { Actor, Role } from '@parley/contracts';

export const ROLES_KEY = 'parley:auth:roles';
export const IS_PUBLIC_KEY = 'parley:auth:public';

/** What AuthGuard reads from and writes to the HTTP request (Fastify or Express alike). */
export interface AuthenticatedRequest {
  headers: Record<string, string | string[] | undefined>;
  actor?: Actor;
}

/**
 * The caller must hold at least one of these roles (403 otherwise). On a handler it replaces the
 * controller's @Roles rather than adding to it, so one route can be narrower or wider than its class.
 */
export const Roles = (...roles: Role[]) => SetMetadata(ROLES_KEY, roles);

/** No token needed. A valid token, if sent, still sets request.actor; an invalid one is ignored. */
export const Public = () => SetMetadata(IS_PUBLIC_KEY, true);

/** The Actor AuthGuard verified; undefined only on a @Public() route called without a valid token. */
export const CurrentActor = createParamDecorator((_data: unknown, ctx: ExecutionContext): Actor | undefined => {
  return ctx.switchToHttp().getRequest<AuthenticatedRequest>().actor;
});
