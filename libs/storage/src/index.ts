export * from './blob-store';
export { FileSystemBlobStore } from './filesystem-blob-store';
export { S3BlobStore, type S3Config } from './s3-blob-store';
export { UrlSigner, parseSigningKeys, SIGNING_KEY_MIN_BYTES, type SigningKey, type SignedResource, type Verdict } from './signed-urls';
export { sweepOrphanBlobs, type SweepOptions } from './sweeper';
export { sniffContent, cleanFileName, FILE_NAME_CHARS, type Sniffed } from './content-type';
export { storageSettings, checkStorageSettings, blobStoreFrom, type StorageSettings } from './settings';
