import { randomUUID } from 'node:crypto';
import { type ExecutionContext, createParamDecorator, UnauthorizedException } from '@nestjs/common';
import type { Actor, RequestContext } from '@parley/contracts';
import { ID_PATTERN } from '@parley/contracts';

/**
 * The caller (set by the auth guard) and the correlation id: the client's X-Request-Id
 * when it is a sane token, else a new one. The first hop's causation is the request itself.
 */
export const Ctx = createParamDecorator((_: unknown, execution: ExecutionContext): RequestContext => {
  const req = execution.switchToHttp().getRequest<{ actor?: Actor; headers: Record<string, string | string[] | undefined>; id?: string }>();
  if (!req.actor) throw new UnauthorizedException('Missing bearer token');
  const given = req.headers['x-request-id'];
  const correlationId = typeof given === 'string' && ID_PATTERN.test(given) ? given : randomUUID();
  return { actor: req.actor, correlationId, causationId: correlationId };
});
