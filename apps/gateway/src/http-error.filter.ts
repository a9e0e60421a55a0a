import { type ArgumentsHost, Catch, type ExceptionFilter, HttpException, Inject, Logger } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { ParleyError, httpStatusOf } from '@parley/contracts';
import { OAuthError } from '@parley/auth';
import { STATUS_CODES } from 'node:http';
import type { GatewayConfig } from './config';
import { pathOf } from './http-params';
import { GATEWAY_CONFIG } from './tokens';

/** The OAuth2 token endpoint answers errors in RFC 6749's shape. */
export const TOKEN_PATH = '/rtc-api/oauth/token';

/** A message longer than this is cut: error messages never carry a client's whole input back. */
const MAX_MESSAGE_CHARS = 1000;

/** RFC 6749 §5.2's error codes by status (and §4.1.2.1's temporarily_unavailable for a throttled client). */
const oauthError = (status: number): string => (status === 401 ? 'invalid_client' : status === 429 || status >= 500 ? 'temporarily_unavailable' : 'invalid_request');

export interface ErrorReply {
  status: number;
  message: string;
  details?: Record<string, unknown>;
}

/**
 * Sends an error the one way Parley answers errors: JSON `{ statusCode, error, message,
 * error_description, details? }` (`error`/`error_description` as in the spec), or RFC 6749's
 * `{ error, error_description }` on the token endpoint; a `details.retryAfterSeconds` (a quota,
 * a rate limit, a service out of capacity) becomes the Retry-After header.
 */
export function sendError(reply: FastifyReply, { status, message, details }: ErrorReply, oauth = false): void {
  const retryAfter = details?.retryAfterSeconds;
  if (typeof retryAfter === 'number') void reply.header('retry-after', String(Math.max(1, Math.ceil(retryAfter))));
  if (oauth) return sendOAuthError(reply, status, oauthError(status), message);
  const text = cut(message);
  const body = { statusCode: status, error: STATUS_CODES[status] ?? 'Error', message: text, error_description: text, ...(details ? { details } : {}) };
  void reply.status(status).header('content-type', 'application/json; charset=utf-8').send(body);
}

/** RFC 6749 §5.2: error_description holds %x20-21 / %x23-5B / %x5D-7E only (no '"', no '\\', ASCII). */
export const oauthText = (text: string): string => text.replace(/…/g, '...').replace(/"/g, "'").replace(/[^\x20-\x21\x23-\x5B\x5D-\x7E]/g, '?');

const cut = (message: string): string => (message.length > MAX_MESSAGE_CHARS ? `${message.slice(0, MAX_MESSAGE_CHARS)}…` : message);

/**
 * An error of the token endpoint, as RFC 6749 §5.2 says: `{ error, error_description }`, never
 * cached (Cache-Control: no-store, Pragma: no-cache, as §5.1 asks of its answers), and a 401
 * (invalid_client) with the WWW-Authenticate challenge of HTTP Basic, the scheme the endpoint
 * takes (RFC 7235 §3.1: every 401 carries one).
 */
export function sendOAuthError(reply: FastifyReply, status: number, error: string, description: string): void {
  void reply.header('cache-control', 'no-store').header('pragma', 'no-cache');
  if (status === 401) void reply.header('www-authenticate', 'Basic realm="parley", charset="UTF-8"');
  void reply.status(status).header('content-type', 'application/json; charset=utf-8').send({ error, error_description: oauthText(cut(description)) });
}

/** What an exception means for the client: a ParleyError's code, an HTTP exception's status, or 500. */
export function describeError(e: unknown, bodyLimitBytes: number): ErrorReply {
  if (e instanceof ParleyError) return { status: httpStatusOf(e.code), message: e.message, ...(e.details ? { details: e.details } : {}) };
  if (e instanceof HttpException) {
    const status = e.getStatus();
    // Fastify's body limit (the only 413 that is not a ParleyError naming its own bound).
    if (status === 413) return { status, message: `Request body is too large: the limit is ${bodyLimitBytes} bytes (BODY_LIMIT_BYTES)` };
    const r = e.getResponse();
    const message = typeof r === 'string' ? r : Array.isArray((r as { message?: unknown }).message) ? ((r as { message: string[] }).message).join('; ') : String((r as { message?: unknown }).message ?? e.message);
    return { status, message };
  }
  // Fastify's own errors (malformed JSON, wrong content type) carry a 4xx statusCode.
  const statusCode = (e as { statusCode?: unknown })?.statusCode;
  if (typeof statusCode === 'number' && statusCode >= 400 && statusCode < 500) return { status: statusCode, message: (e as Error).message };
  return { status: 500, message: 'Internal server error' };
}

/**
 * Every error becomes a JSON body with the status the spec documents and a message a person can
 * act on (see sendError). Only unexpected failures are 500, and they are logged.
 */
@Catch()
export class HttpErrorFilter implements ExceptionFilter {
  private readonly logger = new Logger('HttpErrorFilter');

  constructor(@Inject(GATEWAY_CONFIG) private readonly config: GatewayConfig) {}

  catch(exception: unknown, host: ArgumentsHost): void {
    const http = host.switchToHttp();
    if (exception instanceof OAuthError) return sendOAuthError(http.getResponse<FastifyReply>(), exception.status, exception.error, exception.description);
    const described = describeError(exception, this.config.bodyLimitBytes);
    if (described.status >= 500 && described.status !== 503 && described.status !== 504) this.logger.error(exception instanceof Error ? exception.stack : String(exception));
    sendError(http.getResponse<FastifyReply>(), described, pathOf(http.getRequest<FastifyRequest>()) === TOKEN_PATH);
  }
}
