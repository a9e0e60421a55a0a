import { Inject, Injectable } from '@nestjs/common';
import {
  ASSET_CONTEXT,
  type Asset,
  type BlobQuery,
  type BlobRef,
  FILE_TRANSFER_CONTEXT,
  type FileTransfer,
  type FileTransferListQuery,
  type FileTransferResult,
  ParleyError,
  type RequestContext,
  type TransferFileCommand as TransferFileWebCommand,
  type UploadAnswer,
  type UploadAssetCommand,
  type UploadTarget,
  pageOf,
  unguessableId,
} from '@parley/contracts';
import { Aggregate, KIT, causeOf, changingTooFast, instantOf } from '@parley/service-kit';
import { type BlobStore, cleanFileName } from '@parley/storage';
import { type AssetCommand, type AssetState, type FileTransferState, type TransferFileCommand, assetDecider, assetReadable, assetsVisibleTo, fileTransferDecider, fileTransferReadable, fileTransfersVisibleTo } from './domain/files';
import { assetsOfApplication, fileTransfersPage } from './infra/views';
import type { SnapshotKit } from './settings';
import { BLOB_STORE } from './blob-sweeper';
import { blobRef, defaultFileName, forgetBlob, newBlobKey, upload } from './uploads';

type FileTransferEvent = Parameters<typeof fileTransferDecider.evolve>[1];
type AssetEvent = Parameters<typeof assetDecider.evolve>[1];

/** File transfers and assets: load, decide, append (their views in the same transaction), the lists, and the blobs signed URLs serve. */
@Injectable()
export class FilesService {
  private readonly transfers: Aggregate<TransferFileCommand, FileTransferEvent, FileTransferState>;
  private readonly assets: Aggregate<AssetCommand, AssetEvent, AssetState>;

  constructor(
    @Inject(KIT) private readonly kit: SnapshotKit,
    @Inject(BLOB_STORE) private readonly blobs: BlobStore,
  ) {
    this.transfers = new Aggregate(kit, { context: FILE_TRANSFER_CONTEXT, decider: fileTransferDecider, cacheSize: kit.settings.cacheSize, tooManyConflicts: changingTooFast('File transfer') });
    this.assets = new Aggregate(kit, { context: ASSET_CONTEXT, decider: assetDecider, cacheSize: kit.settings.cacheSize, tooManyConflicts: changingTooFast('Asset') });
  }

  /** Sends a file to every endpoint of the target user; without `file`, where the gateway is to store it. */
  transferFile(dto: TransferFileWebCommand, ctx: RequestContext): Promise<UploadTarget | UploadAnswer<FileTransferResult>> {
    const { organizationId } = ctx.actor;
    const fileTransferId = unguessableId();
    return upload<UploadAnswer<FileTransferResult>>(this.kit, ctx, dto.file, { key: newBlobKey(organizationId, ['filetransfers']), imagesOnly: false }, async (u) => {
      const now = instantOf(this.kit.clock);
      const command: TransferFileCommand = {
        fileTransferId,
        organizationId,
        actor: ctx.actor,
        now,
        applicationId: dto.applicationId,
        ...(dto.userEndpointId !== undefined ? { userEndpointId: dto.userEndpointId } : {}),
        ...(dto.interactionId !== undefined ? { interactionId: dto.interactionId } : {}),
        ...(dto.conferenceId !== undefined ? { conferenceId: dto.conferenceId } : {}),
        targetId: dto.targetId,
        file: u.file ?? u.placeholder,
      };
      if (u.file === undefined) {
        fileTransferDecider.decide(command, fileTransferDecider.initialState());
        return;
      }
      const key = u.file.key;
      const { answer } = await this.transfers.execute(organizationId, fileTransferId, command, { ...causeOf(ctx), time: now }, { answer: () => ({ reply: { fileTransferId }, storedKey: key }) });
      return answer;
    });
  }

  /** Uploads (or replaces) an asset; without `file`, where the gateway is to store it. */
  uploadAsset(dto: UploadAssetCommand, ctx: RequestContext): Promise<UploadTarget | UploadAnswer<null>> {
    const { organizationId } = ctx.actor;
    return upload<UploadAnswer<null>>(this.kit, ctx, dto.file, { key: newBlobKey(organizationId, ['assets', dto.assetId]), imagesOnly: false }, async (u) => {
      const now = instantOf(this.kit.clock);
      const command: AssetCommand = {
        kind: 'upload',
        assetId: dto.assetId,
        organizationId,
        actor: ctx.actor,
        now,
        applicationId: dto.applicationId,
        category: dto.category,
        rolesAllowedAccess: dto.rolesAllowedAccess,
        file: { ...(u.file ?? u.placeholder), ...(dto.filename !== undefined ? { filename: cleanFileName(dto.filename) } : {}) },
      };
      if (u.file === undefined) {
        assetDecider.decide(command, assetDecider.initialState());
        return;
      }
      const key = u.file.key;
      const replaced = (await this.assets.load(organizationId, dto.assetId)).asset?.file.key;
      const { answer, state } = await this.assets.execute(organizationId, dto.assetId, command, { ...causeOf(ctx), time: now }, { answer: () => ({ reply: null, storedKey: key }) });
      // The file it replaced is no one's now (unless this was that very upload, answered again).
      if (replaced !== undefined && replaced !== state.asset?.file.key) await forgetBlob(this.blobs, this.kit, replaced);
      return answer;
    });
  }

  /** Deletes the asset; its file is deleted at once (its URLs stop). */
  async deleteAsset(assetId: string, ctx: RequestContext): Promise<null> {
    const { organizationId } = ctx.actor;
    const now = instantOf(this.kit.clock);
    const file = (await this.assets.load(organizationId, assetId)).asset?.file.key;
    const { state } = await this.assets.execute(organizationId, assetId, { kind: 'delete', assetId, organizationId, actor: ctx.actor, now }, { ...causeOf(ctx), time: now });
    if (file !== undefined && state.status !== 'LIVE') await forgetBlob(this.blobs, this.kit, file);
    return null;
  }

  /** The file transfers the caller may see, newest first, as many as fit in one answer (Limits.pageBytes). */
  async listFileTransfers(q: FileTransferListQuery, ctx: RequestContext): Promise<FileTransfer[]> {
    if (q.interactionId !== undefined && q.conferenceId !== undefined) throw new ParleyError('BAD_REQUEST', 'interactionId and conferenceId cannot both be given', { fields: ['interactionId', 'conferenceId'] });
    return pageOf(await fileTransfersPage(this.kit.store, ctx.actor.organizationId, q, fileTransfersVisibleTo(ctx.actor, q.all)));
  }

  /** An application's assets the caller may see, by id, as many as fit in one answer (Limits.pageBytes). */
  async listAssets(applicationId: string, ctx: RequestContext): Promise<Asset[]> {
    return pageOf(await assetsOfApplication(this.kit.store, ctx.actor.organizationId, applicationId, assetsVisibleTo(ctx.actor)));
  }

  /** The blob of a file transfer or asset the caller may see; 404 otherwise. */
  async blob(q: BlobQuery, ctx: RequestContext): Promise<BlobRef> {
    const { organizationId } = ctx.actor;
    if (q.kind === 'filetransfer') {
      const s = await this.transfers.load(organizationId, q.id);
      if (!fileTransferReadable(s, ctx.actor) || !s.transfer) throw new ParleyError('NOT_FOUND', `File transfer ${q.id} not found`);
      return blobRef(q, organizationId, s.transfer.file, s.transfer.file.filename ?? defaultFileName('file', q.id, s.transfer.file));
    }
    const s = await this.assets.load(organizationId, q.id);
    if (!assetReadable(s, ctx.actor) || !s.asset) throw new ParleyError('NOT_FOUND', `Asset ${q.id} not found`);
    return blobRef(q, organizationId, s.asset.file, s.asset.file.filename ?? defaultFileName('asset', q.id, s.asset.file));
  }
}
