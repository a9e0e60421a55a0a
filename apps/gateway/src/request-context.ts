import { randomUUID } from 'node:crypto';
import { type ExecutionContext, createParamDecorator, UnauthorizedException } from '@nestjs/common';
import type { Actor, RequestContext } from '@parley/contracts';
import { ID_PATTERN, ParleyError, TRANSACTION_ID_HEADER, TRANSACTION_ID_PATTERN } from '@parley/contracts';

/**
 * The caller (set by the auth guard), the correlation id (the client's X-Request-Id when it is a
 * sane token, else a new one; the first hop's causation is the request itself) and the client's
 * transaction id (X-Auvious-TransactionId, forwarded to the service, which answers a retry of a
 * command as it answered the first; a malformed one is 400 before anything is sent).
 */
export const Ctx = createParamDecorator((_: unknown, execution: ExecutionContext): RequestContext => {
  const req = execution.switchToHttp().getRequest<{ actor?: Actor; headers: Record<string, string | string[] | undefined>; id?: string }>();
  if (!req.actor) throw new UnauthorizedException('Missing bearer token');
  const given = req.headers['x-request-id'];
  const correlationId = typeof given === 'string' && ID_PATTERN.test(given) ? given : randomUUID();
  const transactionId = req.headers[TRANSACTION_ID_HEADER.toLowerCase()];
  if (transactionId === undefined) return { actor: req.actor, correlationId, causationId: correlationId };
  if (typeof transactionId !== 'string' || !TRANSACTION_ID_PATTERN.test(transactionId)) {
    throw new ParleyError('BAD_REQUEST', `${TRANSACTION_ID_HEADER} must be one value of 1 to 128 visible ASCII characters (no spaces)`, { fields: [TRANSACTION_ID_HEADER] });
  }
  return { actor: req.actor, correlationId, causationId: correlationId, transactionId };
});
