import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { blobStoreContract } from './blob-store.contract.spec';
import { FileSystemBlobStore } from './filesystem-blob-store';

describe('FileSystemBlobStore', () => {
  let root: string;
  let store: FileSystemBlobStore;
  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'parley-blobs-'));
    store = new FileSystemBlobStore(root);
  });
  afterAll(() => rm(root, { recursive: true, force: true }));

  blobStoreContract('filesystem', () => store);

  it('leaves no partial file behind once every write has ended', async () => {
    expect(await readdir(join(root, '.incoming'))).toEqual([]);
  });
});
