/**
 * The event-sourcing vocabulary shared by every service.
 *
 * Stream versions start at 1 and grow by one per event; a stream that does not
 * exist has version 0. `expectedVersion` on append is the version the writer
 * last saw: the append fails with {@link ConcurrencyError} when the stream has
 * moved on (optimistic concurrency), unless every event id of the batch is
 * already stored at the same positions (an idempotent retry), which succeeds.
 */

/** Who did what, and why: carried by every event. Time and ids come from here, never from the domain. */
export interface EventMetadata {
  /** The request that started the chain (e.g. X-Request-Id, or the first command id). */
  correlationId: string;
  /** The message (command or event) that directly caused this event. */
  causationId: string;
  /** The authenticated user that issued the command (JWT `sub`). */
  userId: string;
  /** The organization the stream belongs to (JWT `organization_id`). */
  organizationId: string;
  /** ISO-8601 instant at which the command was decided. */
  time: string;
  [extra: string]: unknown;
}

/** An event as the domain emits it: a stable type name, a schema version and its data. */
export interface DomainEvent<T extends string = string, D = unknown> {
  type: T;
  schemaVersion: number;
  data: D;
}

/** An event ready to be appended. */
export interface NewEvent<E extends DomainEvent = DomainEvent> {
  eventId: string;
  event: E;
  metadata: EventMetadata;
}

/** An event as read back from the store (after upcasting). */
export interface RecordedEvent<E extends DomainEvent = DomainEvent> {
  globalPosition: bigint;
  /** PostgreSQL transaction id (xid8) of the committing transaction, as a decimal string. */
  transactionId: string;
  streamId: string;
  streamVersion: number;
  eventId: string;
  type: E['type'];
  schemaVersion: number;
  data: E['data'];
  metadata: EventMetadata;
  createdAt: Date;
}

/** A position in the all-stream, in commit order. */
export interface AllStreamPosition {
  transactionId: string; // xid8 as decimal string, '0' for the start
  globalPosition: bigint; // 0n for the start
}

export const START: AllStreamPosition = { transactionId: '0', globalPosition: 0n };

export interface AppendResult {
  /** The stream's version after the append. */
  nextVersion: number;
  /** The events as stored (positions filled in). */
  events: RecordedEvent[];
  /** True when every event id was already stored (an idempotent retry); nothing new was written. */
  duplicate: boolean;
}

/** Minimal SQL surface that both node-postgres clients and PGlite transactions satisfy. */
export interface SqlExecutor {
  query<R = Record<string, unknown>>(text: string, params?: unknown[]): Promise<{ rows: R[] }>;
}

export interface AppendOptions {
  /**
   * Runs inside the append's transaction after the events are inserted (inline projections).
   * If it throws, nothing is committed. Not called for a duplicate (idempotent) append.
   */
  inTransaction?: (sql: SqlExecutor, recorded: RecordedEvent[]) => Promise<void>;
}

/** The event store port. Narrow on purpose, so an EventStoreDB/KurrentDB adapter can be added. */
export interface EventStore {
  /** Creates the schema if needed. Idempotent. */
  init(): Promise<void>;
  append(streamId: string, expectedVersion: number, events: NewEvent[], options?: AppendOptions): Promise<AppendResult>;
  /** Events of one stream with `streamVersion >= fromVersion`, in version order; at most `maxCount` when given. */
  readStream(streamId: string, fromVersion?: number, maxCount?: number): Promise<RecordedEvent[]>;
  /**
   * Events of all streams after `after`, in commit order, at most `limit`. Only events of
   * transactions older than every transaction still in flight are returned, so a reader
   * that checkpoints the last position it saw never skips an event committed later with a
   * smaller global position.
   */
  readAll(after: AllStreamPosition, limit: number): Promise<RecordedEvent[]>;
  /** Runs `fn` in one transaction (used by projections and checkpoints). */
  transaction<T>(fn: (sql: SqlExecutor) => Promise<T>): Promise<T>;
  close(): Promise<void>;

  /**
   * Optional capability: a named, exclusive lock held until released or until its holder dies,
   * so that exactly one replica runs a singleton job (the relay, a projection). Resolves with
   * null when someone else holds it. Adapters that cannot offer it leave it out; callers then
   * behave as if they always held it.
   */
  acquireLeadership?(name: string): Promise<Leadership | null>;
  /** Optional capability, see {@link CheckpointStore}. */
  loadCheckpoint?(name: string, sql?: SqlExecutor): Promise<AllStreamPosition>;
  /** Optional capability, see {@link CheckpointStore}. */
  saveCheckpoint?(name: string, position: AllStreamPosition, sql?: SqlExecutor): Promise<void>;
}

/** A held leadership lock. */
export interface Leadership {
  /** Gives the lock up. Idempotent. */
  release(): Promise<void>;
  /**
   * Resolves if the lock is lost without release() being called (its database connection
   * died, so another process may now hold it). Stays pending after a normal release.
   */
  readonly lost: Promise<void>;
}

/** Named all-stream positions, for readers (relays, projections) that resume where they left off. */
export interface CheckpointStore {
  /** The saved position, or {@link START} when none was saved. Pass `sql` to read inside your transaction. */
  loadCheckpoint(name: string, sql?: SqlExecutor): Promise<AllStreamPosition>;
  /** Upserts the position. Pass `sql` to save it atomically with a projection's own writes. */
  saveCheckpoint(name: string, position: AllStreamPosition, sql?: SqlExecutor): Promise<void>;
}

export class ConcurrencyError extends Error {
  constructor(
    readonly streamId: string,
    readonly expectedVersion: number,
    readonly actualVersion: number,
  ) {
    super(`stream ${streamId}: expected version ${expectedVersion}, found ${actualVersion}`);
    this.name = 'ConcurrencyError';
  }
}

/** A pure aggregate: decide(command, state) → events; evolve(state, event) → state. */
export interface Decider<C, E extends DomainEvent, S> {
  initialState(): S;
  decide(command: C, state: S): E[];
  evolve(state: S, event: E): S;
}
