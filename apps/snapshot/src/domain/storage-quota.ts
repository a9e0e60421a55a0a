import { QUOTA_RETRY_AFTER_SECONDS, quotaExceeded } from '@parley/contracts';

/**
 * Whether an organization that keeps `stored` bytes of files may store `adding` more under its
 * quota (QUOTA_ORGANIZATION_STORED_BYTES); `adding` 0 asks whether any room is left at all (the
 * question before an upload, whose size is not known yet). Refused: 429 naming the quota.
 */
export function checkStorageQuota(organizationId: string, stored: number, adding: number, quota: number): void {
  if (stored + adding <= quota && !(adding === 0 && stored >= quota)) return;
  throw quotaExceeded(
    `Organization ${organizationId} keeps ${stored} bytes of files${adding > 0 ? `, and this one is ${adding} more` : ''}: ${quota} is the most (delete assets, or discard snapshots, to make room)`,
    'organizationStoredBytes',
    quota,
    QUOTA_RETRY_AFTER_SECONDS,
  );
}
