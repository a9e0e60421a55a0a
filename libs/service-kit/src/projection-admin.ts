import type { Msg, NatsConnection, Subscription } from 'nats';
import type { Logger } from 'pino';
import { projectionAdminSubject } from '@parley/contracts';
import { type CallerAssertions, fromOperator, operatorHeaders } from '@parley/messaging';
import type { RunningProjections } from './projection-runners';
import type { Projections } from './projections';

/**
 * `parley.<service>.admin.projections` (request/reply, JSON): `{"action":"list"}` answers each
 * projection's live version; `{"action":"rebuild","name":…}` rebuilds one beside the live table
 * and swaps it in, answering how many events it applied. `npm run -s projections` asks it;
 * only the operator may (its signed caller: operatorHeaders), anyone else is told no.
 */
export function answerProjectionAdmin(service: string, nc: NatsConnection, assertions: CallerAssertions, projections: Projections, running: RunningProjections, log: Logger): Subscription {
  const json = (msg: Msg, body: unknown) => msg.respond(new TextEncoder().encode(JSON.stringify(body)));
  return nc.subscribe(projectionAdminSubject(service), {
    queue: service,
    callback: (err, msg) => {
      if (err) return;
      void (async () => {
        try {
          await fromOperator(assertions, msg);
          const req = JSON.parse(new TextDecoder().decode(msg.data)) as { action?: string; name?: string };
          if (req.action === 'list') return json(msg, { ok: true, projections: await projections.status() });
          if (req.action === 'rebuild' && typeof req.name === 'string') {
            projections.get(req.name);
            const started = Date.now();
            log.info(`projection ${req.name}: rebuilding on request`);
            const events = await running.rebuild(req.name);
            log.info(`projection ${req.name}: rebuilt from ${events} events in ${Date.now() - started} ms and swapped in`);
            return json(msg, { ok: true, name: req.name, events, ms: Date.now() - started });
          }
          return json(msg, { ok: false, error: 'expected {"action":"list"} or {"action":"rebuild","name":"<projection>"}' });
        } catch (e) {
          return json(msg, { ok: false, error: e instanceof Error ? e.message : String(e) });
        }
      })();
    },
  });
}

/** What `parley.<service>.admin.projections` answers. */
export interface ProjectionAdminAnswer {
  ok: boolean;
  error?: string;
  [key: string]: unknown;
}

/** Asks a service about its projections (answerProjectionAdmin), signed by `operator` as only the operator may. */
export async function askProjectionAdmin(nc: NatsConnection, operator: CallerAssertions, service: string, request: { action: string; name?: string }, timeoutMs: number): Promise<ProjectionAdminAnswer> {
  const subject = projectionAdminSubject(service);
  const body = new TextEncoder().encode(JSON.stringify(request));
  const reply = await nc.request(subject, body, { headers: await operatorHeaders(operator, subject, body), timeout: timeoutMs });
  return JSON.parse(new TextDecoder().decode(reply.data)) as ProjectionAdminAnswer;
}
