import { type Actor, type Asset, type FileTransfer, type NamedFile, ParleyError, type Role, Roles, type SnapshotDomainEvent, authorize, mayAccess } from '@parley/contracts';
import type { Decider } from '@parley/eventsourcing';

type FileTransferEvent = Extract<SnapshotDomainEvent, { type: 'FileTransferCreatedEvent' }>;
type AssetEvent = Extract<SnapshotDomainEvent, { type: 'AssetUploadedEvent' | 'AssetDeletedEvent' }>;

// ---------------------------------------------------------------------------------------------
// File transfers: a file one user sends another, once.

export interface FileTransferState {
  status: 'none' | 'SENT';
  version: number;
  transfer?: FileTransferEvent['data'];
}

export const initialFileTransferState = (): FileTransferState => ({ status: 'none', version: 0 });

export interface TransferFileCommand {
  fileTransferId: string;
  organizationId: string;
  actor: Actor;
  now: string;
  applicationId: string;
  userEndpointId?: string;
  interactionId?: string;
  conferenceId?: string;
  targetId: string;
  file: NamedFile;
}

export function decideFileTransfer(cmd: TransferFileCommand, s: FileTransferState): FileTransferEvent[] {
  authorize('transferFile', 'a user of its own organization', cmd.actor, () => new ParleyError('NOT_FOUND', `File transfer ${cmd.fileTransferId} not found`));
  if (s.status !== 'none') throw new ParleyError('CONFLICT', `File transfer id ${cmd.fileTransferId} is already taken`);
  return [
    {
      type: 'FileTransferCreatedEvent',
      schemaVersion: 1,
      data: {
        fileTransferId: cmd.fileTransferId,
        organizationId: cmd.organizationId,
        applicationId: cmd.applicationId,
        senderUserId: cmd.actor.userId,
        ...(cmd.userEndpointId !== undefined ? { userEndpointId: cmd.userEndpointId } : {}),
        ...(cmd.interactionId !== undefined ? { interactionId: cmd.interactionId } : {}),
        ...(cmd.conferenceId !== undefined ? { conferenceId: cmd.conferenceId } : {}),
        targetType: 'user',
        targetId: cmd.targetId,
        file: cmd.file,
        createdAt: cmd.now,
      },
    },
  ];
}

export const evolveFileTransfer = (s: FileTransferState, e: FileTransferEvent): FileTransferState => ({ status: 'SENT', version: s.version + 1, transfer: e.data });

export const fileTransferDecider: Decider<TransferFileCommand, FileTransferEvent, FileTransferState> = { initialState: initialFileTransferState, decide: decideFileTransfer, evolve: evolveFileTransfer };

type TransferSituation = 'one the caller sent or received' | 'any other of its organization';
const transferSituation = (t: { senderUserId: string; targetId: string }, actor: Actor): TransferSituation =>
  t.senderUserId === actor.userId || t.targetId === actor.userId ? 'one the caller sent or received' : 'any other of its organization';

export const fileTransferReadable = (s: FileTransferState, actor: Actor): boolean =>
  s.transfer !== undefined && s.transfer.organizationId === actor.organizationId && mayAccess('readFileTransfer', transferSituation(s.transfer, actor), actor);

/** Whose transfers a list shows: every one of the organization (undefined) when `all` is asked and the caller may see them, else those it sent or received. */
export const fileTransfersVisibleTo = (actor: Actor, all: boolean): string | undefined =>
  all && mayAccess('readFileTransfer', 'any other of its organization', actor) ? undefined : actor.userId;

export function toFileTransfer(t: FileTransferEvent['data']): FileTransfer {
  return {
    id: t.fileTransferId,
    organizationId: t.organizationId,
    applicationId: t.applicationId,
    userId: t.senderUserId,
    ...(t.userEndpointId !== undefined ? { userEndpointId: t.userEndpointId } : {}),
    ...(t.interactionId !== undefined ? { interactionId: t.interactionId } : {}),
    ...(t.conferenceId !== undefined ? { conferenceId: t.conferenceId } : {}),
    targetType: t.targetType,
    targetId: t.targetId,
    ...(t.file.filename !== undefined ? { filename: t.file.filename } : {}),
    mimeType: t.file.mimeType,
    size: t.file.size,
    createdAt: t.createdAt,
  };
}

// ---------------------------------------------------------------------------------------------
// Assets: an organization's files (logos, backgrounds…), replaced by a new upload, shown to the roles they name.

export interface AssetState {
  status: 'none' | 'LIVE' | 'DELETED';
  version: number;
  id: string;
  organizationId: string;
  /** The live asset (none once deleted). */
  asset?: Extract<AssetEvent, { type: 'AssetUploadedEvent' }>['data'];
}

export const initialAssetState = (): AssetState => ({ status: 'none', version: 0, id: '', organizationId: '' });

export type AssetCommand =
  | { kind: 'upload'; assetId: string; organizationId: string; actor: Actor; now: string; applicationId: string; category: string; rolesAllowedAccess: string; file: NamedFile }
  | { kind: 'delete'; assetId: string; organizationId: string; actor: Actor; now: string };

/** `admin,customer` → ['ADMIN', 'CUSTOMER'] (any case, each once); a word that is no role of Parley's is 400 naming it. */
export function parseRoles(text: string): Role[] {
  const words = text.split(',').map((w) => w.trim().toUpperCase()).filter(Boolean);
  const unknown = words.filter((w) => !(Roles as readonly string[]).includes(w));
  if (unknown.length > 0 || words.length === 0) {
    throw new ParleyError('BAD_REQUEST', `rolesAllowedAccess must name roles among ${Roles.join(', ')} (any case)${unknown.length ? `; ${unknown.join(', ')} is not one` : ''}`, { fields: ['rolesAllowedAccess'] });
  }
  return [...new Set(words)] as Role[];
}

export function decideAsset(cmd: AssetCommand, s: AssetState): AssetEvent[] {
  authorize('manageAssets', 'an asset of its own organization', cmd.actor, () => new ParleyError('NOT_FOUND', `Asset ${cmd.assetId} not found`));
  if (cmd.kind === 'delete') {
    if (s.status !== 'LIVE') return [];
    return [{ type: 'AssetDeletedEvent', schemaVersion: 1, data: { assetId: cmd.assetId, organizationId: cmd.organizationId, deletedBy: cmd.actor.userId, deletedAt: cmd.now } }];
  }
  return [
    {
      type: 'AssetUploadedEvent',
      schemaVersion: 1,
      data: {
        assetId: cmd.assetId,
        organizationId: cmd.organizationId,
        applicationId: cmd.applicationId,
        category: cmd.category,
        rolesAllowedAccess: parseRoles(cmd.rolesAllowedAccess),
        file: cmd.file,
        uploadedBy: cmd.actor.userId,
        uploadedAt: cmd.now,
      },
    },
  ];
}

export const evolveAsset = (s: AssetState, e: AssetEvent): AssetState => {
  const base = { version: s.version + 1, id: e.data.assetId, organizationId: e.data.organizationId };
  return e.type === 'AssetUploadedEvent' ? { ...base, status: 'LIVE', asset: e.data } : { ...base, status: 'DELETED' };
};

export const assetDecider: Decider<AssetCommand, AssetEvent, AssetState> = { initialState: initialAssetState, decide: decideAsset, evolve: evolveAsset };

type AssetSituation = "one whose rolesAllowedAccess names one of the caller's roles" | "one whose rolesAllowedAccess names none of the caller's roles";
const assetSituation = (rolesAllowedAccess: readonly string[], actor: Actor): AssetSituation =>
  actor.roles.some((r) => rolesAllowedAccess.includes(r)) ? "one whose rolesAllowedAccess names one of the caller's roles" : "one whose rolesAllowedAccess names none of the caller's roles";

export const assetReadable = (s: AssetState, actor: Actor): boolean =>
  s.status === 'LIVE' && s.asset !== undefined && s.asset.organizationId === actor.organizationId && mayAccess('readAsset', assetSituation(s.asset.rolesAllowedAccess, actor), actor);

/** Which roles' assets a list shows: every one (undefined) where the caller may see them all, else those naming one of its roles. */
export const assetsVisibleTo = (actor: Actor): string[] | undefined =>
  mayAccess('readAsset', "one whose rolesAllowedAccess names none of the caller's roles", actor) ? undefined : [...actor.roles];

export function toAsset(a: NonNullable<AssetState['asset']>, version: number): Asset {
  return {
    id: a.assetId,
    organizationId: a.organizationId,
    applicationId: a.applicationId,
    category: a.category,
    ...(a.file.filename !== undefined ? { filename: a.file.filename } : {}),
    rolesAllowedAccess: a.rolesAllowedAccess,
    mimeType: a.file.mimeType,
    size: a.file.size,
    createdAt: a.uploadedAt,
    version,
  };
}
