import type { SqlExecutor } from './types';

/**
 * The store's schema. `transaction_id` records the writing transaction (xid8), which is what
 * lets all-stream readers follow commit order rather than global_position order (see readAll).
 */
const SCHEMA_STATEMENTS = [
  `CREATE TABLE IF NOT EXISTS events (
     global_position bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
     stream_id text NOT NULL,
     stream_version int NOT NULL CHECK (stream_version > 0),
     event_id uuid NOT NULL UNIQUE,
     type text NOT NULL,
     schema_version int NOT NULL,
     data jsonb NOT NULL,
     metadata jsonb NOT NULL,
     created_at timestamptz NOT NULL DEFAULT now(),
     transaction_id xid8 NOT NULL DEFAULT pg_current_xact_id(),
     UNIQUE (stream_id, stream_version)
   )`,
  // The all-stream read scans in (transaction_id, global_position) order.
  `CREATE INDEX IF NOT EXISTS events_commit_order_idx ON events (transaction_id, global_position)`,
  `CREATE TABLE IF NOT EXISTS checkpoints (
     name text PRIMARY KEY,
     transaction_id xid8 NOT NULL,
     global_position bigint NOT NULL,
     updated_at timestamptz NOT NULL DEFAULT now()
   )`,
  // Events a relay could never publish (too large for NATS, no valid subject): kept with the
  // reason, so one such event does not stop every event after it.
  `CREATE TABLE IF NOT EXISTS relay_dead_letters (
     seq bigint GENERATED ALWAYS AS IDENTITY,
     relay text NOT NULL,
     event_id uuid NOT NULL,
     stream_id text NOT NULL,
     stream_version int NOT NULL,
     type text NOT NULL,
     reason text NOT NULL,
     dead_at timestamptz NOT NULL DEFAULT now(),
     PRIMARY KEY (relay, event_id)
   )`,
];

/**
 * Creates the schema if needed. Runs inside the caller's transaction: the advisory lock makes
 * two processes starting at once take turns, because concurrent `CREATE ... IF NOT EXISTS`
 * of the same table can still fail on the catalog's unique indexes.
 */
export function createSchema(sql: SqlExecutor): Promise<void> {
  return createTables(sql, 'parley.eventsourcing.schema', SCHEMA_STATEMENTS);
}

/** Runs `statements` (idempotent DDL) in the caller's transaction, taking turns with other processes on the lock `lockName`. */
export async function createTables(sql: SqlExecutor, lockName: string, statements: readonly string[]): Promise<void> {
  await sql.query(`SELECT pg_advisory_xact_lock(hashtext($1))`, [lockName]);
  for (const statement of statements) await sql.query(statement);
}
