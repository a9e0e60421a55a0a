import type { NatsConnection } from 'nats';
import { EVENTS_STREAM, PARLEY_SERVICES } from '@parley/contracts';
import type { Stack } from './stack';

/**
 * Waits until nothing is in flight, then answers the stores' event count: every relay has
 * published all its events, every consumer has handled all it was given, and no relay has been
 * given more since (a consumer's handler appends before it acknowledges, and JetStream holds an
 * event before the relay's checkpoint passes it). A request's effects that happen after its
 * answer (an unregistered endpoint leaving its conferences) are thereby counted before the next
 * request is judged.
 */
export async function settledEventCount(stack: Stack, nc: NatsConnection, timeoutMs = 15_000): Promise<number> {
  const jsm = await nc.jetstreamManager();
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if ((await relaysCaughtUp(stack)) && (await consumersIdle(jsm)) && (await relaysCaughtUp(stack))) return stack.eventCount();
    if (Date.now() > deadline) throw new Error(`the stack did not settle within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 2));
  }
}

async function relaysCaughtUp(stack: Stack): Promise<boolean> {
  const services = PARLEY_SERVICES.filter((s) => s.eventStore)
    .map((s) => stack.services.get(s.name))
    .filter((s) => s !== undefined);
  const caughtUp = await Promise.all(
    services.map(async (service) => {
      const { rows } = await service.kit.store.transaction((sql) =>
        sql.query<{ head: string; done: string }>(
          `select coalesce((select max(global_position) from events), 0)::text as head,
                  coalesce((select max(global_position) from checkpoints where name like 'relay:%'), 0)::text as done`,
        ),
      );
      return rows[0].head === rows[0].done;
    }),
  );
  return caughtUp.every(Boolean);
}

/** Every durable consumer of PARLEY_EVENTS (the services' consumers and projections) has handled all it was given. */
async function consumersIdle(jsm: Awaited<ReturnType<NatsConnection['jetstreamManager']>>): Promise<boolean> {
  for await (const info of jsm.consumers.list(EVENTS_STREAM)) {
    if (info.config.durable_name && (info.num_pending > 0 || info.num_ack_pending > 0)) return false;
  }
  return true;
}
