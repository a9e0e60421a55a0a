import type { EventMetadata, RecordedEvent } from './types';

/**
 * The columns every read selects. bigint and xid8 come back as text because the drivers
 * disagree on them (node-postgres: string, PGlite: number, which loses precision past 2^53).
 * Because the output columns keep the table's names, a query that sorts by them must qualify
 * the table's columns (ORDER BY e.global_position), or it sorts the text.
 */
export const EVENT_COLUMNS = `global_position::text AS global_position, transaction_id::text AS transaction_id,
  stream_id, stream_version, event_id::text AS event_id, type, schema_version, data, metadata, created_at`;

export interface EventRow {
  global_position: string;
  transaction_id: string;
  stream_id: string;
  stream_version: number;
  event_id: string;
  type: string;
  schema_version: number;
  data: unknown;
  metadata: EventMetadata;
  created_at: Date | string;
}

export function toRecordedEvent(row: EventRow): RecordedEvent {
  return {
    globalPosition: BigInt(row.global_position),
    transactionId: row.transaction_id,
    streamId: row.stream_id,
    streamVersion: Number(row.stream_version),
    eventId: row.event_id,
    type: row.type,
    schemaVersion: Number(row.schema_version),
    data: row.data,
    metadata: row.metadata,
    createdAt: row.created_at instanceof Date ? row.created_at : new Date(row.created_at),
  };
}
