import { applyDecorators } from '@nestjs/common';
import { ApiPayloadTooLargeResponse, ApiTooManyRequestsResponse, ApiUnauthorizedResponse } from '@nestjs/swagger';

/**
 * The answers every /rtc-api route may give besides its own: 401 (no or a bad token), 413 (a body
 * over BODY_LIMIT_BYTES, or a bound of docs/limits.md), 429 (a quota or rate limit, with
 * Retry-After). Each is JSON `{ statusCode, error, message, error_description, details? }`.
 */
export const ApiCommonErrors = () =>
  applyDecorators(
    ApiUnauthorizedResponse({ description: 'No bearer token, or one that is expired, malformed or signed by a key this server does not accept.' }),
    ApiPayloadTooLargeResponse({ description: 'The body is over BODY_LIMIT_BYTES, or what it would store is over a bound (the message names it).' }),
    ApiTooManyRequestsResponse({ description: 'A quota or a rate limit is used up (the message and details name it); Retry-After says when to try again.' }),
  );
