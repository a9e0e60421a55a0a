import { KeyedMutex } from './keyed-mutex';
import { ConcurrencyError, type Decider, type DomainEvent, type EventStore, type NewEvent, type RecordedEvent, type SqlExecutor } from './types';

/** A command meant for one version of an aggregate found it at another: it was not decided, and nothing was written. */
export class StaleVersionError extends Error {
  constructor(
    readonly streamId: string,
    readonly expectedVersion: number,
    readonly actualVersion: number,
  ) {
    super(`stream ${streamId} is at version ${actualVersion}, not ${expectedVersion}`);
    this.name = 'StaleVersionError';
  }
}

export interface AggregateRepositoryOptions<C, E extends DomainEvent, S extends { version: number }> {
  store: EventStore;
  decider: Decider<C, E, S>;
  /** Aggregates whose state is kept in memory between commands (least recently used go first). */
  cacheSize: number;
  /** Called after every commit (e.g. to wake the relay). */
  onCommitted?: () => void;
  /** Tries against version conflicts with other writers (other replicas); default 25. */
  maxAttempts?: number;
  /** The error thrown when every try met a conflict. */
  tooManyConflicts: (streamId: string, command: C) => Error;
}

export interface ExecuteOptions<S, E, R> {
  /** Inline projections: run in the append's transaction with the state after the events, the events as recorded, and as decided (with the `before` step's result). */
  inTransaction?: (sql: SqlExecutor, next: S, recorded: RecordedEvent[], decided: { events: E[]; result?: R }) => Promise<void>;
  /**
   * Runs once, after the command is first decided and before its events are stored (e.g. a
   * call to another service whose answer the caller needs). Its result is returned; if storing
   * then fails for good, `abandon` undoes it (it must handle its own errors).
   */
  before?: (state: S, events: E[]) => Promise<R>;
  abandon?: (result: R) => Promise<void>;
  /**
   * The version the caller read and decided on (a client's `version`): when the stream is at
   * another, or moves while this command is stored, it fails with {@link StaleVersionError} and
   * is never retried (the caller must read again and decide anew).
   */
  expectedVersion?: number;
}

export interface ExecuteResult<S, E, R> {
  state: S;
  events: E[];
  result?: R;
  /** The events were already stored under their ids (the store's idempotent append): another attempt of this same command wrote them, and this one's `before` was undone. */
  duplicate: boolean;
}

/**
 * Decide on the cached state (or, on a miss, the stream folded), append with the version decided
 * on, and only on a conflict read the stream's new events and decide again: a process that is the
 * stream's only writer reads nothing before it appends. A replica working through a queue of
 * commands to one stream appends back to back with a warm cache, so another replica can lose
 * several rounds in a row: the retries back off exponentially with jitter (capped at 100 ms)
 * until that queue drains, about 2 s at worst. Commands to one stream inside one process queue on
 * a mutex instead of racing. Queries use `load`, which always reads the stream's new events, so
 * a read after another replica's write sees it.
 */
export class AggregateRepository<C, E extends DomainEvent, S extends { version: number }> {
  private readonly cache = new Map<string, S>();
  private readonly mutex = new KeyedMutex();

  constructor(private readonly o: AggregateRepositoryOptions<C, E, S>) {}

  /** The current state: the cached fold plus whatever was appended since. */
  async load(streamId: string): Promise<S> {
    const cached = this.cache.get(streamId) ?? this.o.decider.initialState();
    const events = await this.o.store.readStream(streamId, cached.version + 1);
    const state = events.reduce((s, e) => this.o.decider.evolve(s, e as unknown as E), cached);
    if (state.version > 0) this.remember(streamId, state);
    return state;
  }

  /** `envelope` turns each decided event into what is appended (ids, metadata); `streamVersion` is the version it is appended at. */
  execute<R = undefined>(
    streamId: string,
    command: C,
    envelope: (event: E, next: S, streamVersion: number) => NewEvent,
    options: ExecuteOptions<S, E, R> = {},
  ): Promise<ExecuteResult<S, E, R>> {
    const maxAttempts = this.o.maxAttempts ?? 25;
    const project = options.inTransaction;
    return this.mutex.run(streamId, async () => {
      let before: { value: R } | undefined;
      let behind = false;
      try {
        for (let attempt = 1; ; attempt++) {
          const { expectedVersion } = options;
          // The cached state, unless it proved behind (a conflict) or the caller expects another version.
          let state = behind ? undefined : this.cache.get(streamId);
          const cached = state !== undefined && (expectedVersion === undefined || state.version === expectedVersion);
          if (!state || !cached) state = await this.load(streamId);
          behind = false;
          if (expectedVersion !== undefined && state.version !== expectedVersion) throw new StaleVersionError(streamId, expectedVersion, state.version);
          let events: E[];
          try {
            events = this.o.decider.decide(command, state);
          } catch (refusal) {
            // Only the append checks a cached state: a refusal is given on the stream as it is.
            if (!cached) throw refusal;
            behind = true;
            continue;
          }
          if (events.length === 0) {
            if (cached) {
              behind = true;
              continue;
            }
            return { state, events, result: before?.value, duplicate: false };
          }
          if (options.before && !before) before = { value: await options.before(state, events) };
          const next = events.reduce(this.o.decider.evolve, state);
          let duplicate: boolean;
          try {
            ({ duplicate } = await this.o.store.append(
              streamId,
              state.version,
              events.map((e, i) => envelope(e, next, state.version + i + 1)),
              project ? { inTransaction: (sql, recorded) => project(sql, next, recorded, { events, result: before?.value }) } : {},
            ));
          } catch (e) {
            if (!(e instanceof ConcurrencyError)) throw e;
            behind = true;
            if (expectedVersion !== undefined) throw new StaleVersionError(streamId, expectedVersion, (await this.load(streamId)).version);
            if (attempt >= maxAttempts) throw this.o.tooManyConflicts(streamId, command);
            await new Promise((r) => setTimeout(r, Math.random() * Math.min(100, 2 ** attempt)));
            continue;
          }
          this.remember(streamId, next);
          this.o.onCommitted?.();
          // Another attempt of this command stored these events: what this attempt's `before` did is undone.
          if (duplicate && before && options.abandon) await options.abandon(before.value).catch(() => undefined);
          return { state: next, events, result: before?.value, duplicate };
        }
      } catch (e) {
        if (before && options.abandon) await options.abandon(before.value).catch(() => undefined);
        throw e;
      }
    });
  }

  private remember(streamId: string, state: S): void {
    this.cache.delete(streamId); // re-insert: Map order doubles as recency
    this.cache.set(streamId, state);
    if (this.cache.size > this.o.cacheSize) this.cache.delete(this.cache.keys().next().value as string);
  }
}
