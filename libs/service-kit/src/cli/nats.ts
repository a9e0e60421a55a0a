import { type NatsConnection, connect } from 'nats';
import { natsServers } from '@parley/messaging';

/** The NATS connection of an operator's command: NATS_URL, as the services read it. */
export async function operatorConnection(): Promise<NatsConnection> {
  return connect({ servers: natsServers(process.env.NATS_URL || 'nats://127.0.0.1:4222'), name: 'parley-cli' });
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
