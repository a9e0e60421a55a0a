import { START, type AllStreamPosition, type SqlExecutor } from './types';

/** The saved position of reader `name`, or START. Works on a pool or inside a transaction. */
export async function loadCheckpoint(sql: SqlExecutor, name: string): Promise<AllStreamPosition> {
  const { rows } = await sql.query<{ transaction_id: string; global_position: string }>(
    `SELECT transaction_id::text AS transaction_id, global_position::text AS global_position FROM checkpoints WHERE name = $1`,
    [name],
  );
  const row = rows[0];
  return row ? { transactionId: row.transaction_id, globalPosition: BigInt(row.global_position) } : START;
}

/**
 * Saves the position of reader `name`. Pass the executor of your own transaction to make the
 * checkpoint atomic with what you did with the events (exactly-once projections).
 */
export async function saveCheckpoint(sql: SqlExecutor, name: string, position: AllStreamPosition): Promise<void> {
  await sql.query(
    `INSERT INTO checkpoints (name, transaction_id, global_position) VALUES ($1, $2::text::xid8, $3::text::bigint)
     ON CONFLICT (name) DO UPDATE
       SET transaction_id = excluded.transaction_id, global_position = excluded.global_position, updated_at = now()`,
    [name, position.transactionId, position.globalPosition.toString()],
  );
}

/** The position just after `event`, i.e. what a reader that has handled it should save. */
export function positionOf(event: { transactionId: string; globalPosition: bigint }): AllStreamPosition {
  return { transactionId: event.transactionId, globalPosition: event.globalPosition };
}
