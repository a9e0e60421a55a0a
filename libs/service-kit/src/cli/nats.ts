import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { type NatsConnection, connect } from 'nats';
import { type CallerAssertions, OPERATOR, identitySettings, natsConnectOptions, natsCredentialSettings, readSettings, signingOnly } from '@parley/messaging';
import { type ParleySecrets, operatorEnv } from '../secrets';

/**
 * An operator's command: its NATS connection (NATS_URL, NATS_USER and NATS_PASSWORD: the
 * `operator` user) and the operator's signing key (PARLEY_IDENTITY_KEY), which the services take
 * on their admin and replay subjects only. Without NATS_USER, both come from the installation
 * `npm start` runs (`<DATA_DIR>/secrets.json`), when there is one.
 */
export async function operatorTools(): Promise<{ nc: NatsConnection; operator: CallerAssertions }> {
  let env: Record<string, string | undefined> = process.env;
  const installation = join(process.env.DATA_DIR || '.data', 'secrets.json');
  if (!env.NATS_USER && existsSync(installation)) env = { ...env, ...operatorEnv(JSON.parse(readFileSync(installation, 'utf8')) as ParleySecrets) };
  const credentials = readSettings(natsCredentialSettings, env);
  const { identityKey } = readSettings(identitySettings, env);
  if (!identityKey) throw new Error("PARLEY_IDENTITY_KEY is not set: the operator's commands are signed with the operator's key (`npm run -s secrets` makes it)");
  const operator = signingOnly(OPERATOR, identityKey);
  const nc = await connect(natsConnectOptions({ natsUrl: env.NATS_URL || 'nats://127.0.0.1:4222', ...credentials }, 'parley-cli'));
  return { nc, operator };
}

/** Runs a command's body, prints what it throws as one line, and exits 0 or 1. */
export function command(usage: string, body: (args: string[]) => Promise<number>): void {
  const args = process.argv.slice(2);
  if (args.length === 0 || args[0] === '--help') {
    process.stdout.write(`${usage}\n`);
    process.exit(args.length === 0 ? 2 : 0);
  }
  body(args).then(
    (code) => process.exit(code),
    (err: unknown) => {
      process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
      process.exit(1);
    },
  );
}
