import { type ArgumentMetadata, ValidationPipe, type ValidationPipeOptions } from '@nestjs/common';
import { ParleyError, describeValidationErrors, failedFields } from '@parley/contracts';

const isPlainObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v) && [Object.prototype, null].includes(Object.getPrototypeOf(v));

/**
 * A body's top-level `null`s are absent fields: a client that writes every field of its model
 * (Jackson's default) sends `"type": null` for a type it has none of. So an optional field given
 * null is left as it is, and a required one is missing (400). Values inside (metadata maps, data)
 * are the client's and kept as sent.
 */
export function withoutTopLevelNulls(value: unknown): unknown {
  if (!isPlainObject(value) || !Object.values(value).includes(null)) return value;
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== null));
}

class ParleyValidationPipe extends ValidationPipe {
  override transform(value: unknown, metadata: ArgumentMetadata): Promise<unknown> {
    return super.transform(withoutTopLevelNulls(value), metadata);
  }
}

/**
 * class-validator over the contracts' DTOs, for HTTP bodies and NATS payloads alike:
 * unknown properties are dropped, top-level nulls are absent fields (withoutTopLevelNulls), wrong
 * or missing ones are a BAD_REQUEST naming each field.
 */
export function parleyValidationPipe(options: ValidationPipeOptions = {}): ValidationPipe {
  return new ParleyValidationPipe({
    whitelist: true,
    transform: true,
    forbidUnknownValues: true,
    validationError: { target: false, value: false },
    exceptionFactory: (errors) => new ParleyError('BAD_REQUEST', describeValidationErrors(errors) || 'invalid request body', { fields: failedFields(errors) }),
    ...options,
  });
}
