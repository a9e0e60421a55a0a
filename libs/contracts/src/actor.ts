/** The authenticated caller, taken from the bearer token at the gateway and carried over NATS in a signed assertion (caller-assertion.ts in messaging). */
export const Roles = ['AGENT', 'CUSTOMER', 'SERVICE', 'ADMIN'] as const;
export type Role = (typeof Roles)[number];
/** One of Parley's role names, exactly (a name holding a comma, or another system's role, is none). */
export const isRole = (r: string): r is Role => (Roles as readonly string[]).includes(r);

export interface Actor {
  userId: string;
  organizationId: string;
  roles: string[];
  /** Other organizations the caller's OAuth client is configured to act for (OAUTH_CLIENTS); SERVICE callers only use it. */
  actsFor?: string[];
}

export interface RequestContext {
  actor: Actor;
  correlationId: string;
  causationId: string;
}

