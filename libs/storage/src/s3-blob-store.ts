import { DeleteObjectCommand, GetObjectCommand, HeadObjectCommand, ListObjectsV2Command, S3Client, S3ServiceException } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { type Readable, pipeline } from 'node:stream';
import { type BlobContent, type BlobStore, type ByteRange, type ListedBlob, MeteredStream, type PutOptions, type StoredBlob, blobNotFound, checkKey } from './blob-store';

export interface S3Config {
  /** An S3-compatible service's URL (MinIO, Ceph, R2…); AWS's own when absent. */
  endpoint?: string;
  region: string;
  bucket: string;
  /** Both, or neither: the AWS SDK's own chain (environment, instance role) finds them. */
  accessKeyId?: string;
  secretAccessKey?: string;
  /** `https://host/bucket/key` instead of `https://bucket.host/key` (most self-hosted services want it). */
  forcePathStyle: boolean;
}

/** How much of an upload is in memory at once: parts of this size, this many in flight (S3's smallest part is 5 MiB). */
const PART_BYTES = 5 * 1024 * 1024;
const PARTS_IN_FLIGHT = 2;

const isNotFound = (e: unknown) => e instanceof S3ServiceException && (e.name === 'NotFound' || e.name === 'NoSuchKey' || e.$metadata.httpStatusCode === 404);

/**
 * Blobs as objects of one bucket, through @aws-sdk/client-s3. A write is a multipart upload of
 * 5 MiB parts, two in flight (so at most some 10 MiB of one upload is in memory); one that fails
 * (past its limit, or its source broke) is aborted, so nothing is left under its key.
 */
export class S3BlobStore implements BlobStore {
  readonly kind = 's3';
  readonly s3: S3Client;

  constructor(private readonly config: S3Config) {
    this.s3 = new S3Client({
      region: config.region,
      ...(config.endpoint ? { endpoint: config.endpoint } : {}),
      forcePathStyle: config.forcePathStyle,
      ...(config.accessKeyId && config.secretAccessKey ? { credentials: { accessKeyId: config.accessKeyId, secretAccessKey: config.secretAccessKey } } : {}),
    });
  }

  get bucket(): string {
    return this.config.bucket;
  }

  async put(key: string, body: Readable, options: PutOptions): Promise<StoredBlob> {
    checkKey(key);
    const meter = new MeteredStream(options.maxBytes);
    // An error on either side reaches the other: the upload sees the source's, the source is closed on the upload's.
    pipeline(body, meter, () => undefined);
    const upload = new Upload({
      client: this.s3,
      params: { Bucket: this.bucket, Key: key, Body: meter, ...(options.contentType ? { ContentType: options.contentType } : {}) },
      partSize: PART_BYTES,
      queueSize: PARTS_IN_FLIGHT,
      leavePartsOnError: false,
    });
    try {
      await upload.done();
    } catch (e) {
      meter.destroy();
      throw meter.errored ?? e;
    }
    return meter.stored();
  }

  async get(key: string, range?: ByteRange): Promise<BlobContent> {
    try {
      const res = await this.s3.send(new GetObjectCommand({ Bucket: this.bucket, Key: checkKey(key), ...(range ? { Range: `bytes=${range.start}-${range.end}` } : {}) }));
      // With a range, the whole size is after the slash of Content-Range ("bytes 0-9/100").
      const size = range && res.ContentRange ? Number(res.ContentRange.split('/')[1]) : Number(res.ContentLength ?? 0);
      return { body: res.Body as Readable, size };
    } catch (e) {
      if (isNotFound(e)) throw blobNotFound(key);
      throw e;
    }
  }

  async head(key: string): Promise<{ size: number } | undefined> {
    try {
      const res = await this.s3.send(new HeadObjectCommand({ Bucket: this.bucket, Key: checkKey(key) }));
      return { size: Number(res.ContentLength ?? 0) };
    } catch (e) {
      if (isNotFound(e)) return undefined;
      throw e;
    }
  }

  async delete(key: string): Promise<void> {
    await this.s3.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: checkKey(key) }));
  }

  async *list(prefix: string): AsyncIterable<ListedBlob> {
    const Prefix = prefix === '' ? undefined : `${checkKey(prefix)}/`;
    for (let token: string | undefined; ; ) {
      const page = await this.s3.send(new ListObjectsV2Command({ Bucket: this.bucket, ...(Prefix ? { Prefix } : {}), ...(token ? { ContinuationToken: token } : {}) }));
      for (const o of page.Contents ?? []) if (o.Key) yield { key: o.Key, size: Number(o.Size ?? 0), modifiedAt: o.LastModified ?? new Date(0) };
      if (!page.IsTruncated || !page.NextContinuationToken) return;
      token = page.NextContinuationToken;
    }
  }

  /**
   * A URL that serves the object from S3 itself until `expiresInSeconds` from now, with the
   * Content-Type and Content-Disposition given (S3 answers them as asked in the signed URL).
   */
  presignedUrl(key: string, expiresInSeconds: number, response: { contentType?: string; contentDisposition?: string } = {}): Promise<string> {
    return getSignedUrl(
      this.s3,
      new GetObjectCommand({
        Bucket: this.bucket,
        Key: checkKey(key),
        ...(response.contentType ? { ResponseContentType: response.contentType } : {}),
        ...(response.contentDisposition ? { ResponseContentDisposition: response.contentDisposition } : {}),
      }),
      { expiresIn: expiresInSeconds },
    );
  }

  close(): void {
    this.s3.destroy();
  }
}
