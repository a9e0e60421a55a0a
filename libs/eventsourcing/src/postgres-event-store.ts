import { Client, Pool, type ClientConfig, type PoolClient } from 'pg';
import type { SqlDriver } from './sql-driver';
import { SqlEventStore, type EventStoreOptions } from './sql-event-store';
import type { Leadership, SqlExecutor } from './types';

export interface PostgresEventStoreOptions extends EventStoreOptions {
  /** How often a held leadership checks that its connection is alive. Default 5 s. */
  leadershipHeartbeatMs?: number;
}

/**
 * Advisory lock namespace for leadership ('Parl'). The two-key form keeps these locks apart
 * from single-key advisory locks other code may take with hashtext() of the same names.
 */
const LEADERSHIP_LOCK_SPACE = 0x5061726c;

function poolDriver(pool: Pool): SqlDriver {
  const asExecutor = (client: PoolClient): SqlExecutor => ({
    query: async <R>(text: string, params?: unknown[]) => ({ rows: (await client.query(text, params)).rows as R[] }),
  });
  return {
    query: async <R>(text: string, params?: unknown[]) => ({ rows: (await pool.query(text, params)).rows as R[] }),
    async transaction<T>(fn: (sql: SqlExecutor) => Promise<T>): Promise<T> {
      const client = await pool.connect();
      let broken: Error | undefined;
      // A checked-out client whose connection dies (the server stopped) emits 'error' with no
      // pool listener attached: without one of ours that would crash the process. The query in
      // flight fails by itself; the client is dropped on release.
      const onError = (err: Error) => (broken = err);
      client.on('error', onError);
      try {
        await client.query('BEGIN');
        const result = await fn(asExecutor(client));
        await client.query('COMMIT');
        return result;
      } catch (err) {
        try {
          await client.query('ROLLBACK');
        } catch (rollbackError) {
          // The connection is unusable: make the pool drop it instead of handing it out again.
          broken = rollbackError as Error;
        }
        throw err;
      } finally {
        client.off('error', onError);
        client.release(broken);
      }
    },
  };
}

/** The event store on PostgreSQL through node-postgres (production). */
export class PostgresEventStore extends SqlEventStore {
  private readonly pool: Pool;
  private readonly ownsPool: boolean;
  private readonly clientConfig: ClientConfig;
  private readonly heartbeatMs: number;
  private readonly leaderships = new Set<PostgresLeadership>();
  private closing?: Promise<void>;

  constructor(connection: string | Pool, options: PostgresEventStoreOptions = {}) {
    const ownsPool = typeof connection === 'string';
    const pool = typeof connection === 'string' ? new Pool({ connectionString: connection }) : connection;
    super(poolDriver(pool), options);
    this.pool = pool;
    this.ownsPool = ownsPool;
    this.clientConfig = typeof connection === 'string' ? { connectionString: connection } : pool.options;
    this.heartbeatMs = options.leadershipHeartbeatMs ?? 5000;
    // An idle pooled connection that dies (server restart, pg_terminate_backend) emits 'error'
    // on the pool; without a listener that would crash the process. The pool replaces it.
    if (ownsPool) pool.on('error', () => undefined);
  }

  /**
   * Takes a session-level advisory lock on a dedicated connection (not a pooled one) held
   * for as long as the leadership lasts: when the holder's process dies, PostgreSQL closes
   * the session and the lock is free for the next replica, with no lease to expire.
   */
  async acquireLeadership(name: string): Promise<Leadership | null> {
    const client = new Client(this.clientConfig);
    client.on('error', () => undefined); // reported through `lost`
    await client.connect();
    try {
      const { rows } = await client.query<{ acquired: boolean }>(`SELECT pg_try_advisory_lock($1, hashtext($2)) AS acquired`, [
        LEADERSHIP_LOCK_SPACE,
        name,
      ]);
      if (!rows[0]?.acquired) {
        await client.end();
        return null;
      }
    } catch (err) {
      await client.end().catch(() => undefined);
      throw err;
    }
    const leadership = new PostgresLeadership(client, this.heartbeatMs, () => this.leaderships.delete(leadership));
    this.leaderships.add(leadership);
    return leadership;
  }

  /** Releases held leaderships and ends the pool if the store created it. Idempotent. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      await Promise.all([...this.leaderships].map((l) => l.release()));
      if (this.ownsPool) await this.pool.end();
    })();
    return this.closing;
  }
}

class PostgresLeadership implements Leadership {
  readonly lost: Promise<void>;
  private released = false;
  private markLost!: () => void;
  private readonly heartbeat: NodeJS.Timeout;

  constructor(
    private readonly client: Client,
    heartbeatMs: number,
    private readonly onEnd: () => void,
  ) {
    this.lost = new Promise((resolve) => (this.markLost = resolve));
    const die = () => {
      if (this.released) return;
      this.released = true;
      clearInterval(this.heartbeat);
      this.onEnd();
      this.markLost();
      client.end().catch(() => undefined);
    };
    client.on('error', die);
    client.on('end', die);
    // A silently dropped connection (no RST) is only noticed when something is sent on it.
    this.heartbeat = setInterval(() => {
      client.query('SELECT 1').catch(die);
    }, heartbeatMs);
    this.heartbeat.unref();
  }

  async release(): Promise<void> {
    if (this.released) return;
    this.released = true;
    clearInterval(this.heartbeat);
    this.onEnd();
    // Ending the session releases the lock; unlocking first just makes it immediate.
    await this.client.query(`SELECT pg_advisory_unlock_all()`).catch(() => undefined);
    await this.client.end().catch(() => undefined);
  }
}
