import { type BlobQuery, type BlobRef, ParleyError, type RequestContext, type StoredFile, type UploadTarget, type UploadedFile, unguessableId } from '@parley/contracts';
import type { Kit } from '@parley/service-kit';
import type { BlobStore } from '@parley/storage';
import { checkStorageQuota } from './domain/storage-quota';
import { storedBytes } from './infra/views';
import type { SnapshotKit } from './settings';

/*
 * Every upload command runs twice through the same decision: first without its file, when the
 * gateway asks where to store it (nothing is appended; a refusal then costs no byte of storage),
 * then with the file the gateway stored, when it appends the event naming it. One decision, so the
 * question and the command cannot disagree.
 */

/** One run of an upload's decision: the stored file, or (the question) a stand-in for it. */
export interface Upload {
  ctx: RequestContext;
  /** The file the gateway stored; undefined when it asks where to store it. */
  file?: UploadedFile;
  /** What the decision sees in place of the file when there is none yet. */
  placeholder: UploadedFile;
}

/** A new blob's key: the organization first (every blob is one organization's), then `segments`, then a random name (each attempt its own). */
export const newBlobKey = (organizationId: string, segments: readonly string[]): string => [organizationId, ...segments, unguessableId()].join('/');

/** A blob's path within its organization's storage (the snapshot's `path`). */
export const pathOf = (organizationId: string, key: string): string => key.slice(organizationId.length + 1);

/** What a decision refuses on the state it finds (which a first attempt of the same command may have made). */
const REFUSALS = ['FORBIDDEN', 'NOT_FOUND', 'CONFLICT', 'TOO_MANY_REQUESTS'];

/**
 * Runs an upload's decision: without a file, answers `target` (where the gateway is to store it)
 * once `run` has found nothing to refuse (or refused a retry of an answered transaction id, whose
 * command answers as the first did); with one, answers what `run` answers. A file outside the
 * caller's organization's keys is refused (a key is the gateway's, never a client's).
 */
export async function upload<A>(kit: SnapshotKit, ctx: RequestContext, file: UploadedFile | undefined, target: UploadTarget, run: (u: Upload) => Promise<A | void>): Promise<UploadTarget | A> {
  const placeholder: UploadedFile = { key: target.key, size: 0, sha256: '0'.repeat(64), mimeType: target.imagesOnly ? 'image/png' : 'application/octet-stream' };
  const { organizationId } = ctx.actor;
  // Counted just before deciding, as other quotas: uploads racing on other replicas may pass it by one file each.
  const stored = await storedBytes(kit.store, organizationId);
  if (file === undefined) {
    try {
      checkStorageQuota(organizationId, stored, 0, kit.settings.quotaStoredBytes);
      await run({ ctx, placeholder });
    } catch (e) {
      // A retry of an answered transaction id: deciding again on what the first attempt changed
      // refuses it, but its command will answer what the first answered (or 422).
      if (!(e instanceof ParleyError && REFUSALS.includes(e.code)) || !(await kit.answeredBefore(ctx))) throw e;
    }
    return target;
  }
  if (!file.key.startsWith(`${organizationId}/`)) throw new ParleyError('BAD_REQUEST', "The file's key is not one of the caller's organization", { fields: ['file'] });
  checkStorageQuota(organizationId, stored, file.size, kit.settings.quotaStoredBytes);
  return (await run({ ctx, file, placeholder })) as A;
}

/** A file's name for Content-Disposition when it has none of its own: its kind and id, and the content's extension. */
export const defaultFileName = (kind: string, id: string, file: StoredFile): string => `${kind}-${id}${file.extension ? `.${file.extension}` : ''}`;

/** What a signed URL of `q` serves. */
export const blobRef = (q: BlobQuery, organizationId: string, file: StoredFile, filename: string): BlobRef => ({
  kind: q.kind,
  id: q.id,
  organizationId,
  key: file.key,
  size: file.size,
  mimeType: file.mimeType,
  filename,
});

/**
 * Deletes a blob no live snapshot or asset names any more (a discarded snapshot's image, a replaced
 * or deleted asset's file) right after the event that let go of it, so its S3 URLs stop too; a
 * failure is logged and left to the sweeper.
 */
export function forgetBlob(blobs: BlobStore, kit: Kit, key: string): Promise<void> {
  return blobs.delete(key).catch((err: unknown) => kit.log.warn({ err }, `could not delete blob ${key}; the sweeper will`));
}
