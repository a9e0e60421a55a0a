import type { PartHealth, ServiceHealth } from '@parley/contracts';
import type { EventRelay, SqlEventStore } from '@parley/eventsourcing';
import type { Part } from './service';

/** How long a health check waits for the database before it calls it down. */
const DATABASE_CHECK_MS = 2000;
/** The relay's lag is counted up to this (a number past it says "far behind" well enough). */
const LAG_COUNT_LIMIT = 100_000;

const errorText = (err: unknown) => (err instanceof Error ? err.message : String(err));

function within<T>(ms: number, what: string, p: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([p, new Promise<T>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what} did not answer within ${ms} ms`)), ms)))]).finally(() => clearTimeout(timer));
}

/**
 * A service's health, from its parts: its database answers a query (within 2 s), its relay's lag
 * (events committed after its checkpoint) and dead letters, and the gauges of its own parts.
 * Answering at all says NATS and its handlers are up.
 */
export async function serviceHealth(service: string, store: SqlEventStore | undefined, relay: EventRelay | undefined, parts: Part[]): Promise<ServiceHealth> {
  const out: ServiceHealth = { status: 'ok', service };
  if (store) {
    try {
      const { lag, deadLetters, last } = await within(DATABASE_CHECK_MS, 'the database', relayState(store, service, relay));
      out.database = { status: 'up' };
      const lastDeadLetter = last && { eventId: last.eventId, streamId: last.streamId, type: last.type, reason: last.reason, at: last.at };
      const relayHealth: PartHealth = relay?.lastError ? { status: 'up', error: relay.lastError } : { status: 'up' };
      out.relay = { ...relayHealth, lag, deadLetters, ...(lastDeadLetter ? { lastDeadLetter } : {}) };
    } catch (err) {
      out.status = 'down';
      out.database = { status: 'down', error: errorText(err) };
    }
  }
  const gauges = Object.assign({}, ...parts.map((p) => p.gauges?.() ?? {})) as Record<string, number>;
  if (Object.keys(gauges).length > 0) out.gauges = gauges;
  return out;
}

async function relayState(store: SqlEventStore, service: string, relay: EventRelay | undefined) {
  const checkpoint = await store.loadCheckpoint(`relay:${service}`);
  const { rows } = await store.query<{ n: string | number }>(
    `SELECT count(*) AS n FROM (SELECT 1 FROM events WHERE (transaction_id, global_position) > ($1::text::xid8, $2::text::bigint) LIMIT $3) AS behind`,
    [checkpoint.transactionId, checkpoint.globalPosition.toString(), LAG_COUNT_LIMIT],
  );
  const { count, last } = relay ? await relay.deadLetters() : { count: 0, last: undefined };
  return { lag: Number(rows[0]?.n ?? 0), deadLetters: count, last };
}
