import { Readable } from 'node:stream';
import { type S3ServerHandle, startS3Server } from '@parley/testing';
import { blobStoreContract } from './blob-store.contract.spec';
import { S3BlobStore } from './s3-blob-store';

describe('S3BlobStore, against a real S3-protocol server (s3rver)', () => {
  let server: S3ServerHandle;
  let store: S3BlobStore;
  beforeAll(async () => {
    server = await startS3Server();
    store = new S3BlobStore({ endpoint: server.endpoint, region: 'us-east-1', bucket: server.bucket, accessKeyId: server.accessKeyId, secretAccessKey: server.secretAccessKey, forcePathStyle: true });
  });
  afterAll(async () => {
    store?.close();
    await server?.stop();
  });

  blobStoreContract('s3', () => store);

  it('presigns a download that S3 itself serves, with the type and name asked, for the time asked', async () => {
    const key = `presigned-${Date.now()}/photo.jpg`;
    await store.put(key, Readable.from([Buffer.from('jpeg bytes')]), { maxBytes: 100, contentType: 'image/jpeg' });
    const url = await store.presignedUrl(key, 60, { contentType: 'image/jpeg', contentDisposition: 'attachment; filename="photo.jpg"' });
    const res = await fetch(url);
    expect(res.status).toBe(200);
    expect(await res.text()).toBe('jpeg bytes');
    expect(res.headers.get('content-type')).toBe('image/jpeg');
    expect(res.headers.get('content-disposition')).toBe('attachment; filename="photo.jpg"');
    expect(url).toMatch(/X-Amz-Expires=60&/);
    // (A tampered URL is S3's to refuse: s3rver, a test server, does not check a presigned URL's signature.)
  });
});
