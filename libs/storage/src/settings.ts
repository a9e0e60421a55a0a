import { join } from 'node:path';
import { SettingError, type SettingsOf, int, oneOf, optional, text } from '@parley/messaging';
import type { BlobStore } from './blob-store';
import { FileSystemBlobStore } from './filesystem-blob-store';
import { S3BlobStore } from './s3-blob-store';

/**
 * Where blobs are kept, read alike by every process that touches them (the gateway streams
 * uploads in and downloads out, the snapshot service sweeps): the filesystem under
 * `BLOB_DIR` (`DATA_DIR/blobs` by default; one directory all of them share) or an S3 bucket.
 */
export const storageSettings = {
  blobStore: oneOf('BLOB_STORE', ['filesystem', 's3'], 'filesystem', 'where files (snapshots, file transfers, assets) are kept: filesystem (BLOB_DIR) or s3 (S3_*)'),
  blobDir: optional('BLOB_DIR', 'the directory of the filesystem blob store, shared by the gateway and the snapshot service; unset: DATA_DIR/blobs'),
  s3Endpoint: optional('S3_ENDPOINT', "an S3-compatible service's URL (MinIO, Ceph, R2…); unset: AWS"),
  s3Region: text('S3_REGION', 'us-east-1', "the bucket's region"),
  s3Bucket: optional('S3_BUCKET', 'the bucket (required with BLOB_STORE=s3)'),
  s3AccessKeyId: optional('S3_ACCESS_KEY_ID', "the access key id; unset: the AWS SDK's own chain (environment, instance role)"),
  s3SecretAccessKey: optional('S3_SECRET_ACCESS_KEY', 'the secret access key (with S3_ACCESS_KEY_ID)', { secret: true }),
  s3ForcePathStyle: oneOf('S3_FORCE_PATH_STYLE', ['true', 'false'], 'false', 'true: https://host/bucket/key, as most self-hosted services want; false: https://bucket.host/key'),
  uploadMaxBytes: int('UPLOAD_MAX_BYTES', 25 * 1024 * 1024, 'the largest file one upload may be (a snapshot, a file transfer, an asset); larger is 413 and nothing is kept', { min: 1 }),
};

export type StorageSettings = SettingsOf<typeof storageSettings>;

/** What storage settings cannot say one by one: S3 needs a bucket, and both halves of a key or neither. */
export function checkStorageSettings(s: StorageSettings): void {
  if (s.blobStore !== 's3') return;
  if (!s.s3Bucket) throw new SettingError('S3_BUCKET is required with BLOB_STORE=s3');
  if (!s.s3AccessKeyId !== !s.s3SecretAccessKey) throw new SettingError('S3_ACCESS_KEY_ID and S3_SECRET_ACCESS_KEY go together: set both, or neither (the AWS SDK then finds credentials itself)');
}

/** The blob store the settings name (`dataDir` is DATA_DIR, where BLOB_DIR defaults to). */
export function blobStoreFrom(s: StorageSettings & { dataDir: string }): BlobStore {
  checkStorageSettings(s);
  if (s.blobStore === 'filesystem') return new FileSystemBlobStore(s.blobDir ?? join(s.dataDir, 'blobs'));
  return new S3BlobStore({
    ...(s.s3Endpoint ? { endpoint: s.s3Endpoint } : {}),
    region: s.s3Region,
    bucket: s.s3Bucket as string,
    ...(s.s3AccessKeyId && s.s3SecretAccessKey ? { accessKeyId: s.s3AccessKeyId, secretAccessKey: s.s3SecretAccessKey } : {}),
    forcePathStyle: s.s3ForcePathStyle === 'true',
  });
}
