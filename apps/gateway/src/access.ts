import { applyDecorators } from '@nestjs/common';
import { ApiExtension } from '@nestjs/swagger';
import { Public, Roles as RequireRoles } from '@parley/auth';
import { type Role, Roles } from '@parley/contracts';

/** The OpenAPI extension that says which roles may call an operation (the authorization tests read it). */
export const ROLES_EXTENSION = 'x-parley-roles';
/** The OpenAPI extension of an operation that takes no bearer token. */
export const PUBLIC_EXTENSION = 'x-parley-public';

/**
 * Which roles may call a route: the guard refuses others with 403, and the OpenAPI document
 * says it (x-parley-roles). On a class it covers every route; a route's own replaces it.
 */
export const AllowRoles = (...roles: Role[]) => applyDecorators(RequireRoles(...roles), ApiExtension(ROLES_EXTENSION, roles));

/** Any caller with a valid token and one of Parley's roles; what it may do is then the domain's to say. */
export const AnyRole = () => AllowRoles(...Roles);

/** No bearer token (the route authenticates its callers its own way, e.g. the token endpoint). */
export const PublicRoute = () => applyDecorators(Public(), ApiExtension(PUBLIC_EXTENSION, true));
