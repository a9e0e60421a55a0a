/**
 * The behaviour every EventStore adapter must have, as one jest suite that each adapter's
 * integration spec runs against a real database.
 *
 * The file name ends in `.spec.ts` only so that the library build leaves it out (it uses jest
 * globals); jest's tier patterns (`*.unit|int|e2e.spec.ts`) do not pick it up as a test file.
 */
import { randomUUID } from 'node:crypto';
import type { EventStoreOptions, SqlEventStore } from './sql-event-store';
import { ConcurrencyError, START, type AllStreamPosition, type EventMetadata, type EventStore, type NewEvent, type RecordedEvent } from './types';
import { UpcasterRegistry } from './upcasters';

/** Returns a store on the suite's database (the same database on every call), not yet initialised. */
export type MakeEventStore = (options?: EventStoreOptions) => Promise<EventStore>;

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export function metadata(overrides: Partial<EventMetadata> = {}): EventMetadata {
  return {
    correlationId: 'corr-1',
    causationId: 'cause-1',
    userId: 'user-1',
    organizationId: 'org-1',
    time: '2024-05-01T12:00:00.000Z',
    ...overrides,
  };
}

export function newEvent(type = 'ThingHappened', data: unknown = { n: 1 }, schemaVersion = 1): NewEvent {
  return { eventId: randomUUID(), event: { type, schemaVersion, data }, metadata: metadata() };
}

/** A unique stream id per test, so tests can share one database. */
export const streamId = (prefix = 'thing') => `${prefix}-${randomUUID()}`;

function comparePositions(a: AllStreamPosition, b: AllStreamPosition): number {
  const ta = BigInt(a.transactionId);
  const tb = BigInt(b.transactionId);
  if (ta !== tb) return ta < tb ? -1 : 1;
  return a.globalPosition === b.globalPosition ? 0 : a.globalPosition < b.globalPosition ? -1 : 1;
}

/** Reads the all-stream from `from` to its current end, `pageSize` at a time. */
export async function readAllToEnd(store: EventStore, from: AllStreamPosition, pageSize = 1000): Promise<{ events: RecordedEvent[]; position: AllStreamPosition }> {
  const events: RecordedEvent[] = [];
  let position = from;
  for (;;) {
    const page = await store.readAll(position, pageSize);
    events.push(...page);
    if (page.length === 0) return { events, position };
    const last = page[page.length - 1];
    position = { transactionId: last.transactionId, globalPosition: last.globalPosition };
  }
}

export interface ContractOptions {
  /**
   * The adapter runs transactions concurrently (PostgreSQL; not PGlite, whose one connection
   * serializes them), so the race test must actually see commits out of txid order.
   */
  concurrentTransactions?: boolean;
}

export function describeEventStoreContract(name: string, makeStore: MakeEventStore, contractOptions: ContractOptions = {}): void {
  describe(`${name} (EventStore contract)`, () => {
    let store: EventStore;
    const opened: EventStore[] = [];
    const open = async (options?: EventStoreOptions) => {
      const s = await makeStore(options);
      opened.push(s);
      await s.init();
      return s;
    };

    beforeAll(async () => {
      store = await open();
    });
    afterAll(async () => {
      for (const s of opened.reverse()) await s.close();
    });

    it('init() is idempotent, also when run concurrently', async () => {
      const [a, b] = await Promise.all([makeStore(), makeStore()]);
      opened.push(a, b);
      await Promise.all([a.init(), b.init(), store.init()]);
      await store.init();
    });

    it('appends with the expected version, numbering events expectedVersion+1 …', async () => {
      const id = streamId();
      const first = [newEvent('Opened', { title: 'hello' }), newEvent('Renamed', { title: 'hi', tags: ['a'], nested: { ok: true } })];
      const r1 = await store.append(id, 0, first);
      expect(r1.duplicate).toBe(false);
      expect(r1.nextVersion).toBe(2);
      expect(r1.events.map((e) => e.streamVersion)).toEqual([1, 2]);
      expect(r1.events.map((e) => e.eventId)).toEqual(first.map((e) => e.eventId));

      const r2 = await store.append(id, 2, [newEvent('Closed', null)]);
      expect(r2.nextVersion).toBe(3);
      expect(r2.events[0].streamVersion).toBe(3);

      const read = await store.readStream(id);
      expect(read.map((e) => [e.streamVersion, e.type])).toEqual([
        [1, 'Opened'],
        [2, 'Renamed'],
        [3, 'Closed'],
      ]);
      const [opened1, renamed, closed] = read;
      expect(renamed.data).toEqual({ title: 'hi', tags: ['a'], nested: { ok: true } });
      expect(closed.data).toBeNull();
      expect(opened1.metadata).toEqual(metadata());
      expect(opened1.schemaVersion).toBe(1);
      expect(opened1.streamId).toBe(id);
      expect(typeof opened1.globalPosition).toBe('bigint');
      expect(opened1.globalPosition < renamed.globalPosition).toBe(true);
      expect(opened1.transactionId).toMatch(/^\d+$/);
      expect(opened1.transactionId).toBe(renamed.transactionId); // one append, one transaction
      expect(opened1.createdAt).toBeInstanceOf(Date);
      expect(Math.abs(opened1.createdAt.getTime() - Date.now())).toBeLessThan(60_000);
      // What append returned is what is stored.
      expect(r1.events).toEqual(read.slice(0, 2));
    });

    it('rejects a stale (or future) expected version with ConcurrencyError and writes nothing', async () => {
      const id = streamId();
      await store.append(id, 0, [newEvent()]);

      const stale = await store.append(id, 0, [newEvent()]).catch((e: unknown) => e);
      expect(stale).toBeInstanceOf(ConcurrencyError);
      expect(stale).toMatchObject({ streamId: id, expectedVersion: 0, actualVersion: 1 });

      const ahead = await store.append(id, 5, [newEvent()]).catch((e: unknown) => e);
      expect(ahead).toBeInstanceOf(ConcurrencyError);
      expect(ahead).toMatchObject({ expectedVersion: 5, actualVersion: 1 });

      expect((await store.readStream(id)).length).toBe(1);
    });

    it('lets exactly one of several concurrent writers at the same version win', async () => {
      const id = streamId();
      const results = await Promise.allSettled(Array.from({ length: 5 }, () => store.append(id, 0, [newEvent(), newEvent()])));
      expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
      const rejected = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
      expect(rejected).toHaveLength(4);
      for (const r of rejected) expect(r.reason).toMatchObject({ name: 'ConcurrencyError', actualVersion: 2 });
      expect((await store.readStream(id)).map((e) => e.streamVersion)).toEqual([1, 2]);
    });

    it('treats a re-append of the same event ids at the same versions as an idempotent success', async () => {
      const id = streamId();
      const batch = [newEvent('A'), newEvent('B')];
      const original = await store.append(id, 0, batch);

      const hook = jest.fn(async () => undefined);
      const retry = await store.append(id, 0, batch, { inTransaction: hook });
      expect(retry.duplicate).toBe(true);
      expect(retry.nextVersion).toBe(2);
      expect(retry.events).toEqual(original.events);
      expect(hook).not.toHaveBeenCalled();

      // Still a retry after the stream has moved on.
      await store.append(id, 2, [newEvent('C')]);
      const lateRetry = await store.append(id, 0, batch);
      expect(lateRetry.duplicate).toBe(true);
      expect(lateRetry.events.map((e) => e.eventId)).toEqual(batch.map((e) => e.eventId));
      expect((await store.readStream(id)).map((e) => e.type)).toEqual(['A', 'B', 'C']);
    });

    it('treats a partial overlap with stored event ids as a conflict', async () => {
      const id = streamId();
      const [a, b] = [newEvent('A'), newEvent('B')];
      await store.append(id, 0, [a, b]);

      // a is stored, the new event is not.
      await expect(store.append(id, 0, [a, newEvent('X')])).rejects.toBeInstanceOf(ConcurrencyError);
      // b is stored, but at version 2, not at the 1 this batch would give it.
      await expect(store.append(id, 0, [b, a])).rejects.toBeInstanceOf(ConcurrencyError);
      // the ids exist, in another stream.
      await expect(store.append(streamId(), 0, [a, b])).rejects.toBeInstanceOf(ConcurrencyError);
      expect((await store.readStream(id)).map((e) => e.type)).toEqual(['A', 'B']);
    });

    it('reads a stream from a given version', async () => {
      const id = streamId();
      await store.append(id, 0, [newEvent('1'), newEvent('2'), newEvent('3'), newEvent('4')]);
      expect((await store.readStream(id, 3)).map((e) => e.streamVersion)).toEqual([3, 4]);
      expect(await store.readStream(id, 5)).toEqual([]);
      expect(await store.readStream(streamId())).toEqual([]);
      expect((await store.readStream(id, 2, 2)).map((e) => e.streamVersion)).toEqual([2, 3]);
    });

    it('refuses an event larger than its bound, naming it, and writes nothing of the batch', async () => {
      const small = await open({ maxEventBytes: 2048 });
      const id = streamId();
      const big = newEvent('Big', { text: 'x'.repeat(4096) });
      const err = await small.append(id, 0, [newEvent('Fine'), big]).catch((e: unknown) => e);
      expect(err).toMatchObject({ code: 'PAYLOAD_TOO_LARGE', details: { bound: 'eventBytes', limit: 2048 } });
      expect((err as Error).message).toMatch(/Event Big .* bytes as JSON; the limit is 2048 bytes/);
      expect(await small.readStream(id)).toEqual([]);
    });

    it('reads the all-stream in commit order, page by page, from any position', async () => {
      const { position: before } = await readAllToEnd(store, START);
      const ids = [streamId('a'), streamId('b'), streamId('c')];
      const appended: string[] = [];
      for (let round = 0; round < 3; round++) {
        for (const id of ids) {
          const r = await store.append(id, round * 2, [newEvent(`T${round}`), newEvent(`U${round}`)]);
          appended.push(...r.events.map((e) => e.eventId));
        }
      }
      const { events } = await readAllToEnd(store, before, 4);
      expect(events.map((e) => e.eventId)).toEqual(appended);
      for (let i = 1; i < events.length; i++) expect(comparePositions(events[i - 1], events[i])).toBe(-1);

      // Resuming from the middle returns the rest.
      const middle = events[6];
      const rest = await store.readAll(middle, 100);
      expect(rest.map((e) => e.eventId)).toEqual(appended.slice(7));
    });

    it('orders the all-stream numerically where positions gain a digit', async () => {
      // Move the identity just below a power of ten, so one append spans e.g. 9998 … 10002.
      const { position: before } = await readAllToEnd(store, START);
      const next = before.globalPosition + 1n;
      let power = 10n;
      while (power < next + 3n) power *= 10n;
      await store.transaction((sql) => sql.query(`ALTER TABLE events ALTER COLUMN global_position RESTART WITH ${power - 3n}`));
      const id = streamId();
      const r = await store.append(id, 0, Array.from({ length: 6 }, () => newEvent()));
      expect(r.events.map((e) => e.globalPosition)).toEqual([-3n, -2n, -1n, 0n, 1n, 2n].map((d) => power + d));
      const { events } = await readAllToEnd(store, before, 4);
      expect(events.map((e) => e.streamVersion)).toEqual([1, 2, 3, 4, 5, 6]);
      expect((await store.readStream(id)).map((e) => e.globalPosition)).toEqual(r.events.map((e) => e.globalPosition));
    });

    it('runs the inTransaction hook in the append transaction', async () => {
      const id = streamId();
      let seen: { count: number; xid: string } | undefined;
      const r = await store.append(id, 0, [newEvent(), newEvent()], {
        inTransaction: async (sql, recorded) => {
          const { rows } = await sql.query<{ count: number; xid: string }>(
            `SELECT count(*)::int AS count, pg_current_xact_id()::text AS xid FROM events WHERE stream_id = $1`,
            [id],
          );
          seen = rows[0];
          expect(recorded.map((e) => e.streamVersion)).toEqual([1, 2]);
          // A projection's checkpoint can be saved atomically with the events.
          await store.saveCheckpoint!(`hook:${id}`, recorded[1], sql);
        },
      });
      expect(seen).toEqual({ count: 2, xid: r.events[0].transactionId });
      expect(await store.loadCheckpoint!(`hook:${id}`)).toEqual({ transactionId: r.events[1].transactionId, globalPosition: r.events[1].globalPosition });
    });

    it('writes nothing when the inTransaction hook throws', async () => {
      const id = streamId();
      const failure = new Error('projection failed');
      await expect(
        store.append(id, 0, [newEvent()], {
          inTransaction: async (sql, recorded) => {
            await store.saveCheckpoint!(`hook:${id}`, recorded[0], sql);
            throw failure;
          },
        }),
      ).rejects.toBe(failure);
      expect(await store.readStream(id)).toEqual([]);
      expect(await store.loadCheckpoint!(`hook:${id}`)).toEqual(START);
      // The version was not taken either.
      expect((await store.append(id, 0, [newEvent()])).nextVersion).toBe(1);
    });

    it('does not mistake a unique violation raised by the hook for a concurrency conflict', async () => {
      const id = streamId();
      const error = await store
        .append(id, 0, [newEvent()], {
          inTransaction: async (sql) => {
            await sql.query(`INSERT INTO checkpoints (name, transaction_id, global_position) VALUES ('dup', '1', 1), ('dup', '1', 1)`);
          },
        })
        .catch((e: unknown) => e);
      expect(error).not.toBeInstanceOf(ConcurrencyError);
      expect(error).toMatchObject({ code: '23505' });
      expect(await store.readStream(id)).toEqual([]);
    });

    it('commits concurrent appends in groups, fewer transactions than appends, each append with its own version check and hook', async () => {
      const sql = store as unknown as SqlEventStore;
      const before = sql.groupCommits;
      const fine = Array.from({ length: 20 }, () => streamId('group'));
      const seen: string[] = [];
      const results = await Promise.all(fine.map((id) => store.append(id, 0, [newEvent(), newEvent()], { inTransaction: async (_sql, recorded) => void seen.push(recorded[0].streamId) })));
      expect(results.map((r) => r.nextVersion)).toEqual(fine.map(() => 2));
      for (const id of fine) expect((await store.readStream(id)).map((e) => e.streamVersion)).toEqual([1, 2]);
      expect(new Set(seen)).toEqual(new Set(fine));
      const after = sql.groupCommits;
      expect(after.groups - before.groups).toBeGreaterThan(0);
      expect(after.grouped - before.grouped).toBeGreaterThan(after.groups - before.groups);
    });

    it('gives each append of a group its own outcome: a stale one, a failing hook, a retry and a race fail or answer alone while the rest commit', async () => {
      const fine = Array.from({ length: 10 }, () => streamId('group'));
      const stale = streamId('group');
      await store.append(stale, 0, [newEvent()]);
      const retried = streamId('group');
      const retriedBatch = [newEvent('R')];
      await store.append(retried, 0, retriedBatch);
      const raced = streamId('group');
      const failure = new Error('this projection failed');
      const hookFailed = streamId('group');

      const [results, staleResult, retryResult, raceResults, hookResult] = await Promise.all([
        Promise.all(fine.map((id) => store.append(id, 0, [newEvent()]))),
        store.append(stale, 0, [newEvent()]).catch((e: unknown) => e),
        store.append(retried, 0, retriedBatch),
        Promise.allSettled([store.append(raced, 0, [newEvent()]), store.append(raced, 0, [newEvent()])]),
        store.append(hookFailed, 0, [newEvent()], { inTransaction: async () => Promise.reject(failure) }).catch((e: unknown) => e),
      ]);

      expect(results.map((r) => r.nextVersion)).toEqual(fine.map(() => 1));
      for (const id of fine) expect((await store.readStream(id)).length).toBe(1);
      expect(staleResult).toBeInstanceOf(ConcurrencyError);
      expect(staleResult).toMatchObject({ expectedVersion: 0, actualVersion: 1 });
      expect(retryResult).toMatchObject({ duplicate: true, nextVersion: 1 });
      expect(raceResults.map((r) => r.status).sort()).toEqual(['fulfilled', 'rejected']);
      expect(raceResults.find((r): r is PromiseRejectedResult => r.status === 'rejected')?.reason).toBeInstanceOf(ConcurrencyError);
      expect((await store.readStream(raced)).length).toBe(1);
      expect(hookResult).toBe(failure);
      expect(await store.readStream(hookFailed)).toEqual([]);
    });

    it('saves and loads checkpoints, inside a transaction or not', async () => {
      const name = `cp-${randomUUID()}`;
      expect(await store.loadCheckpoint!(name)).toEqual(START);
      const position = { transactionId: '12345678901', globalPosition: 9_007_199_254_740_993n };
      await store.saveCheckpoint!(name, position);
      expect(await store.loadCheckpoint!(name)).toEqual(position);

      await expect(
        store.transaction(async (sql) => {
          await store.saveCheckpoint!(name, { transactionId: '1', globalPosition: 1n }, sql);
          expect(await store.loadCheckpoint!(name, sql)).toEqual({ transactionId: '1', globalPosition: 1n });
          throw new Error('rollback');
        }),
      ).rejects.toThrow('rollback');
      expect(await store.loadCheckpoint!(name)).toEqual(position);
    });

    it('applies upcasters on every read', async () => {
      const upcasters = new UpcasterRegistry([
        { type: 'Greeted', fromSchemaVersion: 1, upcast: (data) => ({ schemaVersion: 2, data: { text: (data as { greeting: string }).greeting } }) },
        { type: 'Greeted', fromSchemaVersion: 2, upcast: (data, meta) => ({ schemaVersion: 3, data: { ...(data as object), by: meta.userId } }) },
      ]);
      const upcasting = await open({ upcasters });
      const { position: before } = await readAllToEnd(store, START);
      const id = streamId();
      const old = newEvent('Greeted', { greeting: 'hello' }, 1);
      const other = newEvent('Waved', { greeting: 'untouched' }, 1);
      const written = await store.append(id, 0, [old, other]);
      expect(written.events[0]).toMatchObject({ schemaVersion: 1, data: { greeting: 'hello' } });

      const expected = { schemaVersion: 3, data: { text: 'hello', by: 'user-1' } };
      expect((await upcasting.readStream(id))[0]).toMatchObject(expected);
      expect((await upcasting.readStream(id))[1]).toMatchObject({ schemaVersion: 1, data: { greeting: 'untouched' } });
      const all = (await readAllToEnd(upcasting, before)).events.filter((e) => e.streamId === id);
      expect(all[0]).toMatchObject(expected);
      const retry = await upcasting.append(id, 0, [old, other]);
      expect(retry.duplicate).toBe(true);
      expect(retry.events[0]).toMatchObject(expected);
      // Stored as written.
      expect((await store.readStream(id))[0]).toMatchObject({ schemaVersion: 1, data: { greeting: 'hello' } });
    });

    it('skips no event when concurrent transactions commit out of order', async () => {
      const prefix = `race-${randomUUID()}`;
      const streams = Array.from({ length: 8 }, (_, i) => `${prefix}-${i}`);
      const { position: start } = await readAllToEnd(store, START);

      // The reader polls and checkpoints continuously, like the relay and projections do. It
      // stops once it has seen as many events as were written (or after a deadline), not on the
      // first empty page: an unrelated transaction (auto-analyze, say) can hide new events briefly.
      const seen: RecordedEvent[] = [];
      const backwards: string[] = [];
      const written: string[] = [];
      let position = start;
      let writing = true;
      const reader = (async () => {
        let writersDoneAt = Infinity;
        const deadline = () => Date.now() > writersDoneAt + 10_000;
        for (;;) {
          const page = await store.readAll(position, 7);
          for (const e of page) if (e.streamId.startsWith(prefix)) seen.push(e);
          if (page.length > 0) {
            const last = page[page.length - 1];
            if (comparePositions(position, last) >= 0) backwards.push(`${last.transactionId}/${last.globalPosition}`);
            position = { transactionId: last.transactionId, globalPosition: last.globalPosition };
            await store.saveCheckpoint!(`reader:${prefix}`, position);
            continue;
          }
          if (!writing) {
            writersDoneAt = Math.min(writersDoneAt, Date.now());
            if (seen.length >= written.length || deadline()) return;
          }
          await sleep(2);
        }
      })();

      // Each writer appends one event per round to its stream and holds its transaction open
      // for a random time after the insert, so transactions commit in a different order than
      // they got their ids (and their global positions).
      const rounds = 6;
      await Promise.all(
        streams.map(async (id) => {
          for (let version = 0; version < rounds; version++) {
            const r = await store.append(id, version, [newEvent('Raced', { version })], {
              inTransaction: () => sleep(Math.floor(Math.random() * 25)),
            });
            written.push(r.events[0].eventId);
          }
        }),
      );
      writing = false;
      await reader;

      expect(backwards).toEqual([]);
      const ids = seen.map((e) => e.eventId);
      expect(new Set(ids).size).toBe(ids.length); // nothing twice
      expect(ids.sort()).toEqual([...written].sort()); // nothing missing
      for (const id of streams) {
        expect(seen.filter((e) => e.streamId === id).map((e) => e.streamVersion)).toEqual([1, 2, 3, 4, 5, 6]);
      }
      expect(await store.loadCheckpoint!(`reader:${prefix}`)).toEqual(position);

      if (contractOptions.concurrentTransactions) {
        // `written` is in commit (resolve) order; the race happened if that differs from txid order.
        const txid = new Map(seen.map((e) => [e.eventId, BigInt(e.transactionId)]));
        const commitOrder = written.map((id) => txid.get(id)!);
        expect(commitOrder.some((t, i) => i > 0 && t < commitOrder[i - 1])).toBe(true);
      }
    });
  });
}
