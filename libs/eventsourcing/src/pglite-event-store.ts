import type { PGlite, Transaction } from '@electric-sql/pglite';
import { loadPglite } from './load-pglite';
import type { SqlDriver } from './sql-driver';
import { SqlEventStore, type EventStoreOptions } from './sql-event-store';
import type { Leadership, SqlExecutor } from './types';

export type PgliteEventStoreOptions = EventStoreOptions;

/**
 * PGlite serializes everything on one connection: a query issued on the instance while one of
 * its transactions is open waits for that transaction, so code inside `transaction()` (and the
 * inTransaction hook) must use the executor it is given, never the store or the instance.
 */
function pgliteDriver(db: PGlite): SqlDriver {
  const asExecutor = (tx: Transaction): SqlExecutor => ({
    query: async <R>(text: string, params?: unknown[]) => ({ rows: (await tx.query<R>(text, params)).rows }),
  });
  return {
    query: async <R>(text: string, params?: unknown[]) => ({ rows: (await db.query<R>(text, params)).rows }),
    transaction: <T>(fn: (sql: SqlExecutor) => Promise<T>) => db.transaction((tx) => fn(asExecutor(tx))),
  };
}

/**
 * Leadership names held per PGlite instance. A PGlite database belongs to one process, so a
 * process-local flag is all the mutual exclusion there is to have.
 */
const heldLeaderships = new WeakMap<PGlite, Set<string>>();

/** The event store embedded in the process (PGlite: PostgreSQL compiled to WASM), for `npm start` without servers. */
export class PgliteEventStore extends SqlEventStore {
  private readonly db: PGlite;
  private readonly ownsDb: boolean;
  private readonly leaderships = new Set<PgliteLeadership>();
  private closing?: Promise<void>;

  /** @param source a data directory, `memory://`, or an existing PGlite instance (which close() leaves open). */
  constructor(source: string | PGlite, options: PgliteEventStoreOptions = {}) {
    const db = typeof source === 'string' ? new (loadPglite().PGlite)(source) : source;
    super(pgliteDriver(db), options);
    this.db = db;
    this.ownsDb = typeof source === 'string';
    // A failed start-up is reported by the first query; do not let it also surface as an unhandled rejection.
    db.waitReady.catch(() => undefined);
  }

  /** The underlying PGlite instance (e.g. for projections that keep their tables next to the events). */
  get pglite(): PGlite {
    return this.db;
  }

  async acquireLeadership(name: string): Promise<Leadership | null> {
    let held = heldLeaderships.get(this.db);
    if (!held) heldLeaderships.set(this.db, (held = new Set()));
    if (held.has(name)) return null;
    held.add(name);
    const leadership = new PgliteLeadership(() => {
      held.delete(name);
      this.leaderships.delete(leadership);
    });
    this.leaderships.add(leadership);
    return leadership;
  }

  /** Ends held leaderships and closes the database if the store opened it. Idempotent. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      // Closing the store ends its leaderships the way a dying connection would.
      for (const leadership of [...this.leaderships]) leadership.lose();
      if (this.ownsDb && !this.db.closed) await this.db.close();
    })();
    return this.closing;
  }
}

class PgliteLeadership implements Leadership {
  readonly lost: Promise<void>;
  private ended = false;
  private markLost!: () => void;

  constructor(private readonly onEnd: () => void) {
    this.lost = new Promise((resolve) => (this.markLost = resolve));
  }

  async release(): Promise<void> {
    this.end();
  }

  lose(): void {
    if (this.end()) this.markLost();
  }

  private end(): boolean {
    if (this.ended) return false;
    this.ended = true;
    this.onEnd();
    return true;
  }
}
