import type { NatsConnection } from 'nats';
import { EVENTS_STREAM } from '@parley/contracts';
import type { Stack } from './stack';

/** The durable consumers through which one service's events make another write (presence ↔ conference) or act (media). */
const CONSUMERS = ['presence', 'presence-reactions', 'media'];

/**
 * Waits until nothing is in flight: every relay has published all its events and every
 * consumer has handled all it was given; then answers the stores' event count. A request's
 * effects that happen after its answer (an unregistered endpoint leaving its conferences) are
 * thereby counted before the next request is judged.
 */
export async function settledEventCount(stack: Stack, nc: NatsConnection, timeoutMs = 15_000): Promise<number> {
  const jsm = await nc.jetstreamManager();
  const deadline = Date.now() + timeoutMs;
  let last = -1;
  for (;;) {
    const count = await stack.eventCount();
    if ((await relaysCaughtUp(stack)) && (await consumersIdle(jsm)) && count === last) return count;
    if (Date.now() > deadline) throw new Error(`the stack did not settle within ${timeoutMs} ms`);
    last = count;
    await new Promise((r) => setTimeout(r, 5));
  }
}

async function relaysCaughtUp(stack: Stack): Promise<boolean> {
  for (const service of [stack.conference, stack.presence]) {
    if (!service) continue;
    const { rows } = await service.store.transaction((sql) =>
      sql.query<{ head: string; done: string }>(
        `select coalesce((select max(global_position) from events), 0)::text as head,
                coalesce((select max(global_position) from checkpoints where name like 'relay:%'), 0)::text as done`,
      ),
    );
    if (rows[0].head !== rows[0].done) return false;
  }
  return true;
}

async function consumersIdle(jsm: Awaited<ReturnType<NatsConnection['jetstreamManager']>>): Promise<boolean> {
  for (const name of CONSUMERS) {
    const info = await jsm.consumers.info(EVENTS_STREAM, name).catch(() => undefined);
    if (info && (info.num_pending > 0 || info.num_ack_pending > 0)) return false;
  }
  return true;
}
