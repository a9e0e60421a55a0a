import { applyDecorators } from '@nestjs/common';
import { ApiExtension, ApiHeader } from '@nestjs/swagger';
import { Public, Roles as RequireRoles } from '@parley/auth';
import { type AccessOperation, type Role, TRANSACTION_ID_HEADER, TRANSACTION_ID_PATTERN, rolesAllowed } from '@parley/contracts';

/** The OpenAPI extension that says which roles may call an operation (the authorization tests read it). */
export const ROLES_EXTENSION = 'x-parley-roles';
/** The OpenAPI extension naming the operation of the access table (ACCESS) a route is. */
export const ACCESS_EXTENSION = 'x-parley-access';
/** The OpenAPI extension of an operation that takes no bearer token. */
export const PUBLIC_EXTENSION = 'x-parley-public';

/**
 * Which roles may call a route: the guard refuses others with 403, and the OpenAPI document
 * says it (x-parley-roles). On a class it covers every route; a route's own replaces it.
 */
export const AllowRoles = (...roles: Role[]) => applyDecorators(RequireRoles(...roles), ApiExtension(ROLES_EXTENSION, roles));

/**
 * The route is `operation` of the access table (ACCESS in contracts): the guard lets through the
 * roles the table allows in some situation, the domain decides the situation.
 */
export const Access = (operation: AccessOperation) => applyDecorators(AllowRoles(...rolesAllowed(operation)), ApiExtension(ACCESS_EXTENSION, operation));

/**
 * The route sends a command: `operation` of the access table, and it takes X-Auvious-TransactionId
 * (a retry with the same id answers what the first answered and stores nothing twice).
 */
export const Command = (operation: AccessOperation) =>
  applyDecorators(
    Access(operation),
    ApiHeader({
      name: TRANSACTION_ID_HEADER,
      required: false,
      description:
        'Makes retries safe: a request with the id of an earlier one by the same caller (within TRANSACTION_RETENTION_MS, 24 h by default) answers what the first answered, status and body, and changes nothing; while the first is still running the retry waits for its answer. The same id with another route or body is 422.',
      schema: { type: 'string', pattern: TRANSACTION_ID_PATTERN.source, minLength: 1, maxLength: 128 },
    }),
  );

/** No bearer token (the route authenticates its callers its own way, e.g. the token endpoint). */
export const PublicRoute = () => applyDecorators(Public(), ApiExtension(PUBLIC_EXTENSION, true));
