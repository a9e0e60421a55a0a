import { ValidationPipe, type ValidationPipeOptions } from '@nestjs/common';
import { ParleyError, describeValidationErrors, failedFields } from '@parley/contracts';

/**
 * class-validator over the contracts' DTOs, for HTTP bodies and NATS payloads alike:
 * unknown properties are dropped, wrong or missing ones are a BAD_REQUEST naming each field.
 */
export function parleyValidationPipe(options: ValidationPipeOptions = {}): ValidationPipe {
  return new ValidationPipe({
    whitelist: true,
    transform: true,
    forbidUnknownValues: true,
    validationError: { target: false, value: false },
    exceptionFactory: (errors) => new ParleyError('BAD_REQUEST', describeValidationErrors(errors) || 'invalid request body', { fields: failedFields(errors) }),
    ...options,
  });
}
