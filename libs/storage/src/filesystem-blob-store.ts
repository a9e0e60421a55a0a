import { randomUUID } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, readdir, rename, rm, stat } from 'node:fs/promises';
import { dirname, join, relative, sep } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { type BlobContent, type BlobStore, type ByteRange, type ListedBlob, MeteredStream, type PutOptions, type StoredBlob, blobNotFound, checkKey } from './blob-store';

/** Where a write goes until it is whole: a directory no key can name (keys never start with '.'). */
const INCOMING = '.incoming';

const isMissing = (e: unknown) => (e as NodeJS.ErrnoException).code === 'ENOENT';

/**
 * Blobs as files under `root` (the embedded default: `DATA_DIR/blobs`), one file per key. A write
 * goes to `root/.incoming/` and is renamed into place once whole, so a reader never sees half a
 * blob and a refused or broken upload leaves nothing under its key.
 */
export class FileSystemBlobStore implements BlobStore {
  readonly kind = 'filesystem';

  constructor(private readonly root: string) {}

  private pathOf(key: string): string {
    return join(this.root, ...checkKey(key).split('/'));
  }

  async put(key: string, body: Readable, options: PutOptions): Promise<StoredBlob> {
    const path = this.pathOf(key);
    const incoming = join(this.root, INCOMING, randomUUID());
    await mkdir(dirname(incoming), { recursive: true });
    const meter = new MeteredStream(options.maxBytes);
    try {
      await pipeline(body, meter, createWriteStream(incoming, { flags: 'wx' }));
      await mkdir(dirname(path), { recursive: true });
      await rename(incoming, path);
    } catch (e) {
      await rm(incoming, { force: true });
      throw e;
    }
    return meter.stored();
  }

  async get(key: string, range?: ByteRange): Promise<BlobContent> {
    const path = this.pathOf(key);
    const size = (await this.head(key))?.size;
    if (size === undefined) throw blobNotFound(key);
    return { body: createReadStream(path, range ? { start: range.start, end: range.end } : {}), size };
  }

  async head(key: string): Promise<{ size: number } | undefined> {
    try {
      const s = await stat(this.pathOf(key));
      return s.isFile() ? { size: s.size } : undefined;
    } catch (e) {
      if (isMissing(e)) return undefined;
      throw e;
    }
  }

  async delete(key: string): Promise<void> {
    await rm(this.pathOf(key), { force: true });
  }

  async *list(prefix: string): AsyncIterable<ListedBlob> {
    const start = prefix === '' ? this.root : join(this.root, ...checkKey(prefix).split('/'));
    let entries;
    try {
      entries = await readdir(start, { recursive: true, withFileTypes: true });
    } catch (e) {
      if (isMissing(e)) return;
      throw e;
    }
    for (const entry of entries) {
      const path = join(entry.parentPath, entry.name);
      if (!entry.isFile() || relative(this.root, path).startsWith(INCOMING)) continue;
      const s = await stat(path).catch((e: unknown) => (isMissing(e) ? undefined : Promise.reject(e)));
      if (s) yield { key: relative(this.root, path).split(sep).join('/'), size: s.size, modifiedAt: s.mtime };
    }
  }

  close(): void {
    // Nothing is held open between calls.
  }
}
