import { type ParleySecrets, makeSecrets, natsAuthorizationConfig, operatorEnv, processSecretsEnv } from '@parley/service-kit';
import { type CallerAssertions, OPERATOR, identitySettings, readSettings, signingOnly } from '@parley/messaging';
import type { StartNatsOptions } from '@parley/testing';

/**
 * The secrets of this test run, made as `npm start` and `npm run -s secrets` make them: one
 * NATS user and one signing key per process, and the stacks' JWT secret. Every stack, spawned
 * service and gateway uses them, so they trust each other as a deployment's processes do; `npm
 * test` makes them (PARLEY_TEST_SECRETS) and afterwards checks that none of them, and no token,
 * is in anything the run printed.
 */
export const TEST_SECRETS: ParleySecrets = process.env.PARLEY_TEST_SECRETS ? (JSON.parse(process.env.PARLEY_TEST_SECRETS) as ParleySecrets) : makeSecrets();

/** What process `name` is given (NATS user and password, signing key, trusted keys). */
export const testProcessEnv = (name: string): Record<string, string> => processSecretsEnv(TEST_SECRETS, name);

/** The operator's NATS user, password and signing key (what the CLIs are given). */
export const testOperatorEnv = (): Record<string, string> => operatorEnv(TEST_SECRETS);

/** The operator's NATS credentials, for a test's own connections to a stack's NATS. */
export const operatorCredentials = (): { user: string; pass: string } => {
  const env = testOperatorEnv();
  return { user: env.NATS_USER, pass: env.NATS_PASSWORD };
};

/** A NATS server that requires the users of NATS_PERMISSIONS, as a deployment's does. */
export const natsWithUsers = (): StartNatsOptions => ({ authorization: { config: natsAuthorizationConfig(TEST_SECRETS), ...operatorCredentials() } });

/** The operator's signer: what the CLIs sign admin and replay requests with (operatorHeaders). */
export const testOperator = (): CallerAssertions => {
  const { identityKey } = readSettings(identitySettings, testOperatorEnv());
  if (!identityKey) throw new Error('the test secrets have no operator key');
  return signingOnly(OPERATOR, identityKey);
};
