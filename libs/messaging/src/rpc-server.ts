import { ArgumentsHost, Catch, Logger, RpcExceptionFilter } from '@nestjs/common';
import type { NatsContext } from '@nestjs/microservices';
import { type Observable, throwError } from 'rxjs';
import { type ErrorEnvelope, Headers, ParleyError, type RequestContext, isRole } from '@parley/contracts';
import { randomUUID } from 'node:crypto';

/** The caller and the correlation chain, from the NATS headers NatsRpcClient sets. */
export function requestContextOf(ctx: NatsContext): RequestContext {
  const h = ctx.getHeaders() as { get(k: string): string } | undefined;
  const get = (k: string) => h?.get(k) ?? '';
  const userId = get(Headers.userId);
  const organizationId = get(Headers.organizationId);
  if (!userId || !organizationId) throw new ParleyError('UNAUTHORIZED', 'request carries no caller (Parley-User-Id / Parley-Organization-Id headers)');
  const roles = get(Headers.roles);
  return {
    // Role names never hold a comma, and only Parley's are roles (the gateway has filtered them already).
    actor: { userId, organizationId, roles: roles ? roles.split(',').filter(isRole) : [] },
    correlationId: get(Headers.correlationId) || randomUUID(),
    causationId: get(Headers.causationId) || randomUUID(),
  };
}

/**
 * Turns whatever a message handler throws into the error envelope that crosses NATS:
 * a ParleyError keeps its code and message; anything else is logged and becomes INTERNAL
 * without leaking internals.
 */
@Catch()
export class RpcErrorFilter implements RpcExceptionFilter<unknown> {
  private readonly logger = new Logger('RpcErrorFilter');

  catch(exception: unknown, _host: ArgumentsHost): Observable<ErrorEnvelope> {
    if (exception instanceof ParleyError) return throwError(() => exception.toEnvelope());
    this.logger.error(exception instanceof Error ? exception.stack : String(exception));
    return throwError(() => ({ code: 'INTERNAL', message: 'internal error' }) satisfies ErrorEnvelope);
  }
}
