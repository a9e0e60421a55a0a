import { ArgumentsHost, Catch, Logger, RpcExceptionFilter } from '@nestjs/common';
import type { NatsContext } from '@nestjs/microservices';
import { type Observable, throwError } from 'rxjs';
import { type ErrorEnvelope, ParleyError, type RequestContext } from '@parley/contracts';

/** The callers of the messages a VerifyingNatsServer let through, by the message's headers (what a handler's NatsContext holds), with the process that vouched for each. */
const verifiedCallers = new WeakMap<object, { ctx: RequestContext; assertedBy: string }>();

/** Records the verified caller of a message (VerifyingNatsServer, before any handler runs). */
export function recordVerifiedCaller(headers: object, ctx: RequestContext, assertedBy: string): void {
  verifiedCallers.set(headers, { ctx, assertedBy });
}

const verifiedOf = (ctx: NatsContext) => {
  const headers = ctx.getHeaders() as object | undefined;
  const verified = headers ? verifiedCallers.get(headers) : undefined;
  if (!verified) throw new ParleyError('UNAUTHORIZED', 'request carries no verified caller');
  return verified;
};

/**
 * The caller and the correlation chain of the message a handler runs for: what its signed
 * assertion said, checked before the handler was called. A message that was not checked has no
 * caller: fail closed.
 */
export function requestContextOf(ctx: NatsContext): RequestContext {
  return verifiedOf(ctx).ctx;
}

/** The caller, when one of `processes` vouched for it (a command only they send); FORBIDDEN otherwise. */
export function requestFrom(ctx: NatsContext, ...processes: string[]): RequestContext {
  const { ctx: caller, assertedBy } = verifiedOf(ctx);
  if (!processes.includes(assertedBy)) throw new ParleyError('FORBIDDEN', `only the ${processes.join(' or ')} service may send this; it came from ${assertedBy}`);
  return caller;
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
