import { dropDeadLetter, listDeadLetters, replayDeadLetter } from '@parley/messaging';
import { command, operatorTools } from './nats';

const USAGE = `The messages consumers could not handle (PARLEY_DEAD_LETTERS), over NATS (NATS_URL).

  npm run -s dead-letters -- list [<consumer>] [--limit N]
  npm run -s dead-letters -- replay <sequence>     hands it back to its consumer; deleted once handled
  npm run -s dead-letters -- drop <sequence>       deletes it unhandled`;

command(USAGE, async (args) => {
  const [action, arg] = args;
  const { nc, operator } = await operatorTools();
  try {
    if (action === 'list') {
      const limitAt = args.indexOf('--limit');
      const limit = limitAt > 0 ? Number(args[limitAt + 1]) : 100;
      const consumer = arg && arg !== '--limit' ? arg : undefined;
      for (const d of await listDeadLetters(nc, { consumer, limit })) {
        const { data, ...rest } = d;
        process.stdout.write(`${JSON.stringify({ ...rest, bytes: data.length })}\n`);
      }
      return 0;
    }
    const sequence = Number(arg);
    if (!Number.isInteger(sequence) || sequence < 1 || (action !== 'replay' && action !== 'drop')) {
      process.stderr.write(`${USAGE}\n`);
      return 2;
    }
    if (action === 'drop') return (await dropDeadLetter(nc, sequence)) ? 0 : 1;
    const answer = await replayDeadLetter(nc, operator, sequence);
    process.stdout.write(`${JSON.stringify(answer)}\n`);
    return answer.ok ? 0 : 1;
  } finally {
    await nc.close();
  }
});
