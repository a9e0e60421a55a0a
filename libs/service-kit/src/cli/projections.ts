import { projectionAdminSubject } from '@parley/contracts';
import { operatorHeaders } from '@parley/messaging';
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
    const subject = projectionAdminSubject(service);
    const body = new TextEncoder().encode(JSON.stringify({ action, name }));
    const reply = await nc.request(subject, body, { headers: await operatorHeaders(operator, subject, body), timeout: action === 'rebuild' ? 30 * 60_000 : 10_000 });
    const answer = JSON.parse(new TextDecoder().decode(reply.data)) as { ok: boolean; error?: string };
    process.stdout.write(`${JSON.stringify(answer, null, 2)}\n`);
    return answer.ok ? 0 : 1;
  } finally {
    await nc.close();
  }
});
