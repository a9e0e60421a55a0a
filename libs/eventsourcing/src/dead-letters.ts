import type { RecordedEvent, SqlExecutor } from './types';

/** An event a relay could never publish, kept with the reason instead of stopping the relay. */
export interface DeadLetter {
  eventId: string;
  streamId: string;
  streamVersion: number;
  type: string;
  reason: string;
  /** ISO-8601 instant it was dead-lettered. */
  at: string;
}

export interface DeadLetterSummary {
  count: number;
  /** The most recent one. */
  last?: DeadLetter;
}

/** Records that relay `relay` gave up on `event`. Idempotent (a batch retried records it once). */
export async function recordDeadLetter(sql: SqlExecutor, relay: string, event: RecordedEvent, reason: string): Promise<void> {
  await sql.query(
    `INSERT INTO relay_dead_letters (relay, event_id, stream_id, stream_version, type, reason) VALUES ($1, $2::uuid, $3, $4, $5, $6)
     ON CONFLICT (relay, event_id) DO NOTHING`,
    [relay, event.eventId, event.streamId, event.streamVersion, event.type, reason.slice(0, 2000)],
  );
}

/** How many events relay `relay` dead-lettered, and the latest. */
export async function deadLetterSummary(sql: SqlExecutor, relay: string): Promise<DeadLetterSummary> {
  const { rows } = await sql.query<{ n: string | number; event_id: string | null; stream_id: string; stream_version: number; type: string; reason: string; dead_at: Date | string }>(
    `SELECT (SELECT count(*) FROM relay_dead_letters WHERE relay = $1) AS n, d.event_id::text AS event_id, d.stream_id, d.stream_version, d.type, d.reason, d.dead_at
     FROM (SELECT 1) AS one LEFT JOIN LATERAL (SELECT * FROM relay_dead_letters WHERE relay = $1 ORDER BY seq DESC LIMIT 1) AS d ON true`,
    [relay],
  );
  const r = rows[0];
  const count = Number(r?.n ?? 0);
  if (!r?.event_id) return { count };
  return {
    count,
    last: { eventId: r.event_id, streamId: r.stream_id, streamVersion: Number(r.stream_version), type: r.type, reason: r.reason, at: new Date(r.dead_at).toISOString() },
  };
}
