/**
 * The behaviour every BlobStore adapter must have, as one jest suite that each adapter's
 * integration spec runs against a real store (a directory; an S3-protocol server).
 *
 * The file name ends in `.spec.ts` only so that the library build leaves it out (it uses jest
 * globals); jest's tier patterns (`*.unit|int|e2e.spec.ts`) do not pick it up as a test file.
 */
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { Readable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import type { BlobStore, ListedBlob } from './blob-store';
import { sweepOrphanBlobs } from './sweeper';

const MiB = 1024 * 1024;

/** `total` bytes of a fixed pattern, made as they are read: a source that is never whole in memory. */
export function generated(total: number, chunk = 64 * 1024): Readable {
  const block = Buffer.alloc(chunk, 'parley-');
  let sent = 0;
  return new Readable({
    read() {
      if (sent >= total) return void this.push(null);
      const n = Math.min(chunk, total - sent);
      sent += n;
      this.push(n === chunk ? block : block.subarray(0, n));
    },
  });
}

/** A source that fails after `after` bytes (a client whose connection broke). */
function broken(after: number): Readable {
  let sent = false;
  return new Readable({
    read() {
      if (!sent) {
        sent = true;
        this.push(Buffer.alloc(after, 1));
      } else this.destroy(new Error('the client went away'));
    },
  });
}

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

async function listAll(store: BlobStore, prefix: string): Promise<ListedBlob[]> {
  const out: ListedBlob[] = [];
  for await (const b of store.list(prefix)) out.push(b);
  return out.sort((a, b) => a.key.localeCompare(b.key));
}

export function blobStoreContract(name: string, store: () => BlobStore): void {
  describe(`${name}: the BlobStore contract`, () => {
    const prefix = () => `t-${randomUUID()}`;

    it('keeps what it is given and answers its size and SHA-256; reads it back whole and by range', async () => {
      const bytes = randomBytes(300_000);
      const key = `${prefix()}/a/image.png`;
      expect(await store().put(key, Readable.from([bytes.subarray(0, 1000), bytes.subarray(1000)]), { maxBytes: 1 * MiB, contentType: 'image/png' })).toEqual({
        size: bytes.length,
        sha256: sha256(bytes),
      });
      expect(await store().head(key)).toEqual({ size: bytes.length });
      const whole = await store().get(key);
      expect(whole.size).toBe(bytes.length);
      expect((await buffer(whole.body)).equals(bytes)).toBe(true);
      const part = await store().get(key, { start: 10, end: 99 });
      expect(part.size).toBe(bytes.length);
      expect((await buffer(part.body)).equals(bytes.subarray(10, 100))).toBe(true);
    });

    it('replaces a blob written again under its key; an empty one is a blob too', async () => {
      const key = `${prefix()}/x`;
      await store().put(key, Readable.from([Buffer.from('first')]), { maxBytes: 100 });
      await store().put(key, Readable.from([Buffer.from('second!')]), { maxBytes: 100 });
      expect((await buffer((await store().get(key)).body)).toString()).toBe('second!');
      const empty = `${prefix()}/empty`;
      expect(await store().put(empty, Readable.from([]), { maxBytes: 100 })).toEqual({ size: 0, sha256: sha256(Buffer.alloc(0)) });
      expect(await store().head(empty)).toEqual({ size: 0 });
    });

    it('refuses a blob past its limit with 413 naming it, and keeps nothing of it', async () => {
      const p = prefix();
      await expect(store().put(`${p}/big`, generated(6 * MiB + 1), { maxBytes: 6 * MiB })).rejects.toMatchObject({ code: 'PAYLOAD_TOO_LARGE', details: { limit: 6 * MiB } });
      expect(await store().head(`${p}/big`)).toBeUndefined();
      expect(await store().put(`${p}/exact`, generated(6 * MiB), { maxBytes: 6 * MiB })).toMatchObject({ size: 6 * MiB });
      expect(await listAll(store(), p)).toEqual([expect.objectContaining({ key: `${p}/exact`, size: 6 * MiB })]);
    });

    it('keeps nothing of an upload whose source breaks', async () => {
      const p = prefix();
      await expect(store().put(`${p}/cut`, broken(7 * MiB), { maxBytes: 100 * MiB })).rejects.toThrow(/went away/);
      expect(await store().head(`${p}/cut`)).toBeUndefined();
      expect(await listAll(store(), p)).toEqual([]);
    });

    it('answers a blob that is not there: get is NOT_FOUND, head undefined, delete no error', async () => {
      const key = `${prefix()}/nothing`;
      await expect(store().get(key)).rejects.toMatchObject({ code: 'NOT_FOUND' });
      expect(await store().head(key)).toBeUndefined();
      await store().delete(key);
      await store().put(key, Readable.from([Buffer.from('x')]), { maxBytes: 10 });
      await store().delete(key);
      await store().delete(key);
      expect(await store().head(key)).toBeUndefined();
    });

    it('lists the blobs under a prefix (every level), with their sizes and times, and only those', async () => {
      const p = prefix();
      const before = Date.now() - 60_000;
      for (const k of ['a', 'b/c', 'b/d/e']) await store().put(`${p}/${k}`, Readable.from([Buffer.from(k)]), { maxBytes: 10 });
      await store().put(`${p}x/other`, Readable.from([Buffer.from('no')]), { maxBytes: 10 });
      const listed = await listAll(store(), p);
      expect(listed.map((b) => [b.key, b.size])).toEqual([
        [`${p}/a`, 1],
        [`${p}/b/c`, 3],
        [`${p}/b/d/e`, 5],
      ]);
      for (const b of listed) expect(b.modifiedAt.getTime()).toBeGreaterThan(before);
      expect(await listAll(store(), `${p}/b/d`)).toEqual([expect.objectContaining({ key: `${p}/b/d/e` })]);
      expect((await listAll(store(), '')).map((b) => b.key)).toEqual(expect.arrayContaining([`${p}/a`, `${p}x/other`]));
    });

    it('sweeps the blobs no event points to once they are old enough, and only those', async () => {
      const p = prefix();
      for (const k of ['kept', 'orphan-1', 'orphan-2', 'orphan-3']) await store().put(`${p}/${k}`, Readable.from([Buffer.from(k)]), { maxBytes: 10 });
      const referenced = async (key: string) => key.endsWith('/kept');
      // Too young to judge: nothing goes.
      expect(await sweepOrphanBlobs(store(), { prefix: p, writtenBefore: new Date(Date.now() - 60_000), isReferenced: referenced, limit: 10 })).toEqual([]);
      const later = new Date(Date.now() + 60_000);
      const first = await sweepOrphanBlobs(store(), { prefix: p, writtenBefore: later, isReferenced: referenced, limit: 2 });
      expect(first).toHaveLength(2);
      const second = await sweepOrphanBlobs(store(), { prefix: p, writtenBefore: later, isReferenced: referenced, limit: 2 });
      expect([...first, ...second].sort()).toEqual([`${p}/orphan-1`, `${p}/orphan-2`, `${p}/orphan-3`]);
      expect((await listAll(store(), p)).map((b) => b.key)).toEqual([`${p}/kept`]);
    });

    it('refuses a key that could leave its place', async () => {
      for (const key of ['', '../etc/passwd', 'a/../b', '.hidden', 'a//b', 'a/', 'a b', 'a\\b']) {
        await expect(store().put(key, Readable.from([Buffer.from('x')]), { maxBytes: 10 })).rejects.toThrow(/is not 1 to 8 segments/);
      }
    });

    // The process's RSS at its peak, against the blob's size: a store that held the blob whole would
    // grow by 256 MiB or more; streaming, it grows by what the chunks in flight and the garbage not
    // yet collected take (some 40 MiB on both adapters here).
    it('streams: 256 MiB in and out while the process grows by less than 96 MiB', async () => {
      const key = `${prefix()}/large`;
      const start = process.memoryUsage().rss;
      let peak = start;
      const sample = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 10);
      try {
        expect(await store().put(key, generated(256 * MiB), { maxBytes: 300 * MiB })).toMatchObject({ size: 256 * MiB });
        let read = 0;
        for await (const chunk of (await store().get(key)).body) read += (chunk as Buffer).length;
        expect(read).toBe(256 * MiB);
      } finally {
        clearInterval(sample);
      }
      const growthMiB = Math.round((peak - start) / MiB);
      expect({ growthMiB, underLimit: growthMiB < 96 }).toEqual({ growthMiB, underLimit: true });
      await store().delete(key);
    }, 120_000);
  });
}
