import { randomUUID } from 'node:crypto';
import { startPostgres, waitFor, type PostgresHandle } from '@parley/testing';
import { Client, Pool } from 'pg';
import { describeEventStoreContract, newEvent, readAllToEnd, streamId } from './event-store.contract.spec';
import { PostgresEventStore } from './postgres-event-store';
import { START, type Leadership } from './types';

// jest 29 does not apply the int project's testTimeout, so set it here.
jest.setTimeout(30_000);

let pg: PostgresHandle;
let url: string;
beforeAll(async () => {
  pg = await startPostgres();
  url = await pg.createDatabase();
});
afterAll(async () => {
  await pg?.stop();
});

describeEventStoreContract('PostgresEventStore', async (options) => new PostgresEventStore(url, options), { concurrentTransactions: true });

describe('PostgresEventStore', () => {
  const stores: PostgresEventStore[] = [];
  const clients: Client[] = [];
  const open = async (connection: string | Pool = url) => {
    const store = new PostgresEventStore(connection, { leadershipHeartbeatMs: 200 });
    stores.push(store);
    await store.init();
    return store;
  };
  const connect = async (connection = url) => {
    const client = new Client({ connectionString: connection });
    client.on('error', () => undefined);
    clients.push(client);
    await client.connect();
    return client;
  };
  afterEach(async () => {
    await Promise.all(stores.splice(0).map((s) => s.close()));
    await Promise.all(clients.splice(0).map((c) => c.end().catch(() => undefined)));
  });

  it('creates the schema once when several processes start at the same time', async () => {
    const fresh = await pg.createDatabase();
    const racing = Array.from({ length: 6 }, () => new PostgresEventStore(fresh));
    stores.push(...racing);
    await Promise.all(racing.map((s) => s.init()));
    const r = await racing[0].append(streamId(), 0, [newEvent()]);
    expect(r.nextVersion).toBe(1);
  });

  it('works on an existing pool and leaves it open on close()', async () => {
    const pool = new Pool({ connectionString: url });
    try {
      const store = new PostgresEventStore(pool);
      await store.init();
      const id = streamId();
      await store.append(id, 0, [newEvent()]);
      await store.close();
      expect((await pool.query('SELECT count(*)::int AS n FROM events WHERE stream_id = $1', [id])).rows[0].n).toBe(1);
    } finally {
      await pool.end();
    }
  });

  it('holds back a later transaction until an earlier one (lower txid) commits, then returns both in txid order', async () => {
    const store = await open();
    const { position: before } = await readAllToEnd(store, START);
    const [first, second] = [streamId('t1'), streamId('t2')];

    let inserted!: () => void;
    const t1Inserted = new Promise<void>((resolve) => (inserted = resolve));
    let commit!: () => void;
    const t1MayCommit = new Promise<void>((resolve) => (commit = resolve));
    // T1 inserts (taking its txid) and then stays open.
    const t1 = store.append(first, 0, [newEvent('First')], {
      inTransaction: async () => {
        inserted();
        await t1MayCommit;
      },
    });
    await t1Inserted;
    // T2 starts later, so it gets a higher txid, and commits first.
    const t2 = await store.append(second, 0, [newEvent('Second')]);

    const whileT1Open = await store.readAll(before, 100);
    expect(whileT1Open.filter((e) => e.streamId === first || e.streamId === second)).toEqual([]);

    commit();
    const t1Result = await t1;
    expect(BigInt(t1Result.events[0].transactionId)).toBeLessThan(BigInt(t2.events[0].transactionId));
    const after = (await readAllToEnd(store, before)).events.filter((e) => e.streamId === first || e.streamId === second);
    expect(after.map((e) => e.type)).toEqual(['First', 'Second']);
  });

  it('returns an event with a higher global position first when its transaction started first', async () => {
    const store = await open();
    const { position: before } = await readAllToEnd(store, START);
    const [early, late] = [streamId('early'), streamId('late')];

    // T1 takes its txid before T2 exists but inserts only after T2 committed: its event gets the
    // higher global_position and the lower txid. A reader ordering by global_position would have
    // checkpointed past it.
    const t1 = await connect();
    await t1.query('BEGIN');
    await t1.query('SELECT pg_current_xact_id()');
    const t2 = await store.append(late, 0, [newEvent('Late')]);
    expect((await store.readAll(before, 100)).filter((e) => e.streamId === late)).toEqual([]);
    await t1.query(
      `INSERT INTO events (stream_id, stream_version, event_id, type, schema_version, data, metadata)
       VALUES ($1, 1, $2, 'Early', 1, '{}', '{}')`,
      [early, randomUUID()],
    );
    await t1.query('COMMIT');

    const events = (await readAllToEnd(store, before)).events.filter((e) => e.streamId === early || e.streamId === late);
    expect(events.map((e) => e.type)).toEqual(['Early', 'Late']);
    expect(events[0].globalPosition).toBeGreaterThan(t2.events[0].globalPosition);
  });

  describe('leadership', () => {
    const LOCK_HOLDER = `SELECT l.pid FROM pg_locks l JOIN pg_database d ON d.oid = l.database
      WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 2 AND d.datname = current_database() AND l.objid = hashtext($1)::oid`;

    it('is exclusive per name across stores on the same database, until released', async () => {
      const [a, b] = [await open(), await open()];
      const held = await a.acquireLeadership('relay:conference');
      expect(held).not.toBeNull();
      expect(await b.acquireLeadership('relay:conference')).toBeNull();
      expect(await a.acquireLeadership('relay:conference')).toBeNull(); // not re-entrant either
      const other = await b.acquireLeadership('relay:presence');
      expect(other).not.toBeNull();

      await held!.release();
      await held!.release(); // idempotent
      expect(await b.acquireLeadership('relay:conference')).not.toBeNull();
    });

    it('is freed when the holding connection dies, and the holder learns it through `lost`', async () => {
      const [a, b] = [await open(), await open()];
      const held = (await a.acquireLeadership('relay:media')) as Leadership;
      expect(held).not.toBeNull();
      let lost = false;
      void held.lost.then(() => (lost = true));

      const admin = await connect();
      const { rows } = await admin.query<{ pid: number }>(LOCK_HOLDER, ['relay:media']);
      expect(rows).toHaveLength(1);
      await admin.query('SELECT pg_terminate_backend($1)', [rows[0].pid]);

      await held.lost;
      expect(lost).toBe(true);
      const next = await waitFor(() => b.acquireLeadership('relay:media'), { description: 'the freed leadership' });
      expect(next).not.toBeNull();
      await held.release(); // harmless after the loss
    });

    it('is released by close()', async () => {
      const [a, b] = [await open(), await open()];
      expect(await a.acquireLeadership('relay:snapshot')).not.toBeNull();
      await a.close();
      expect(await b.acquireLeadership('relay:snapshot')).not.toBeNull();
    });
  });
});
