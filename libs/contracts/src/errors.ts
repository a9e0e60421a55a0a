/** The typed error envelope that crosses NATS and becomes an HTTP status at the gateway. */
export const ErrorCodes = {
  BAD_REQUEST: 400,
  UNAUTHORIZED: 401,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  /** The request did not arrive in time (an upload slower than UPLOAD_TIMEOUT_MS). */
  REQUEST_TIMEOUT: 408,
  CONFLICT: 409,
  PAYLOAD_TOO_LARGE: 413,
  UNPROCESSABLE: 422,
  /** A quota or rate limit is used up; `details.retryAfterSeconds` becomes the Retry-After header. */
  TOO_MANY_REQUESTS: 429,
  INTERNAL: 500,
  UNAVAILABLE: 503,
  TIMEOUT: 504,
} as const;

export type ErrorCode = keyof typeof ErrorCodes;

export interface ErrorEnvelope {
  code: ErrorCode;
  message: string;
  details?: Record<string, unknown>;
}

/** An expected failure with a code the caller can act on. Thrown by domain and services alike. */
export class ParleyError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details?: Record<string, unknown>,
  ) {
    super(message);
    this.name = 'ParleyError';
  }

  toEnvelope(): ErrorEnvelope {
    return this.details ? { code: this.code, message: this.message, details: this.details } : { code: this.code, message: this.message };
  }

  static fromEnvelope(e: ErrorEnvelope): ParleyError {
    return new ParleyError(e.code, e.message, e.details);
  }
}

export const isErrorEnvelope = (x: unknown): x is ErrorEnvelope =>
  typeof x === 'object' && x !== null && typeof (x as ErrorEnvelope).code === 'string' && (x as ErrorEnvelope).code in ErrorCodes && typeof (x as ErrorEnvelope).message === 'string';

export const httpStatusOf = (code: ErrorCode): number => ErrorCodes[code];
