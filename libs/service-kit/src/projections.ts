import type { Kit } from './kit';
import { type DomainEvent, type RecordedEvent, type SqlEventStore, type SqlExecutor, START, type AllStreamPosition, positionOf } from '@parley/eventsourcing';

/**
 * A read model is a projection: a versioned table (`<name>_v<version>`) that can always be
 * rebuilt from events. Three kinds, by where the events come from and when they are applied:
 *
 * - `state`: the view of an aggregate's state (a row per aggregate), written inline, in the
 *   transaction that appends the aggregate's events, from the state the decider folded; rebuilt
 *   by folding each stream of its context again.
 * - `events`: handlers of event types of this service's store, `inline` (in the append's
 *   transaction) or `after-commit` (a projector with its own checkpoint on the all-stream).
 * - `jetstream`: handlers of events other services publish (PARLEY_EVENTS, a subject filter),
 *   applied by a durable consumer; rebuilt by reading that stream from its start.
 *
 * Whenever a projection's table of its current version is missing (a new projection, a new
 * version, a dropped table), it is built beside the live tables (schema `parley_build`) and then
 * swapped in with one short transaction, so no query ever reads a half-built table; older
 * versions are dropped then. `npm run -s projections -- rebuild <service> <projection>` does
 * the same on demand while the service runs.
 */
export type Projection = StateProjection<{ version: number }> | EventProjection | JetStreamProjection<unknown>;

interface ProjectionBase {
  name: string;
  version: number;
  /**
   * The statements that create its table and indexes; `table` is `<name>_v<version>`. Index names
   * should start with it. They create its companions too (`companionOf(table, suffix)`).
   */
  schema(table: string): string[];
  /**
   * Tables besides its own that the projection writes in the same statements, named
   * `<name>_v<version>_<suffix>` (a summary of its rows, say): built, swapped in and dropped with
   * it, so a rebuild never leaves them apart. Its handlers name them from the table they are
   * given (`companionOf(table, suffix)`), which during a build is the one being built.
   */
  companions?: readonly string[];
}

export interface StateProjection<S extends { version: number }> extends ProjectionBase {
  kind: 'state';
  /** Streams `<context>/<organizationId>/<id>` are this aggregate's. */
  context: string;
  initialState(): S;
  evolve(state: S, event: DomainEvent): S;
  /** Upserts the row of one aggregate; must ignore a state older than the row (concurrent writers). */
  save(sql: SqlExecutor, table: string, state: S): Promise<void>;
}

export interface EventProjection extends ProjectionBase {
  kind: 'events';
  mode: 'inline' | 'after-commit';
  /** The event types it handles; others never reach `apply`. */
  eventTypes: readonly string[];
  apply(sql: SqlExecutor, table: string, event: RecordedEvent): Promise<void>;
}

export interface JetStreamProjection<R = void> extends ProjectionBase {
  kind: 'jetstream';
  /** A subject filter on PARLEY_EVENTS, e.g. `parley.evt.conference.>`. */
  subject: string;
  /** The event types it handles; others are acknowledged and left alone. */
  eventTypes: readonly string[];
  /** Must be idempotent: JetStream delivers at least once. */
  apply(sql: SqlExecutor, table: string, event: RecordedEvent): Promise<R>;
  /** Runs after `apply` committed, for live events only (never during a rebuild): what follows from the event (a push, a call). */
  then?(event: RecordedEvent, result: R, kit: Kit): Promise<void>;
}

export const stateProjection = <S extends { version: number }>(p: Omit<StateProjection<S>, 'kind'>): StateProjection<S> => ({ kind: 'state', ...p });
export const eventProjection = (p: Omit<EventProjection, 'kind'>): EventProjection => ({ kind: 'events', ...p });
export const jetStreamProjection = <R>(p: Omit<JetStreamProjection<R>, 'kind'>): JetStreamProjection<R> => ({ kind: 'jetstream', ...p });

export const tableOf = (p: Pick<Projection, 'name' | 'version'>): string => `${p.name}_v${p.version}`;

/** A companion table of a projection's table (see ProjectionBase.companions). */
export const companionOf = (table: string, suffix: string): string => `${table}_${suffix}`;

/** A pattern of every version's table of projection `name`, and their companions. */
const versionedTables = (name: string): string => `^${name}_v[0-9]+(_[a-z][a-z0-9_]*)?$`;

/** A projection's tables: its own and its companions'. */
const tablesOf = (p: Projection): string[] => [tableOf(p), ...(p.companions ?? []).map((c) => companionOf(tableOf(p), c))];

/** Whether dropping projection `name`'s tables (versionedTables) would drop one of `p`'s. */
const takesIn = (name: string, p: Projection): boolean => tablesOf(p).some((t) => new RegExp(versionedTables(name)).test(t));

/** Which of `tables` are not in `schema`. */
async function missingTables(sql: SqlExecutor, schema: string, tables: string[]): Promise<string[]> {
  const { rows } = await sql.query<{ table_name: string }>(`SELECT table_name FROM information_schema.tables WHERE table_schema = $1 AND table_name = ANY($2::text[])`, [schema, tables]);
  return tables.filter((t) => !rows.some((r) => r.table_name === t));
}

/** Where projections are built before they are swapped in. */
const BUILD_SCHEMA = 'parley_build';

const REGISTRY = [
  `CREATE TABLE IF NOT EXISTS projections (
     name text PRIMARY KEY,
     version int NOT NULL,
     table_name text NOT NULL,
     -- after-commit projections: the all-stream position applied; jetstream ones: the last stream sequence applied
     transaction_id xid8,
     global_position bigint,
     stream_sequence bigint,
     built_at timestamptz NOT NULL DEFAULT now()
   )`,
];

export interface ProjectionStatus {
  name: string;
  kind: Projection['kind'];
  version: number;
  table: string;
  builtAt: string;
}

/** The version a projection registry row says is live, if any. */
interface RegistryRow {
  name: string;
  version: number;
  table_name: string;
  transaction_id: string | null;
  global_position: string | null;
  stream_sequence: string | null;
  built_at: string;
}

const STREAM_PAGE = 500;
const EVENT_PAGE = 1000;

/**
 * Reads events a projection is built from when it is not in this store (jetstream projections):
 * the sequence of the last message now, and the messages up to it in order.
 */
export interface EventHistory {
  lastSequence(subject: string): Promise<number>;
  read(subject: string, upTo: number, onBatch: (events: Array<{ sequence: number; event: RecordedEvent }>) => Promise<void>): Promise<void>;
}

/**
 * Builds, swaps and serves a service's projections in its event store. Inline writes take the
 * gate shared; a swap takes it alone, so no append of this process falls between a rebuild's
 * catch-up and its swap.
 */
export class Projections {
  private readonly gate = new Gate();

  constructor(
    private readonly store: SqlEventStore,
    readonly all: readonly Projection[],
    private readonly history?: EventHistory,
  ) {
    const names = new Set<string>();
    for (const p of all) {
      if (names.has(p.name)) throw new Error(`two projections are named ${p.name}`);
      if (!/^[a-z][a-z0-9_]*$/.test(p.name) || !Number.isInteger(p.version) || p.version < 1) throw new Error(`projection ${p.name} v${p.version}: a lowercase SQL name and a version >= 1`);
      if ((p.companions ?? []).some((c) => !/^[a-z][a-z0-9_]*$/.test(c))) throw new Error(`projection ${p.name}: a companion's suffix is a lowercase SQL name`);
      names.add(p.name);
    }
    // A swap drops every table versionedTables(name) takes in: no other projection's table may be one.
    for (const p of all) {
      const clash = all.find((o) => o !== p && takesIn(p.name, o));
      if (clash) throw new Error(`projection ${clash.name}'s tables would be taken for companions of ${p.name}'s: rename one`);
    }
  }

  get(name: string): Projection {
    const p = this.all.find((x) => x.name === name);
    if (!p) throw new Error(`no projection named ${name} (there are: ${this.all.map((x) => x.name).join(', ')})`);
    return p;
  }

  /** Builds every projection whose current version is not live yet. Called at start, before the service answers. */
  async prepare(log: (msg: string) => void = () => undefined, retired: readonly string[] = []): Promise<void> {
    // A retired name whose pattern takes in a live table (its own, or foo_v1's foo_v1_v1 for foo) would drop it.
    const kept = retired.filter((name) => this.all.some((p) => takesIn(name, p)));
    if (kept.length > 0) throw new Error(`projection ${kept.join(', ')} is retired, and its tables' names take in a live projection's`);
    await this.store.transaction(async (sql) => {
      await sql.query(`SELECT pg_advisory_xact_lock(hashtext('parley.projections.registry'))`);
      for (const statement of REGISTRY) await sql.query(statement);
      await sql.query(`CREATE SCHEMA IF NOT EXISTS ${BUILD_SCHEMA}`);
      for (const name of retired) {
        const { rows } = await sql.query<{ table_name: string }>(`SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' AND table_name ~ $1`, [versionedTables(name)]);
        for (const t of rows) await sql.query(`DROP TABLE IF EXISTS public.${t.table_name}`);
        const { rows: registered } = await sql.query(`DELETE FROM projections WHERE name = $1 RETURNING name`, [name]);
        if (rows.length > 0 || registered.length > 0) log(`projection ${name}: retired, ${rows.length} table(s) dropped`);
      }
    });
    for (const p of this.all) {
      const live = await this.registryRow(p.name);
      if (live && live.version === p.version && (await this.store.transaction((sql) => missingTables(sql, 'public', tablesOf(p)))).length === 0) continue;
      const started = Date.now();
      log(`projection ${p.name}: building v${p.version}${live ? ` (v${live.version} is live until it is ready)` : ''}`);
      const rows = await this.rebuild(p.name);
      log(`projection ${p.name}: v${p.version} built from ${rows} events in ${Date.now() - started} ms and swapped in`);
    }
  }

  /** The inline writes of an append: `state` projections of the aggregate's context with its new state, inline `events` projections with the events. */
  async applyInline(sql: SqlExecutor, context: string, state: { version: number } | undefined, events: RecordedEvent[]): Promise<void> {
    for (const p of this.all) {
      if (p.kind === 'state' && p.context === context && state) await p.save(sql, tableOf(p), state);
      else if (p.kind === 'events' && p.mode === 'inline') {
        for (const e of events) if (p.eventTypes.includes(e.type)) await p.apply(sql, tableOf(p), e);
      }
    }
  }

  /** Runs an append (or anything that writes inline projections) so that no swap happens in the middle of it. */
  inlineWrite<T>(fn: () => Promise<T>): Promise<T> {
    return this.gate.shared(fn);
  }

  /** The live version of each projection. */
  async status(): Promise<ProjectionStatus[]> {
    const out: ProjectionStatus[] = [];
    for (const p of this.all) {
      const row = await this.registryRow(p.name);
      if (row) out.push({ name: p.name, kind: p.kind, version: row.version, table: row.table_name, builtAt: new Date(row.built_at).toISOString() });
    }
    return out;
  }

  /** Where an after-commit or jetstream projection is (its checkpoint), from the registry. */
  async position(name: string): Promise<{ all: AllStreamPosition; streamSequence: number }> {
    const row = await this.registryRow(name);
    return {
      all: row?.transaction_id ? { transactionId: row.transaction_id, globalPosition: BigInt(row.global_position ?? '0') } : START,
      streamSequence: Number(row?.stream_sequence ?? 0),
    };
  }

  /** Saves an after-commit or jetstream projection's checkpoint, in the caller's transaction. */
  async savePosition(sql: SqlExecutor, name: string, at: { all?: AllStreamPosition; streamSequence?: number }): Promise<void> {
    if (at.all) {
      await sql.query(`UPDATE projections SET transaction_id = $2::text::xid8, global_position = $3::text::bigint WHERE name = $1`, [name, at.all.transactionId, at.all.globalPosition.toString()]);
    }
    if (at.streamSequence !== undefined) await sql.query(`UPDATE projections SET stream_sequence = $2 WHERE name = $1`, [name, at.streamSequence]);
  }

  /**
   * Builds projection `name` beside the live tables from every event, then swaps it in: the live
   * table of its version (if any) is replaced, older versions are dropped, and its checkpoint is
   * where the build ended. Answers how many events it applied.
   */
  async rebuild(name: string): Promise<number> {
    const p = this.get(name);
    const table = tableOf(p);
    await this.inBuild(async (sql) => {
      for (const t of tablesOf(p)) await sql.query(`DROP TABLE IF EXISTS ${BUILD_SCHEMA}.${t}`);
      for (const statement of p.schema(table)) await sql.query(statement);
      const missing = await missingTables(sql, BUILD_SCHEMA, tablesOf(p));
      if (missing.length > 0) throw new Error(`projection ${p.name}: its schema() does not create ${missing.join(', ')}`);
    });
    let applied = 0;
    let through: { all?: AllStreamPosition; streamSequence?: number } = {};
    if (p.kind === 'state') {
      // Where the all-stream is now: streams written after it are folded again at the swap.
      const mark = await this.endOfAll();
      applied = await this.foldStreams(p, table);
      through = { all: mark };
    } else if (p.kind === 'events') {
      const { count, position } = await this.applyAll(p, table, START);
      applied = count;
      through = { all: position };
    } else {
      if (!this.history) throw new Error(`projection ${p.name} reads JetStream, and this service has no event history reader`);
      const last = await this.history.lastSequence(p.subject);
      await this.history.read(p.subject, last, async (batch) => {
        await this.inBuild(async (sql) => {
          for (const { event } of batch) if (p.eventTypes.includes(event.type)) await p.apply(sql, table, event);
        });
        applied += batch.length;
      });
      through = { streamSequence: last };
    }
    await this.gate.exclusive(() =>
      this.store.transaction(async (sql) => {
        await sql.query(`SELECT pg_advisory_xact_lock(hashtext($1))`, [`parley.projection.${p.name}`]);
        await sql.query(`SET LOCAL search_path TO ${BUILD_SCHEMA}, public`);
        // Catch up with what this store committed while the build ran (inline projections only:
        // the others resume from their checkpoint, which is where the build ended).
        if (p.kind === 'state' && through.all) {
          const touched = new Set<string>();
          for (let pos = through.all; ; ) {
            const batch = await this.store.readAll(pos, EVENT_PAGE, sql);
            if (batch.length === 0) break;
            for (const e of batch) if (e.streamId.startsWith(`${p.context}/`)) touched.add(e.streamId);
            pos = positionOf(batch[batch.length - 1]);
            through = { all: pos };
          }
          for (const streamId of touched) await p.save(sql, table, await this.fold(p, streamId, sql));
        } else if (p.kind === 'events' && p.mode === 'inline' && through.all) {
          for (let pos = through.all; ; ) {
            const batch = await this.store.readAll(pos, EVENT_PAGE, sql);
            if (batch.length === 0) break;
            for (const e of batch) if (p.eventTypes.includes(e.type)) await p.apply(sql, table, e);
            pos = positionOf(batch[batch.length - 1]);
            through = { all: pos };
          }
        }
        await sql.query(`SET LOCAL search_path TO public`);
        // Every version's tables and companions (a companion is <name>_v<version>_<suffix>; no projection's name is another's plus _v<digits>).
        const { rows: old } = await sql.query<{ table_name: string }>(`SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' AND table_name ~ $1`, [versionedTables(p.name)]);
        for (const t of old) await sql.query(`DROP TABLE IF EXISTS public.${t.table_name}`);
        for (const t of tablesOf(p)) await sql.query(`ALTER TABLE ${BUILD_SCHEMA}.${t} SET SCHEMA public`);
        await sql.query(
          `INSERT INTO projections (name, version, table_name, built_at) VALUES ($1, $2, $3, now())
           ON CONFLICT (name) DO UPDATE SET version = excluded.version, table_name = excluded.table_name, built_at = now(),
             transaction_id = NULL, global_position = NULL, stream_sequence = NULL`,
          [p.name, p.version, table],
        );
        await this.savePosition(sql, p.name, through);
      }),
    );
    return applied;
  }

  /** The state of one stream, folded from its first event. */
  private async fold<S extends { version: number }>(p: StateProjection<S>, streamId: string, sql?: SqlExecutor): Promise<S> {
    const events = await this.store.readStream(streamId, 1, undefined, sql);
    return events.reduce((s, e) => p.evolve(s, e as unknown as DomainEvent), p.initialState());
  }

  /** Folds every stream of the projection's context into the build table, a page of streams at a time. */
  private async foldStreams<S extends { version: number }>(p: StateProjection<S>, table: string): Promise<number> {
    let applied = 0;
    for (let after = ''; ; ) {
      const { rows } = await this.store.transaction((sql) =>
        sql.query<{ stream_id: string }>(
          `SELECT DISTINCT stream_id FROM events WHERE stream_id > $1 AND starts_with(stream_id, $2) ORDER BY stream_id LIMIT $3`,
          [after, `${p.context}/`, STREAM_PAGE],
        ),
      );
      if (rows.length === 0) return applied;
      const states: S[] = [];
      for (const { stream_id } of rows) {
        const s = await this.fold(p, stream_id);
        applied += s.version;
        states.push(s);
      }
      await this.inBuild(async (sql) => {
        for (const s of states) await p.save(sql, table, s);
      });
      after = rows[rows.length - 1].stream_id;
    }
  }

  /** Applies every event of the handled types after `from` into the build table. */
  private async applyAll(p: EventProjection, table: string, from: AllStreamPosition): Promise<{ count: number; position: AllStreamPosition }> {
    let count = 0;
    let position = from;
    for (;;) {
      const batch = await this.store.readAll(position, EVENT_PAGE);
      if (batch.length === 0) return { count, position };
      await this.inBuild(async (sql) => {
        for (const e of batch) {
          if (!p.eventTypes.includes(e.type)) continue;
          await p.apply(sql, table, e);
          count++;
        }
      });
      position = positionOf(batch[batch.length - 1]);
    }
  }

  /** The position after the last event readAll would return now. */
  private async endOfAll(): Promise<AllStreamPosition> {
    let pos = START;
    for (;;) {
      const batch = await this.store.readAll(pos, EVENT_PAGE);
      if (batch.length === 0) return pos;
      pos = positionOf(batch[batch.length - 1]);
    }
  }

  /** A transaction in which the projection's table name means the one being built. */
  private inBuild<T>(fn: (sql: SqlExecutor) => Promise<T>): Promise<T> {
    return this.store.transaction(async (sql) => {
      await sql.query(`SET LOCAL search_path TO ${BUILD_SCHEMA}, public`);
      return fn(sql);
    });
  }

  private async registryRow(name: string): Promise<RegistryRow | undefined> {
    const { rows } = await this.store.transaction((sql) =>
      sql.query<RegistryRow>(
        `SELECT name, version, table_name, transaction_id::text AS transaction_id, global_position::text AS global_position, stream_sequence::text AS stream_sequence, built_at::text AS built_at
         FROM projections WHERE name = $1`,
        [name],
      ),
    );
    return rows[0];
  }
}

/** Many shared holders at once, or one exclusive holder; an exclusive request waits for the shared ones and holds off new ones. */
class Gate {
  private sharedHolders = 0;
  private exclusiveTail: Promise<void> = Promise.resolve();
  private exclusiveWaiting?: Promise<void>;
  private drained?: () => void;

  async shared<T>(fn: () => Promise<T>): Promise<T> {
    while (this.exclusiveWaiting) await this.exclusiveWaiting;
    this.sharedHolders++;
    try {
      return await fn();
    } finally {
      this.sharedHolders--;
      if (this.sharedHolders === 0) this.drained?.();
    }
  }

  exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.exclusiveTail.then(async () => {
      let release!: () => void;
      this.exclusiveWaiting = new Promise<void>((r) => (release = r));
      try {
        if (this.sharedHolders > 0) await new Promise<void>((r) => (this.drained = r));
        this.drained = undefined;
        return await fn();
      } finally {
        this.exclusiveWaiting = undefined;
        release();
      }
    });
    this.exclusiveTail = run.then(
      () => undefined,
      () => undefined,
    );
    return run;
  }
}
