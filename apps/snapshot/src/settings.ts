import type { Kit } from '@parley/service-kit';
import { int } from '@parley/service-kit';
import { storageSettings } from '@parley/storage';

/** The snapshot service's own settings (the platform's come with the kit). */
export const snapshotSettings = {
  cacheSize: int('SNAPSHOT_CACHE_SIZE', 10_000, 'snapshots, camera requests, file transfers and assets whose state is kept in memory between commands'),
  quotaStoredBytes: int('QUOTA_ORGANIZATION_STORED_BYTES', 10 * 1024 ** 3, 'bytes of files (snapshots, file transfers, assets) one organization may keep; an upload past it is 429', { min: 1 }),
  presenceTimeoutMs: int('PRESENCE_TIMEOUT_MS', 5000, 'upper bound on a question to the presence service (who registered an endpoint)'),
  ...storageSettings,
  sweepIntervalMs: int('BLOB_SWEEP_INTERVAL_MS', 10 * 60_000, 'how often the sweeper looks for blobs no snapshot, file transfer or asset names', { min: 1000 }),
  sweepAgeMs: int('BLOB_SWEEP_AGE_MS', 60 * 60_000, 'how old a blob no event names must be before the sweeper removes it (an upload whose command is on its way is younger)', { min: 1000 }),
};

export type SnapshotKit = Kit<typeof snapshotSettings>;
