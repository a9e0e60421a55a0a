import { askProjectionAdmin } from '../projection-admin';
import { command, operatorTools } from './nats';

const USAGE = `Lists or rebuilds a running service's projections (read models), over NATS (NATS_URL).

  npm run -s projections -- list <service>
  npm run -s projections -- rebuild <service> <projection>

A rebuild builds the projection beside the live table from every event and swaps it in; the
service keeps answering meanwhile.`;

command(USAGE, async ([action, service, name]) => {
  if (!service || (action !== 'list' && action !== 'rebuild') || (action === 'rebuild' && !name)) {
    process.stderr.write(`${USAGE}\n`);
    return 2;
  }
  const { nc, operator } = await operatorTools();
  try {
    const answer = await askProjectionAdmin(nc, operator, service, { action, name }, action === 'rebuild' ? 30 * 60_000 : 10_000);
    process.stdout.write(`${JSON.stringify(answer, null, 2)}\n`);
    return answer.ok ? 0 : 1;
  } finally {
    await nc.close();
  }
});
