import { Controller, Inject } from '@nestjs/common';
import { Ctx, MessagePattern, NatsContext, Payload } from '@nestjs/microservices';
import {
  AcquireSnapshotCommand,
  type Asset,
  AssetIdCommand,
  AssetListQuery,
  BlobQuery,
  type BlobRef,
  type FileTransfer,
  FileTransferListQuery,
  ParleyError,
  type Snapshot,
  SnapshotApproveWebCommand,
  SnapshotCameraRequestRespondWebCommand,
  SnapshotCameraRequestWebCommand,
  SnapshotCommands,
  SnapshotDiscardWebCommand,
  SnapshotIdQuery,
  SnapshotListQuery,
  SnapshotQueries,
  SnapshotRequestWebCommand,
  TransferFileCommand,
  UploadAssetCommand,
  UploadSnapshotCommand,
  UploadTargetQueries,
  type UploadedFile,
} from '@parley/contracts';
import { parleyValidationPipe, requestContextOf } from '@parley/messaging';
import { FilesService } from './files.service';
import { SnapshotService } from './snapshot.service';

const valid = parleyValidationPipe();

/** An upload command names the file the gateway stored; its question (UploadTargetQueries) does not. */
function withFile<T extends { file?: UploadedFile }>(dto: T): T {
  if (dto.file === undefined) throw new ParleyError('BAD_REQUEST', 'The command names no stored file', { fields: ['file'] });
  return dto;
}
const withoutFile = <T extends { file?: UploadedFile }>(dto: T): T => ({ ...dto, file: undefined });

/** The snapshot service's NATS handlers: snapshots, camera requests, file transfers, assets. */
@Controller()
export class SnapshotController {
  constructor(
    @Inject(SnapshotService) private readonly snapshots: SnapshotService,
    @Inject(FilesService) private readonly files: FilesService,
  ) {}

  @MessagePattern(SnapshotCommands.request)
  request(@Payload(valid) dto: SnapshotRequestWebCommand, @Ctx() nats: NatsContext) {
    return this.snapshots.request(dto, requestContextOf(nats));
  }

  @MessagePattern(SnapshotCommands.acquire)
  acquire(@Payload(valid) dto: AcquireSnapshotCommand, @Ctx() nats: NatsContext) {
    return this.snapshots.acquire(withFile(dto), requestContextOf(nats));
  }

  @MessagePattern(UploadTargetQueries.acquire)
  acquireTarget(@Payload(valid) dto: AcquireSnapshotCommand, @Ctx() nats: NatsContext) {
    return this.snapshots.acquire(withoutFile(dto), requestContextOf(nats));
  }

  @MessagePattern(SnapshotCommands.upload)
  upload(@Payload(valid) dto: UploadSnapshotCommand, @Ctx() nats: NatsContext) {
    return this.snapshots.upload(withFile(dto), requestContextOf(nats));
  }

  @MessagePattern(UploadTargetQueries.upload)
  uploadTarget(@Payload(valid) dto: UploadSnapshotCommand, @Ctx() nats: NatsContext) {
    return this.snapshots.upload(withoutFile(dto), requestContextOf(nats));
  }

  @MessagePattern(SnapshotCommands.approve)
  approve(@Payload(valid) dto: SnapshotApproveWebCommand, @Ctx() nats: NatsContext) {
    return this.snapshots.approve(dto, requestContextOf(nats));
  }

  @MessagePattern(SnapshotCommands.discard)
  discard(@Payload(valid) dto: SnapshotDiscardWebCommand, @Ctx() nats: NatsContext) {
    return this.snapshots.discard(dto, requestContextOf(nats));
  }

  @MessagePattern(SnapshotCommands.cameraRequest)
  cameraRequest(@Payload(valid) dto: SnapshotCameraRequestWebCommand, @Ctx() nats: NatsContext) {
    return this.snapshots.cameraRequest(dto, requestContextOf(nats));
  }

  @MessagePattern(SnapshotCommands.cameraRequestRespond)
  cameraRequestRespond(@Payload(valid) dto: SnapshotCameraRequestRespondWebCommand, @Ctx() nats: NatsContext) {
    return this.snapshots.cameraRequestRespond(dto, requestContextOf(nats));
  }

  @MessagePattern(SnapshotQueries.get)
  get(@Payload(valid) q: SnapshotIdQuery, @Ctx() nats: NatsContext): Promise<Snapshot> {
    return this.snapshots.get(q.snapshotId, requestContextOf(nats));
  }

  @MessagePattern(SnapshotQueries.list)
  list(@Payload(valid) q: SnapshotListQuery, @Ctx() nats: NatsContext): Promise<Snapshot[]> {
    return this.snapshots.list(q.interactionId, requestContextOf(nats));
  }

  @MessagePattern(SnapshotCommands.transferFile)
  transferFile(@Payload(valid) dto: TransferFileCommand, @Ctx() nats: NatsContext) {
    return this.files.transferFile(withFile(dto), requestContextOf(nats));
  }

  @MessagePattern(UploadTargetQueries.transferFile)
  transferFileTarget(@Payload(valid) dto: TransferFileCommand, @Ctx() nats: NatsContext) {
    return this.files.transferFile(withoutFile(dto), requestContextOf(nats));
  }

  @MessagePattern(SnapshotQueries.fileTransfers)
  fileTransfers(@Payload(valid) q: FileTransferListQuery, @Ctx() nats: NatsContext): Promise<FileTransfer[]> {
    return this.files.listFileTransfers(q, requestContextOf(nats));
  }

  @MessagePattern(SnapshotCommands.uploadAsset)
  uploadAsset(@Payload(valid) dto: UploadAssetCommand, @Ctx() nats: NatsContext) {
    return this.files.uploadAsset(withFile(dto), requestContextOf(nats));
  }

  @MessagePattern(UploadTargetQueries.uploadAsset)
  uploadAssetTarget(@Payload(valid) dto: UploadAssetCommand, @Ctx() nats: NatsContext) {
    return this.files.uploadAsset(withoutFile(dto), requestContextOf(nats));
  }

  @MessagePattern(SnapshotCommands.deleteAsset)
  deleteAsset(@Payload(valid) dto: AssetIdCommand, @Ctx() nats: NatsContext) {
    return this.files.deleteAsset(dto.assetId, requestContextOf(nats));
  }

  @MessagePattern(SnapshotQueries.assets)
  assets(@Payload(valid) q: AssetListQuery, @Ctx() nats: NatsContext): Promise<Asset[]> {
    return this.files.listAssets(q.applicationId, requestContextOf(nats));
  }

  @MessagePattern(SnapshotQueries.blob)
  blob(@Payload(valid) q: BlobQuery, @Ctx() nats: NatsContext): Promise<BlobRef> {
    const ctx = requestContextOf(nats);
    return q.kind === 'snapshot' ? this.snapshots.blob(q.id, ctx) : this.files.blob(q, ctx);
  }
}
