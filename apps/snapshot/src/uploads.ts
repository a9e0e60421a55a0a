import type { Kit } from '@parley/service-kit';
import { type BlobQuery, type BlobRef, ParleyError, type RequestContext, type StoredFile, type UploadTarget, type UploadedFile, unguessableId } from '@parley/contracts';

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

/**
 * Runs an upload's decision: without a file, answers `target` (where the gateway is to store it)
 * once `run` has found nothing to refuse (or at once for a retry of an answered transaction id);
 * with one, answers what `run` answers. A file outside the
 * caller's organization's keys is refused (a key is the gateway's, never a client's).
 */
export async function upload<A>(kit: Kit, ctx: RequestContext, file: UploadedFile | undefined, target: UploadTarget, run: (u: Upload) => Promise<A | void>): Promise<UploadTarget | A> {
  const placeholder: UploadedFile = { key: target.key, size: 0, sha256: '0'.repeat(64), mimeType: target.imagesOnly ? 'image/png' : 'application/octet-stream' };
  if (file === undefined) {
    // A retry: its command will answer what the first answered (or 422); deciding again on what the first changed would refuse it.
    if (!(await kit.answeredBefore(ctx))) await run({ ctx, placeholder });
    return target;
  }
  if (!file.key.startsWith(`${ctx.actor.organizationId}/`)) throw new ParleyError('BAD_REQUEST', "The file's key is not one of the caller's organization", { fields: ['file'] });
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
