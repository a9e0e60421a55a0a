import { loadCheckpoint, saveCheckpoint } from './checkpoints';
import { EVENT_COLUMNS, toRecordedEvent, type EventRow } from './row-mapping';
import { createSchema } from './schema';
import { isUniqueViolation, type SqlDriver } from './sql-driver';
import {
  ConcurrencyError,
  type AllStreamPosition,
  type AppendOptions,
  type AppendResult,
  type CheckpointStore,
  type EventStore,
  type Leadership,
  type NewEvent,
  type RecordedEvent,
  type SqlExecutor,
} from './types';
import type { UpcasterRegistry } from './upcasters';
import { Limits, tooLarge } from '@parley/contracts';

export interface EventStoreOptions {
  /** Applied to every event read back (readStream, readAll, append results). */
  upcasters?: UpcasterRegistry;
  /**
   * The largest event (its data and metadata as JSON) an append accepts; a larger one is refused
   * with PAYLOAD_TOO_LARGE and nothing is written. Default Limits.eventBytes, which keeps every
   * stored event publishable by the relay.
   */
  maxEventBytes?: number;
  /**
   * Group commit: appends that arrive while this many transactions of appends are in flight wait
   * and go into the next one together (each with its own version check and hook), so they share
   * one commit and its fsync. 0 turns grouping off (every append its own transaction). Default 2.
   */
  appendGroups?: number;
  /** The most appends one group commit holds. Default 64. */
  maxAppendsPerGroup?: number;
}

/** An append waiting for its group's transaction. */
interface PendingAppend {
  streamId: string;
  expectedVersion: number;
  events: NewEvent[];
  batch: string;
  options: AppendOptions;
  resolve: (result: AppendResult) => void;
  reject: (err: unknown) => void;
}

/** What became of one append of a group inside its transaction. */
type GroupOutcome = { written: RecordedEvent[] } | { conflict: true };

/** Where a group's transaction failed: inside (one member's insert or hook: each is tried alone) or at its commit (nobody can tell what was stored). */
class GroupMemberFailed extends Error {
  constructor(cause: unknown) {
    super('an append of the group failed', { cause });
  }
}

// The batch travels as one JSON text parameter, which both drivers pass through unchanged
// (array parameters are serialized differently by node-postgres and PGlite). The version check
// is part of the statement (one round trip): no rows when the stream is not at $2, which also
// means an expected version *ahead* of the stream can never leave a gap in its versions. Two
// appends that both pass the check (neither sees the other's uncommitted rows) meet at the
// unique (stream_id, stream_version) index: the second fails there.
const INSERT_EVENTS = `
  INSERT INTO events (stream_id, stream_version, event_id, type, schema_version, data, metadata)
  SELECT $1, $2::int + e.ord::int, (e.v->>'eventId')::uuid, e.v->>'type', (e.v->>'schemaVersion')::int,
         e.v->'data', e.v->'metadata'
  FROM jsonb_array_elements($3::text::jsonb) WITH ORDINALITY AS e(v, ord)
  WHERE (SELECT coalesce(max(stream_version), 0) FROM events WHERE stream_id = $1) = $2::int
  ORDER BY e.ord
  RETURNING ${EVENT_COLUMNS}`;

const STREAM_VERSION = `SELECT coalesce(max(stream_version), 0) AS version FROM events WHERE stream_id = $1`;

// LIMIT NULL is no limit.
const READ_STREAM = `SELECT ${EVENT_COLUMNS} FROM events WHERE stream_id = $1 AND stream_version >= $2 ORDER BY stream_version LIMIT $3::int`;

const EVENTS_BY_ID = `
  SELECT ${EVENT_COLUMNS} FROM events
  WHERE event_id IN (SELECT value::uuid FROM jsonb_array_elements_text($1::text::jsonb))`;

/*
 * Commit order, not global_position order. Identity values are handed out when a row is
 * inserted, but transactions commit in their own order, so a reader that checkpointed
 * global_position 10 could later see 9 appear. Ordering by the writing transaction's id and
 * returning only transactions older than the oldest one still running (the snapshot's xmin)
 * means everything returned is committed (or rolled back) for good, and nothing can later
 * appear before the position a reader saved.
 *
 * The ORDER BY is qualified on purpose: a bare `global_position` there would name the *output*
 * column, which is cast to text, and sort '10' before '9'.
 */
const READ_ALL = `
  SELECT ${EVENT_COLUMNS} FROM events AS e
  WHERE (e.transaction_id, e.global_position) > ($1::text::xid8, $2::text::bigint)
    AND e.transaction_id < pg_snapshot_xmin(pg_current_snapshot())
  ORDER BY e.transaction_id, e.global_position
  LIMIT $3::int`;

/**
 * The one SQL implementation of the event store, shared by the node-postgres and PGlite
 * adapters; subclasses supply the {@link SqlDriver}, leadership and close().
 */
export abstract class SqlEventStore implements EventStore, CheckpointStore {
  private readonly upcasters?: UpcasterRegistry;
  private readonly maxEventBytes: number;
  private readonly appendGroups: number;
  private readonly maxAppendsPerGroup: number;
  private readonly pending: PendingAppend[] = [];
  private groupsInFlight = 0;
  private readonly groupCounters = { groups: 0, grouped: 0 };

  protected constructor(
    protected readonly driver: SqlDriver,
    options: EventStoreOptions = {},
  ) {
    this.upcasters = options.upcasters;
    this.maxEventBytes = options.maxEventBytes ?? Limits.eventBytes;
    this.appendGroups = options.appendGroups ?? 2;
    this.maxAppendsPerGroup = options.maxAppendsPerGroup ?? 64;
  }

  /** Group commits so far: transactions of appends, and the appends they held. */
  get groupCommits(): { groups: number; grouped: number } {
    return { ...this.groupCounters };
  }

  abstract close(): Promise<void>;
  abstract acquireLeadership(name: string): Promise<Leadership | null>;

  async init(): Promise<void> {
    await this.driver.transaction((sql) => createSchema(sql));
  }

  async append(streamId: string, expectedVersion: number, events: NewEvent[], options: AppendOptions = {}): Promise<AppendResult> {
    if (!Number.isInteger(expectedVersion) || expectedVersion < 0) {
      throw new RangeError(`expectedVersion must be a non-negative integer, got ${expectedVersion}`);
    }
    // Nothing to write, and nothing to check: the caller decided no events.
    if (events.length === 0) return { nextVersion: expectedVersion, events: [], duplicate: false };

    const serialized = events.map((e) =>
      JSON.stringify({ eventId: e.eventId, type: e.event.type, schemaVersion: e.event.schemaVersion, data: e.event.data ?? null, metadata: e.metadata }),
    );
    for (const [i, json] of serialized.entries()) {
      const bytes = Buffer.byteLength(json);
      if (bytes > this.maxEventBytes) throw tooLarge(`Event ${events[i].event.type} of ${streamId}`, bytes, this.maxEventBytes, 'eventBytes');
    }
    const batch = `[${serialized.join(',')}]`;
    if (this.appendGroups === 0) return this.appendAlone(streamId, expectedVersion, events, batch, options);
    return new Promise<AppendResult>((resolve, reject) => {
      this.pending.push({ streamId, expectedVersion, events, batch, options, resolve, reject });
      this.startGroups();
    });
  }

  /** Starts a transaction for the appends waiting, unless as many as allowed are in flight (each one that ends starts the next). */
  private startGroups(): void {
    while (this.pending.length > 0 && this.groupsInFlight < this.appendGroups) {
      const group = this.pending.splice(0, this.maxAppendsPerGroup);
      this.groupsInFlight++;
      void this.commitGroup(group).finally(() => {
        this.groupsInFlight--;
        this.startGroups();
      });
    }
  }

  /**
   * One transaction for the group: each append inserts with its own version check (a stale one
   * writes nothing and meets its conflict after the commit) and runs its own hook. When an insert
   * or a hook fails, the transaction is gone for all: each append is then tried alone, so only
   * the one at fault fails. A failed commit fails them all, as it would fail one.
   */
  private async commitGroup(group: PendingAppend[]): Promise<void> {
    if (group.length === 1) {
      await this.settleAlone(group[0]);
      return;
    }
    let outcomes: Map<PendingAppend, GroupOutcome>;
    try {
      outcomes = await this.driver.transaction(async (sql) => {
        const out = new Map<PendingAppend, GroupOutcome>();
        // In stream order, so that two replicas' groups take their row locks in the same order (no deadlock between them).
        for (const m of [...group].sort((a, b) => (a.streamId < b.streamId ? -1 : a.streamId > b.streamId ? 1 : 0))) {
          try {
            const written = await this.insert(sql, m.streamId, m.expectedVersion, m.batch);
            if (written && m.options.inTransaction) await m.options.inTransaction(sql, written);
            out.set(m, written ? { written } : { conflict: true });
          } catch (err) {
            throw new GroupMemberFailed(err);
          }
        }
        return out;
      });
    } catch (err) {
      if (!(err instanceof GroupMemberFailed)) {
        for (const m of group) m.reject(err);
        return;
      }
      await Promise.all(group.map((m) => this.settleAlone(m)));
      return;
    }
    this.groupCounters.groups++;
    this.groupCounters.grouped += group.length;
    await Promise.all(
      group.map(async (m) => {
        const outcome = outcomes.get(m) as GroupOutcome;
        if ('written' in outcome) m.resolve({ nextVersion: m.expectedVersion + m.events.length, events: outcome.written, duplicate: false });
        else await this.conflict(m.streamId, m.expectedVersion, m.events).then(m.resolve, m.reject);
      }),
    );
  }

  /** A waiting append done in a transaction of its own, its caller answered. */
  private settleAlone(m: PendingAppend): Promise<void> {
    return this.appendAlone(m.streamId, m.expectedVersion, m.events, m.batch, m.options).then(m.resolve, m.reject);
  }

  /** An append in a transaction of its own. */
  private async appendAlone(streamId: string, expectedVersion: number, events: NewEvent[], batch: string, options: AppendOptions): Promise<AppendResult> {
    // Only a unique violation of our own INSERT means "someone else wrote first"; one raised by
    // the inTransaction hook (say, a projection's constraint) is the hook's error and propagates.
    let insertConflicted = false;
    let written: RecordedEvent[] | undefined;
    try {
      written = await this.driver.transaction(async (sql) => {
        let recorded: RecordedEvent[] | undefined;
        try {
          recorded = await this.insert(sql, streamId, expectedVersion, batch);
        } catch (err) {
          insertConflicted = isUniqueViolation(err);
          throw err;
        }
        if (recorded && options.inTransaction) await options.inTransaction(sql, recorded);
        return recorded;
      });
    } catch (err) {
      if (!insertConflicted) throw err;
    }
    if (written) return { nextVersion: expectedVersion + events.length, events: written, duplicate: false };
    return this.conflict(streamId, expectedVersion, events);
  }

  /** Inserts the batch if the stream is at expectedVersion: the events as recorded, or undefined when it is not. */
  private async insert(sql: SqlExecutor, streamId: string, expectedVersion: number, batch: string): Promise<RecordedEvent[] | undefined> {
    const { rows } = await sql.query<EventRow>(INSERT_EVENTS, [streamId, expectedVersion, batch]);
    if (rows.length === 0) return undefined;
    return rows.map(toRecordedEvent).sort((a, b) => a.streamVersion - b.streamVersion).map((e) => this.upcast(e));
  }

  /** An append that found its stream elsewhere: an idempotent retry of stored events, or a ConcurrencyError. Its transaction is over, so these reads see what the winner committed. */
  private async conflict(streamId: string, expectedVersion: number, events: NewEvent[]): Promise<AppendResult> {
    const duplicate = await this.findIdempotentRetry(streamId, expectedVersion, events);
    if (duplicate) return duplicate;
    const actualVersion = await this.streamVersion(this.driver, streamId);
    const error = new ConcurrencyError(streamId, expectedVersion, actualVersion);
    if (actualVersion === expectedVersion) {
      error.message = `stream ${streamId}: an event id of the batch is already stored elsewhere (version ${actualVersion} is as expected)`;
    }
    throw error;
  }

  /** Pass `sql` to read inside your own transaction (PGlite: the only way, while one is open). */
  async readStream(streamId: string, fromVersion = 1, maxCount?: number, sql: SqlExecutor = this.driver): Promise<RecordedEvent[]> {
    const { rows } = await sql.query<EventRow>(READ_STREAM, [streamId, fromVersion, maxCount ?? null]);
    return rows.map((row) => this.upcast(toRecordedEvent(row)));
  }

  /** Pass `sql` to read inside your own transaction (PGlite: the only way, while one is open). */
  async readAll(after: AllStreamPosition, limit: number, sql: SqlExecutor = this.driver): Promise<RecordedEvent[]> {
    const { rows } = await sql.query<EventRow>(READ_ALL, [after.transactionId, after.globalPosition.toString(), limit]);
    return rows.map((row) => this.upcast(toRecordedEvent(row)));
  }

  transaction<T>(fn: (sql: SqlExecutor) => Promise<T>): Promise<T> {
    return this.driver.transaction(fn);
  }

  /** One statement on its own (autocommit): one round trip where a transaction would take three. */
  query<R = Record<string, unknown>>(text: string, params?: unknown[]): Promise<{ rows: R[] }> {
    return this.driver.query<R>(text, params);
  }

  loadCheckpoint(name: string, sql: SqlExecutor = this.driver): Promise<AllStreamPosition> {
    return loadCheckpoint(sql, name);
  }

  saveCheckpoint(name: string, position: AllStreamPosition, sql: SqlExecutor = this.driver): Promise<void> {
    return saveCheckpoint(sql, name, position);
  }

  private async streamVersion(sql: SqlExecutor, streamId: string): Promise<number> {
    const { rows } = await sql.query<{ version: number }>(STREAM_VERSION, [streamId]);
    return Number(rows[0]?.version ?? 0);
  }

  /**
   * The batch is an idempotent retry when every one of its event ids is already stored in
   * this stream at exactly the version this append would have given it. Then the stored
   * events are the answer, and `nextVersion` is the version that original append produced.
   */
  private async findIdempotentRetry(streamId: string, expectedVersion: number, events: NewEvent[]): Promise<AppendResult | undefined> {
    const ids = events.map((e) => e.eventId);
    const { rows } = await this.driver.query<EventRow>(EVENTS_BY_ID, [JSON.stringify(ids)]);
    const byId = new Map(rows.map((row) => [row.event_id.toLowerCase(), toRecordedEvent(row)]));
    const stored: RecordedEvent[] = [];
    for (const [i, id] of ids.entries()) {
      const event = byId.get(id.toLowerCase());
      if (!event || event.streamId !== streamId || event.streamVersion !== expectedVersion + i + 1) return undefined;
      stored.push(event);
    }
    return { nextVersion: expectedVersion + events.length, events: stored.map((e) => this.upcast(e)), duplicate: true };
  }

  private upcast(event: RecordedEvent): RecordedEvent {
    return this.upcasters ? this.upcasters.upcast(event) : event;
  }
}
