import { type BlobStore, isBlobKey } from './blob-store';

export interface SweepOptions {
  /** Where to look ('' for everywhere). */
  prefix: string;
  /** Blobs written before this instant are old enough to judge: a younger one may be an upload whose event is being appended. */
  writtenBefore: Date;
  /** Whether an event points to the blob (the owning service's read model answers). */
  isReferenced(key: string): Promise<boolean>;
  /** The most it removes in one sweep (the rest wait for the next). */
  limit: number;
}

/**
 * Removes the blobs no event points to: a blob is written before the event that names it is
 * appended, so a crash (or a refused command) in between leaves one behind. Only blobs older than
 * `writtenBefore` are judged, so an upload whose event is on its way is never taken. Answers the
 * keys it removed.
 */
export async function sweepOrphanBlobs(store: BlobStore, o: SweepOptions): Promise<string[]> {
  const removed: string[] = [];
  for await (const blob of store.list(o.prefix)) {
    if (removed.length >= o.limit) break;
    // A key Parley cannot have made is not Parley's to judge (nor to delete: checkKey refuses it).
    if (!isBlobKey(blob.key) || blob.modifiedAt >= o.writtenBefore || (await o.isReferenced(blob.key))) continue;
    await store.delete(blob.key);
    removed.push(blob.key);
  }
  return removed;
}
