import { defineService } from '@parley/service-kit';
import { blobStoreFrom, checkStorageSettings } from '@parley/storage';
import { BLOB_STORE, BlobSweeper } from './blob-sweeper';
import { FilesService } from './files.service';
import { assetViews, fileTransferViews, snapshotViews } from './infra/views';
import { SnapshotController } from './snapshot.controller';
import { SnapshotService } from './snapshot.service';
import { snapshotSettings } from './settings';

/**
 * The snapshot service: snapshots and camera requests, file transfers, assets; their views
 * (`snapshot_views`, `file_transfer_views`, `asset_views`), its NATS handlers, and the sweeper of
 * the blobs nothing names. The bytes come and go through the gateway (docs/architecture.md).
 */
export const snapshotService = defineService({
  name: 'snapshot',
  settings: snapshotSettings,
  checkSettings: checkStorageSettings,
  eventStore: { projections: [snapshotViews, fileTransferViews, assetViews] },
  controllers: [SnapshotController],
  providers: [SnapshotService, FilesService, BlobSweeper],
  setUp: async (kit) => {
    const blobs = blobStoreFrom(kit.settings);
    return { providers: [{ provide: BLOB_STORE, useValue: blobs }], part: { close: async () => blobs.close() } };
  },
  start: (_kit, app) => [app.get(BlobSweeper).start()],
});
