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
  /**
   * The client's X-Auvious-TransactionId: a retry of a command with the same id, by the same
   * caller, answers what the first answered and stores nothing twice (the service kit's
   * command-answers.ts). Only the gateway forwards it; a service's own requests to another carry none.
   */
  transactionId?: string;
}

/** The header that names a command's transaction (the spec's, accepted on every command). */
export const TRANSACTION_ID_HEADER = 'X-Auvious-TransactionId';
/** What a transaction id may be: 1 to 128 visible ASCII characters (a UUID, an integration's own id). */
export const TRANSACTION_ID_PATTERN = /^[\x21-\x7e]{1,128}$/;

