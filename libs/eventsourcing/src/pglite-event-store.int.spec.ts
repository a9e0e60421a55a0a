import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { PGlite } from '@electric-sql/pglite';
import { describeEventStoreContract, newEvent, streamId } from './event-store.contract.spec';
import { loadPglite } from './load-pglite';
import { PgliteEventStore } from './pglite-event-store';

// PGlite boots a WASM PostgreSQL (about a second), so the suite shares one instance.
jest.setTimeout(30_000);

let db: PGlite;
beforeAll(async () => {
  db = await loadPglite().PGlite.create('memory://');
});
afterAll(async () => {
  await db.close();
});

describeEventStoreContract('PgliteEventStore', async (options) => new PgliteEventStore(db, options));

describe('PgliteEventStore', () => {
  it('persists to a data directory and reopens it', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'parley-pglite-'));
    try {
      const id = streamId();
      const first = new PgliteEventStore(join(dir, 'data'));
      await first.init();
      await first.append(id, 0, [newEvent('Kept')]);
      await first.close();

      const second = new PgliteEventStore(join(dir, 'data'));
      await second.init();
      expect((await second.readStream(id)).map((e) => e.type)).toEqual(['Kept']);
      await second.close();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('grants a leadership once per database until it is released', async () => {
    const a = new PgliteEventStore(db);
    const b = new PgliteEventStore(db);
    const held = await a.acquireLeadership('relay:x');
    expect(held).not.toBeNull();
    expect(await a.acquireLeadership('relay:x')).toBeNull();
    expect(await b.acquireLeadership('relay:x')).toBeNull();
    const other = await b.acquireLeadership('relay:y');
    expect(other).not.toBeNull();

    await held!.release();
    await held!.release(); // idempotent
    const next = await b.acquireLeadership('relay:x');
    expect(next).not.toBeNull();

    // Closing the store ends its leaderships as a dead connection would.
    let lost = false;
    void next!.lost.then(() => (lost = true));
    await b.close();
    await Promise.resolve();
    expect(lost).toBe(true);
    expect(await a.acquireLeadership('relay:x')).not.toBeNull();
    await a.close();
    expect(db.closed).toBe(false); // the stores did not own the instance
  });
});
