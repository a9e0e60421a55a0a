import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { type NatsConnection, connect } from 'nats';
import type { ParleySecrets } from '../secrets';
import { natsConnectOptions, natsCredentialSettings, readSettings } from '@parley/messaging';

/**
 * The NATS connection of an operator's command: NATS_URL, NATS_USER and NATS_PASSWORD (the
 * `operator` user), as the services read them; without NATS_USER, the operator's password of the
 * installation `npm start` runs (`<DATA_DIR>/secrets.json`), when there is one.
 */
export async function operatorConnection(): Promise<NatsConnection> {
  let credentials = readSettings(natsCredentialSettings, process.env);
  const installation = join(process.env.DATA_DIR || '.data', 'secrets.json');
  if (!credentials.natsUser && existsSync(installation)) {
    const secrets = JSON.parse(readFileSync(installation, 'utf8')) as ParleySecrets;
    credentials = { natsUser: 'operator', natsPassword: secrets.nats.operator };
  }
  return connect(natsConnectOptions({ natsUrl: process.env.NATS_URL || 'nats://127.0.0.1:4222', ...credentials }, 'parley-cli'));
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
