/**
 * The claims Parley puts in and reads from its tokens. scripts/token.mjs re-implements
 * signing without importing this file (it runs without a build), so any change here must be
 * made there too; token-script.unit.spec.ts verifies the script's tokens with TokenVerifier.
 */
export const Claims = {
  userId: 'sub',
  organizationId: 'organization_id',
  roles: 'roles',
  /** Other organizations a SERVICE client may act for (OAUTH_CLIENTS `home+other`); absent for most (scripts/token.mjs never sets it). */
  actsFor: 'acts_for',
} as const;

/** The algorithm of the tokens Parley issues itself. */
export const ISSUED_ALG = 'HS256';
/** What a JWKS (external IdP) may sign with; symmetric algorithms are excluded on purpose. */
export const JWKS_ALGS = ['RS256', 'ES256'];

/** HS256 uses the UTF-8 bytes of JWT_SECRET as the key, exactly as scripts/token.mjs does. */
export const secretKey = (secret: string): Uint8Array => new TextEncoder().encode(secret);
