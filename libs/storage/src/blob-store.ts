import { createHash } from 'node:crypto';
import { type Readable, Transform, type TransformCallback } from 'node:stream';
import { ParleyError } from '@parley/contracts';

/**
 * Where Parley keeps files (snapshots, file transfers, assets): a port with two adapters, the
 * filesystem (the embedded default) and S3 (any S3-compatible service). Blobs are bytes under a
 * key; what they are (type, name, owner) is in the events that point to them.
 *
 * Every write streams: a blob is never held whole in memory, and one past its limit is refused
 * with nothing stored. A blob is written before the event that points to it is appended, so a
 * crash in between leaves a blob without an event, which a sweeper finds by its age (`list`).
 */
export interface BlobStore {
  readonly kind: 'filesystem' | 's3';
  /** Streams `body` to `key` (replacing a blob there); 413 past `maxBytes`, with nothing stored. */
  put(key: string, body: Readable, options: PutOptions): Promise<StoredBlob>;
  /** The blob's bytes, all or `range` (inclusive, as HTTP's); NOT_FOUND when it is not there. */
  get(key: string, range?: ByteRange): Promise<BlobContent>;
  /** Its size, or undefined when it is not there. */
  head(key: string): Promise<{ size: number } | undefined>;
  /** Removes it; a key that is not there is no error. */
  delete(key: string): Promise<void>;
  /** Every blob under `prefix` (a key's first segments; '' for all), in no particular order. */
  list(prefix: string): AsyncIterable<ListedBlob>;
  /** Lets go of what it holds open (S3's connections); nothing to do for the filesystem. */
  close(): void;
}

export interface PutOptions {
  maxBytes: number;
  /** Recorded where the store keeps one (S3's Content-Type, used by presigned downloads). */
  contentType?: string;
}

export interface StoredBlob {
  size: number;
  /** SHA-256 of the bytes, hex. */
  sha256: string;
}

export interface ByteRange {
  start: number;
  /** Inclusive. */
  end: number;
}

export interface BlobContent {
  body: Readable;
  /** The whole blob's size (not the range's). */
  size: number;
}

export interface ListedBlob {
  key: string;
  size: number;
  modifiedAt: Date;
}

/** One segment of a key: letters, digits, '.', '-', '_', not starting with '.'. */
const SEGMENT = '[A-Za-z0-9_-][A-Za-z0-9._-]{0,127}';
const KEY = new RegExp(`^${SEGMENT}(?:/${SEGMENT}){0,7}$`);

/** Whether a key is one Parley could have made (see checkKey). */
export const isBlobKey = (key: string): boolean => KEY.test(key);

/** Refuses a key no adapter could keep safely (a path that leaves the root, a character S3 or a file system reads otherwise). */
export function checkKey(key: string): string {
  if (!isBlobKey(key)) throw new Error(`blob key ${JSON.stringify(key.slice(0, 80))} is not 1 to 8 segments of letters, digits, ".", "-", "_" (not starting with ".")`);
  return key;
}

export const blobNotFound = (key: string) => new ParleyError('NOT_FOUND', `Blob ${key} not found`);

/** The refusal of a blob past its limit: 413 naming the limit. */
export const blobTooLarge = (maxBytes: number) => new ParleyError('PAYLOAD_TOO_LARGE', `The file is larger than ${maxBytes} bytes, the most one may be`, { limit: maxBytes, bound: 'uploadBytes' });

/**
 * Passes the bytes through, counting and hashing them: fails with blobTooLarge as soon as more
 * than `maxBytes` went by (so the writer behind it stops and drops what it wrote).
 */
export class MeteredStream extends Transform {
  private bytes = 0;
  private readonly hash = createHash('sha256');

  constructor(private readonly maxBytes: number) {
    super();
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, done: TransformCallback): void {
    this.bytes += chunk.length;
    if (this.bytes > this.maxBytes) {
      done(blobTooLarge(this.maxBytes));
      return;
    }
    this.hash.update(chunk);
    done(null, chunk);
  }

  /** What went through; call once the stream has ended. */
  stored(): StoredBlob {
    return { size: this.bytes, sha256: this.hash.digest('hex') };
  }
}
