import { Inject, Injectable } from '@nestjs/common';
import { KIT, type Part } from '@parley/service-kit';
import { type BlobStore, sweepOrphanBlobs } from '@parley/storage';
import { blobReferenced } from './infra/views';
import type { SnapshotKit } from './settings';

export const BLOB_STORE = Symbol('BLOB_STORE');

/** At most this many blobs go in one pass (the rest wait for the next). */
const BATCH = 1000;

/**
 * Removes the blobs no live snapshot, file transfer or asset names, older than BLOB_SWEEP_AGE_MS:
 * an upload whose command was refused after its bytes were stored and the gateway could not delete
 * them (a crash, a lost answer), a discarded snapshot's image, a replaced or deleted asset's file.
 * Every BLOB_SWEEP_INTERVAL_MS; a pass already under way is joined, not doubled.
 */
@Injectable()
export class BlobSweeper implements Part {
  private timer?: NodeJS.Timeout;
  private running?: Promise<string[]>;

  constructor(
    @Inject(KIT) private readonly kit: SnapshotKit,
    @Inject(BLOB_STORE) private readonly blobs: BlobStore,
  ) {}

  start(): this {
    this.timer = setInterval(() => void this.sweep(), this.kit.settings.sweepIntervalMs);
    return this;
  }

  /** One pass over the blobs older than `ageMs` (BLOB_SWEEP_AGE_MS); answers the keys it removed. */
  sweep(ageMs = this.kit.settings.sweepAgeMs): Promise<string[]> {
    this.running ??= sweepOrphanBlobs(this.blobs, {
      prefix: '',
      writtenBefore: new Date(this.kit.clock.now() - ageMs),
      isReferenced: (key) => blobReferenced(this.kit.store, key),
      limit: BATCH,
    })
      .then((removed) => {
        if (removed.length > 0) this.kit.log.info(`removed ${removed.length} blob(s) nothing names`);
        return removed;
      })
      .catch((err: unknown) => {
        this.kit.log.warn({ err }, 'the blob sweep failed; trying again later');
        return [];
      })
      .finally(() => (this.running = undefined));
    return this.running;
  }

  async close(): Promise<void> {
    clearInterval(this.timer);
    await this.running;
  }
}
