export * from './blob-store';
export { FileSystemBlobStore } from './filesystem-blob-store';
export { S3BlobStore, type S3Config } from './s3-blob-store';
