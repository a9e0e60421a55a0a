import { type ArgumentsHost, Catch, type ExceptionFilter, HttpException, Inject, Logger } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { ParleyError, httpStatusOf } from '@parley/contracts';
import { STATUS_CODES } from 'node:http';
import type { GatewayConfig } from './config';
import { GATEWAY_CONFIG } from './tokens';

/**
 * Every error becomes a JSON body with the status the spec documents and a message a
 * person can act on: `{ statusCode, error, message, error_description, details? }`
 * (`error`/`error_description` as in the spec's AnotherErrorResponse). Only unexpected
 * failures are 500, and they are logged.
 */
@Catch()
export class HttpErrorFilter implements ExceptionFilter {
  private readonly logger = new Logger('HttpErrorFilter');

  constructor(@Inject(GATEWAY_CONFIG) private readonly config: GatewayConfig) {}

  catch(exception: unknown, host: ArgumentsHost): void {
    const reply = host.switchToHttp().getResponse<FastifyReply>();
    const described = this.describe(exception);
    const { status, details } = described;
    const message = status === 413 ? `Request body is too large: the limit is ${this.config.bodyLimitBytes} bytes (BODY_LIMIT_BYTES)` : described.message;
    if (status >= 500 && status !== 503 && status !== 504) this.logger.error(exception instanceof Error ? exception.stack : String(exception));
    const body: Record<string, unknown> = { statusCode: status, error: STATUS_CODES[status] ?? 'Error', message, error_description: message };
    if (details) body.details = details;
    void reply.status(status).header('content-type', 'application/json; charset=utf-8').send(body);
  }

  private describe(e: unknown): { status: number; message: string; details?: Record<string, unknown> } {
    if (e instanceof ParleyError) return { status: httpStatusOf(e.code), message: e.message, details: e.details };
    if (e instanceof HttpException) {
      const r = e.getResponse();
      const message = typeof r === 'string' ? r : Array.isArray((r as { message?: unknown }).message) ? ((r as { message: string[] }).message).join('; ') : String((r as { message?: unknown }).message ?? e.message);
      return { status: e.getStatus(), message };
    }
    // Fastify's own errors (body too large, malformed JSON, wrong content type) carry a 4xx statusCode.
    const statusCode = (e as { statusCode?: unknown })?.statusCode;
    if (typeof statusCode === 'number' && statusCode >= 400 && statusCode < 500) {
      return { status: statusCode, message: (e as Error).message };
    }
    return { status: 500, message: 'Internal server error' };
  }
}
