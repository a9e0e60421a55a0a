import { Inject, Injectable } from '@nestjs/common';
import {
  type AcquireSnapshotCommand,
  type BlobRef,
  CAMERA_REQUEST_CONTEXT,
  ParleyError,
  type RequestContext,
  SNAPSHOT_CONTEXT,
  type Snapshot,
  type SnapshotApproveWebCommand,
  type SnapshotCameraRequestRespondWebCommand,
  type SnapshotCameraRequestWebCommand,
  type SnapshotDiscardWebCommand,
  type SnapshotDomainEvent,
  type SnapshotRequestResult,
  type SnapshotRequestWebCommand,
  type SnapshotUploadResult,
  type UploadAnswer,
  type UploadSnapshotCommand,
  type UploadTarget,
  type UploadedFile,
  pageOf,
  unguessableId,
} from '@parley/contracts';
import { Aggregate, KIT, causeOf, changingTooFast, endpointOwner, instantOf } from '@parley/service-kit';
import type { BlobStore } from '@parley/storage';
import { type CameraRequestCommand, type CameraRequestState, cameraRequestDecider } from './domain/camera-request';
import { type AskOfCamera, type SnapshotCommand, type SnapshotState, snapshotDecider, snapshotNotFound, snapshotReadable, snapshotsVisibleTo, toSnapshot } from './domain/snapshot';
import { snapshotsOfInteraction } from './infra/views';
import { BLOB_STORE } from './blob-sweeper';
import { type Upload, blobRef, defaultFileName, forgetBlob, newBlobKey, pathOf, upload } from './uploads';
import type { SnapshotKit } from './settings';

type SnapshotEvent = Parameters<typeof snapshotDecider.evolve>[1];
type CameraRequestEvent = Extract<SnapshotDomainEvent, { type: `SnapshotCameraRequest${string}` }>;

/** Snapshots and camera requests: load, decide, append (their views in the same transaction), the lists. */
@Injectable()
export class SnapshotService {
  private readonly snapshots: Aggregate<SnapshotCommand, SnapshotEvent, SnapshotState>;
  private readonly cameraRequests: Aggregate<CameraRequestCommand, CameraRequestEvent, CameraRequestState>;

  constructor(
    @Inject(KIT) private readonly kit: SnapshotKit,
    @Inject(BLOB_STORE) private readonly blobs: BlobStore,
  ) {
    this.snapshots = new Aggregate(kit, { context: SNAPSHOT_CONTEXT, decider: snapshotDecider, cacheSize: kit.settings.cacheSize, tooManyConflicts: changingTooFast('Snapshot') });
    this.cameraRequests = new Aggregate(kit, { context: CAMERA_REQUEST_CONTEXT, decider: cameraRequestDecider, cacheSize: kit.settings.cacheSize, tooManyConflicts: changingTooFast('Camera request') });
  }

  private owner(userEndpointId: string, ctx: RequestContext): Promise<string | undefined> {
    return endpointOwner(this.kit.rpc, userEndpointId, ctx, this.kit.settings.presenceTimeoutMs, 'a snapshot or camera request');
  }

  /** Who registered the caller's endpoint and the target's, asked together. */
  private async endpoints(own: string, target: string, ctx: RequestContext): Promise<{ fromOwnEndpoint: boolean; targetEndpointOwner?: string }> {
    const [mine, theirs] = await Promise.all([this.owner(own, ctx), this.owner(target, ctx)]);
    return { fromOwnEndpoint: mine === ctx.actor.userId, ...(theirs !== undefined ? { targetEndpointOwner: theirs } : {}) };
  }

  /** What a snapshot request and a camera request both tell their decider: who asks from where, of whom, in what session. */
  private async ask(dto: SnapshotCameraRequestWebCommand | SnapshotRequestWebCommand, ctx: RequestContext): Promise<AskOfCamera> {
    return {
      actor: ctx.actor,
      requesterUserEndpointId: dto.userEndpointId,
      targetUserId: dto.targetUserId,
      targetUserEndpointId: dto.targetUserEndpointId,
      ...(await this.endpoints(dto.userEndpointId, dto.targetUserEndpointId, ctx)),
      ...(dto.sessionType !== undefined ? { sessionType: dto.sessionType } : {}),
      ...(dto.sessionId !== undefined ? { sessionId: dto.sessionId } : {}),
    };
  }

  async request(dto: SnapshotRequestWebCommand, ctx: RequestContext): Promise<SnapshotRequestResult> {
    const snapshotId = unguessableId();
    const { organizationId } = ctx.actor;
    const now = instantOf(this.kit.clock);
    const command: SnapshotCommand = {
      ...(await this.ask(dto, ctx)),
      kind: 'request',
      snapshotId,
      organizationId,
      now,
      applicationId: dto.applicationId,
      ...(dto.interactionId !== undefined ? { interactionId: dto.interactionId } : {}),
      ...(dto.snapshotType !== undefined ? { snapshotType: dto.snapshotType } : {}),
    };
    const { answer } = await this.snapshots.execute(organizationId, snapshotId, command, { ...causeOf(ctx), time: now }, { answer: () => ({ snapshotId }) });
    return answer;
  }

  /** The image a request asked for; without `file`, where the gateway is to store it (if the caller may). */
  async acquire(dto: AcquireSnapshotCommand, ctx: RequestContext): Promise<UploadTarget | UploadAnswer<null>> {
    const { organizationId } = ctx.actor;
    const s = await this.snapshots.load(organizationId, dto.snapshotId);
    const key = newBlobKey(organizationId, s.interactionId !== undefined ? ['interactions', s.interactionId] : ['snapshots']);
    const command = (file: UploadedFile, now: string): SnapshotCommand => ({
      kind: 'acquire',
      snapshotId: dto.snapshotId,
      organizationId,
      actor: ctx.actor,
      now,
      userEndpointId: dto.userEndpointId,
      ...(dto.snapshotType !== undefined ? { snapshotType: dto.snapshotType } : {}),
      file,
      path: pathOf(organizationId, file.key),
    });
    return upload(this.kit, ctx, dto.file, { key, imagesOnly: true }, (u) => this.runUpload(u, dto.snapshotId, command, () => null));
  }

  /** A snapshot sent unasked; without `file`, where the gateway is to store it. */
  async upload(dto: UploadSnapshotCommand, ctx: RequestContext): Promise<UploadTarget | UploadAnswer<SnapshotUploadResult>> {
    const { organizationId } = ctx.actor;
    if (dto.relatedSnapshotId !== undefined && !snapshotReadable(await this.snapshots.load(organizationId, dto.relatedSnapshotId), ctx.actor)) {
      throw new ParleyError('NOT_FOUND', `Snapshot ${dto.relatedSnapshotId} not found`, { fields: ['relatedSnapshotId'] });
    }
    const endpoints = await this.endpoints(dto.userEndpointId, dto.targetUserEndpointId, ctx);
    const snapshotId = unguessableId();
    const key = newBlobKey(organizationId, dto.interactionId !== undefined ? ['interactions', dto.interactionId] : ['snapshots']);
    const command = (file: UploadedFile, now: string): SnapshotCommand => ({
      kind: 'upload',
      snapshotId,
      organizationId,
      actor: ctx.actor,
      now,
      applicationId: dto.applicationId,
      userEndpointId: dto.userEndpointId,
      targetUserId: dto.targetUserId,
      targetUserEndpointId: dto.targetUserEndpointId,
      ...endpoints,
      ...(dto.relatedSnapshotId !== undefined ? { relatedSnapshotId: dto.relatedSnapshotId } : {}),
      ...(dto.interactionId !== undefined ? { interactionId: dto.interactionId } : {}),
      snapshotType: dto.snapshotType,
      file,
      path: pathOf(organizationId, file.key),
    });
    return upload(this.kit, ctx, dto.file, { key, imagesOnly: true }, (u) => this.runUpload(u, snapshotId, command, () => ({ snapshotId })));
  }

  /** Decides on the snapshot: with the file, appends (answering the key its event names); without, only checks that it would be taken. */
  private async runUpload<R>(u: Upload, snapshotId: string, command: (file: UploadedFile, now: string) => SnapshotCommand, reply: () => R): Promise<UploadAnswer<R> | void> {
    const { organizationId } = u.ctx.actor;
    const now = instantOf(this.kit.clock);
    if (u.file === undefined) {
      snapshotDecider.decide(command(u.placeholder, now), await this.snapshots.load(organizationId, snapshotId));
      return;
    }
    const file = u.file;
    const { answer } = await this.snapshots.execute(organizationId, snapshotId, command(file, now), { ...causeOf(u.ctx), time: now }, { answer: () => ({ reply: reply(), storedKey: file.key }) });
    return answer;
  }

  async approve(dto: SnapshotApproveWebCommand, ctx: RequestContext): Promise<null> {
    const now = instantOf(this.kit.clock);
    const { organizationId } = ctx.actor;
    const command: SnapshotCommand = { kind: 'approve', snapshotId: dto.snapshotId, organizationId, actor: ctx.actor, now, userEndpointId: dto.userEndpointId, ...(dto.snapshotType !== undefined ? { snapshotType: dto.snapshotType } : {}) };
    await this.snapshots.execute(organizationId, dto.snapshotId, command, { ...causeOf(ctx), time: now });
    return null;
  }

  /** Discards the snapshot; its image, if it came, is deleted at once (its URLs stop). */
  async discard(dto: SnapshotDiscardWebCommand, ctx: RequestContext): Promise<null> {
    const now = instantOf(this.kit.clock);
    const { organizationId } = ctx.actor;
    const { state } = await this.snapshots.execute(organizationId, dto.snapshotId, { kind: 'discard', snapshotId: dto.snapshotId, organizationId, actor: ctx.actor, now, userEndpointId: dto.userEndpointId }, { ...causeOf(ctx), time: now });
    if (state.status === 'DISCARDED' && state.file) await forgetBlob(this.blobs, this.kit, state.file.key);
    return null;
  }

  async get(snapshotId: string, ctx: RequestContext): Promise<Snapshot> {
    return toSnapshot(await this.readable(snapshotId, ctx));
  }

  /** The snapshot, if the caller may see it (else 404, as another organization's). */
  async readable(snapshotId: string, ctx: RequestContext): Promise<SnapshotState> {
    const s = await this.snapshots.load(ctx.actor.organizationId, snapshotId);
    if (!snapshotReadable(s, ctx.actor)) throw snapshotNotFound(snapshotId);
    return s;
  }

  /** The image of a snapshot the caller may see, while it has one and is not discarded; 404 otherwise. */
  async blob(snapshotId: string, ctx: RequestContext): Promise<BlobRef> {
    const s = await this.readable(snapshotId, ctx);
    if (s.file === undefined || s.status === 'DISCARDED') throw new ParleyError('NOT_FOUND', `Snapshot ${snapshotId} has no image${s.status === 'DISCARDED' ? ' (it was discarded)' : ' yet'}`);
    return blobRef({ kind: 'snapshot', id: snapshotId }, s.organizationId, s.file, defaultFileName('snapshot', snapshotId, s.file));
  }

  /** An interaction's snapshots the caller may see, newest first, as many as fit in one answer (Limits.pageBytes). */
  async list(interactionId: string, ctx: RequestContext): Promise<Snapshot[]> {
    return pageOf(await snapshotsOfInteraction(this.kit.store, ctx.actor.organizationId, interactionId, snapshotsVisibleTo(ctx.actor)));
  }

  async cameraRequest(dto: SnapshotCameraRequestWebCommand, ctx: RequestContext): Promise<string> {
    const id = unguessableId();
    const { organizationId } = ctx.actor;
    const now = instantOf(this.kit.clock);
    const command: CameraRequestCommand = { ...(await this.ask(dto, ctx)), kind: 'request', snapshotCameraRequestId: id, organizationId, now, cameraRequestType: dto.cameraRequestType };
    const { answer } = await this.cameraRequests.execute(organizationId, id, command, { ...causeOf(ctx), time: now }, { answer: () => id });
    return answer;
  }

  async cameraRequestRespond(dto: SnapshotCameraRequestRespondWebCommand, ctx: RequestContext): Promise<null> {
    const { organizationId } = ctx.actor;
    const now = instantOf(this.kit.clock);
    const command: CameraRequestCommand = {
      kind: 'respond',
      snapshotCameraRequestId: dto.snapshotCameraRequestId,
      organizationId,
      actor: ctx.actor,
      now,
      userEndpointId: dto.userEndpointId,
      succeeded: dto.succeeded,
      ...(dto.additionalInformation !== undefined ? { additionalInformation: dto.additionalInformation } : {}),
    };
    await this.cameraRequests.execute(organizationId, dto.snapshotCameraRequestId, command, { ...causeOf(ctx), time: now });
    return null;
  }
}
