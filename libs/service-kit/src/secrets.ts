import { randomBytes } from 'node:crypto';
import { PARLEY_SERVICES } from '@parley/contracts';
import { NATS_PERMISSIONS, OPERATOR, generateIdentityKeys, newNatsPassword, renderNatsAuthorization, trustedKeysValue } from '@parley/messaging';

/**
 * Every secret a Parley installation needs, made in one place: the token secret, the database
 * and TURN passwords, the key of the gateway's signed URLs, one NATS password per NATS user (each process, and `operator` for the
 * CLIs), and one Ed25519 key per process (and the operator's) for the callers it signs on the
 * bus. `npm run -s secrets` prints them as a `.env` for docker compose; `npm start` makes them
 * once and keeps them under DATA_DIR; the test harness makes them once per run. All three then
 * hand each process the same variables (processSecretsEnv).
 */
export interface ParleySecrets {
  jwtSecret: string;
  postgresPassword: string;
  /** Letters and digits only: coturn's image passes it through a shell `eval`. */
  turnSecret: string;
  /** SIGNED_URL_KEYS: what the gateway signs its download URLs with (`<key id>:<secret, base64>`; docs/security.md). */
  signedUrlKeys: string;
  /** By NATS user. */
  nats: Record<string, string>;
  /** By process: its private key, and its public key for the others to trust. */
  identities: Record<string, { privateKey: string; publicKey: string }>;
}

/** Those that sign callers on the bus: every process of PARLEY_SERVICES, and the operator's tools. */
const signers = (): string[] => [...PARLEY_SERVICES.map((s) => s.name), OPERATOR];

export function makeSecrets(): ParleySecrets {
  return {
    jwtSecret: randomBytes(48).toString('base64url'),
    postgresPassword: randomBytes(24).toString('hex'),
    turnSecret: randomBytes(32).toString('hex'),
    signedUrlKeys: `k${Date.now().toString(36)}:${randomBytes(32).toString('base64')}`,
    nats: Object.fromEntries(Object.keys(NATS_PERMISSIONS).map((user) => [user, newNatsPassword()])),
    identities: Object.fromEntries(signers().map((name) => [name, generateIdentityKeys()])),
  };
}

/** PARLEY_TRUSTED_KEYS: every process's public key. */
export const trustedKeys = (secrets: ParleySecrets): string => trustedKeysValue(secrets.identities);

/** What process `name` is given: its NATS user and password, its signing key, and the keys it trusts. */
export function processSecretsEnv(secrets: ParleySecrets, name: string): Record<string, string> {
  const identity = secrets.identities[name];
  if (!identity || !secrets.nats[name]) throw new Error(`no secrets for a process named ${name}`);
  return {
    NATS_USER: name,
    NATS_PASSWORD: secrets.nats[name],
    PARLEY_IDENTITY_KEY: identity.privateKey,
    PARLEY_TRUSTED_KEYS: trustedKeys(secrets),
    // The gateway signs and checks the download URLs.
    ...(name === 'gateway' && secrets.signedUrlKeys ? { SIGNED_URL_KEYS: secrets.signedUrlKeys } : {}),
  };
}

/** The operator's NATS credentials and signing key (the CLIs, and the test harness's own connections). */
export const operatorEnv = (secrets: ParleySecrets): Record<string, string> => ({ NATS_USER: OPERATOR, NATS_PASSWORD: secrets.nats[OPERATOR], PARLEY_IDENTITY_KEY: secrets.identities[OPERATOR].privateKey });

/** nats-server's authorization block with these passwords written in (a configuration kept private, like the secrets). */
export const natsAuthorizationConfig = (secrets: ParleySecrets): string => renderNatsAuthorization((user) => JSON.stringify(secrets.nats[user]));

const upper = (name: string) => name.toUpperCase().replace(/[^A-Z0-9]/g, '_');

/** The variable of a NATS user's password in `.env`, deploy/nats/authorization.conf and docker-compose.yml. */
export const natsPasswordVariable = (user: string): string => `NATS_PASSWORD_${upper(user)}`;
/** The variable of a process's signing key in `.env` and docker-compose.yml. */
export const identityKeyVariable = (name: string): string => `PARLEY_IDENTITY_KEY_${upper(name)}`;

/** deploy/nats/authorization.conf: the same block, each password read from the NATS server's environment. */
export const deployedNatsAuthorization = (): string =>
  `# Made by renderNatsAuthorization (libs/messaging/src/nats-permissions.ts); test/deployment.unit.spec.ts\n# checks it is the same. Each password comes from the server's environment (docker-compose.yml).\n${renderNatsAuthorization((user) => `$${natsPasswordVariable(user)}`)}`;

/** The secrets as a `.env` for docker compose (`npm run -s secrets > .env`). */
export function secretsEnvFile(secrets: ParleySecrets, madeAt: string): string {
  const lines = [
    `# Parley's secrets, made by \`npm run -s secrets\` at ${madeAt}. Keep this file private (chmod 600),`,
    '# out of version control, and backed up: losing it means new tokens, passwords and keys everywhere.',
    `JWT_SECRET=${secrets.jwtSecret}`,
    `POSTGRES_PASSWORD=${secrets.postgresPassword}`,
    `TURN_SECRET=${secrets.turnSecret}`,
    `SIGNED_URL_KEYS=${secrets.signedUrlKeys}`,
    ...Object.entries(secrets.nats).map(([user, password]) => `${natsPasswordVariable(user)}=${password}`),
    ...Object.entries(secrets.identities).map(([name, keys]) => `${identityKeyVariable(name)}=${keys.privateKey}`),
    `PARLEY_TRUSTED_KEYS=${trustedKeys(secrets)}`,
  ];
  return `${lines.join('\n')}\n`;
}
