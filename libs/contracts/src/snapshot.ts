import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsBoolean, IsIn, IsInt, IsOptional, IsString, Matches, MaxLength, Min, ValidateNested } from 'class-validator';
import { ID_SCHEMA, IsParleyId } from './validation';

/**
 * The snapshot service: snapshots of a user's camera (asked for, or sent unasked), camera requests
 * (switch the camera, the flash…), file transfers between users, and an organization's assets.
 * Their bytes are blobs (libs/storage) that the gateway streams in before it sends the command
 * that names them (docs/architecture.md); what they are is in the events.
 */
export const SnapshotCommands = {
  request: 'parley.snapshot.cmd.requestSnapshot',
  acquire: 'parley.snapshot.cmd.acquireSnapshot',
  upload: 'parley.snapshot.cmd.uploadSnapshot',
  approve: 'parley.snapshot.cmd.approveSnapshot',
  discard: 'parley.snapshot.cmd.discardSnapshot',
  cameraRequest: 'parley.snapshot.cmd.cameraRequest',
  cameraRequestRespond: 'parley.snapshot.cmd.cameraRequestRespond',
  transferFile: 'parley.snapshot.cmd.transferFile',
  uploadAsset: 'parley.snapshot.cmd.uploadAsset',
  deleteAsset: 'parley.snapshot.cmd.deleteAsset',
} as const;

export const SnapshotQueries = {
  get: 'parley.snapshot.qry.snapshot',
  list: 'parley.snapshot.qry.snapshots',
  fileTransfers: 'parley.snapshot.qry.fileTransfers',
  assets: 'parley.snapshot.qry.assets',
  /** The blob of a snapshot, file transfer or asset the caller may read (what a signed URL serves). */
  blob: 'parley.snapshot.qry.blob',
} as const;

/** Event streams: `snapshot/<org>/<id>`, `camerarequest/<org>/<id>`, `filetransfer/<org>/<id>`, `asset/<org>/<id>`. */
export const SNAPSHOT_CONTEXT = 'snapshot';
export const CAMERA_REQUEST_CONTEXT = 'camerarequest';
export const FILE_TRANSFER_CONTEXT = 'filetransfer';
export const ASSET_CONTEXT = 'asset';

/** REQUESTED is Parley's addition: asked for, no image yet. The spec's three follow it. */
export const SNAPSHOT_STATES = ['REQUESTED', 'UPLOADED', 'APPROVED', 'DISCARDED'] as const;
export type SnapshotStateName = (typeof SNAPSHOT_STATES)[number];
/** What a snapshot or camera request is part of (the spec's enum). */
export const SESSION_TYPES_OF_SNAPSHOTS = ['UNKNOWN', 'CALL', 'CONFERENCE'] as const;
type SessionType = (typeof SESSION_TYPES_OF_SNAPSHOTS)[number];
export const CAMERA_REQUEST_TYPES = ['CAMERA_SWITCH', 'FLASH_ON', 'FLASH_OFF'] as const;
export const FILE_TRANSFER_TARGET_TYPES = ['user'] as const;
/** What a signed URL is for: a signature for one kind is none for another. */
export const BLOB_KINDS = ['snapshot', 'filetransfer', 'asset'] as const;
export type BlobKind = (typeof BLOB_KINDS)[number];

/** A snapshot type, a camera request type, an asset category, an additional information: at most this many characters. */
export const SNAPSHOT_WORD_MAX = 128;
export const SNAPSHOT_TEXT_MAX = 1000;
/** A file name as given (kept for Content-Disposition): at most this many characters. */
export const FILE_NAME_MAX = 255;
/** The most snapshots, file transfers or assets one list answers (newest first). */
export const SNAPSHOT_LIST_MAX = 1000;

/** One word a client chooses (a type, a category): printable, no quotes or slashes. */
const WORD = /^[A-Za-z0-9_.:-]{1,128}$/;
const IsWord = () => Matches(WORD, { message: '$property must be 1 to 128 letters, digits, "_", ".", ":" or "-"' });

/** The blob a command names: where the gateway stored the bytes, and what they are. */
export interface StoredFile {
  key: string;
  size: number;
  sha256: string;
  /** What the content is (its first bytes say), never what the client declared. */
  mimeType: string;
  /** The extension that goes with it (jpg, png, pdf…), when the content says. */
  extension?: string;
}

/** The file name as the client gave it, when it gave one. */
export interface NamedFile extends StoredFile {
  filename?: string;
}

interface Ref {
  organizationId: string;
}

/** Who asked whose camera, in what session: what a snapshot request and a camera request both record. */
export interface CameraAsk {
  requesterUserId: string;
  requesterUserEndpointId: string;
  /** The target. */
  userId: string;
  userEndpointId: string;
  sessionType?: SessionType;
  sessionId?: string;
}

export type SnapshotDomainEvent =
  | {
      type: 'SnapshotRequestedEvent';
      schemaVersion: 1;
      data: Ref &
        CameraAsk & {
        snapshotId: string;
        applicationId: string;
        interactionId?: string;
        snapshotType?: string;
        requestedAt: string;
      };
    }
  | {
      type: 'SnapshotAcquiredEvent';
      schemaVersion: 1;
      /** `requesterUserEndpointId`: who hears of it. */
      data: Ref & { snapshotId: string; file: StoredFile; path: string; snapshotType?: string; requesterUserEndpointId: string; acquiredAt: string };
    }
  | {
      type: 'SnapshotUploadedEvent';
      schemaVersion: 1;
      data: Ref & {
        snapshotId: string;
        relatedSnapshotId?: string;
        applicationId: string;
        /** Who receives it (and approves it): the spec's requester of an upload. */
        requesterUserId: string;
        requesterUserEndpointId: string;
        /** Who sent it. */
        userId: string;
        userEndpointId: string;
        interactionId?: string;
        snapshotType: string;
        file: StoredFile;
        path: string;
        uploadedAt: string;
      };
    }
  | {
      type: 'SnapshotApprovedEvent';
      schemaVersion: 1;
      /** `userEndpointId`: the approver's; the requester's and the target's endpoints hear of it. */
      data: Ref & { snapshotId: string; approvedBy: string; userEndpointId: string; snapshotType?: string; requesterUserEndpointId: string; targetUserEndpointId: string; approvedAt: string };
    }
  | {
      type: 'SnapshotDiscardedEvent';
      schemaVersion: 1;
      data: Ref & { snapshotId: string; discardedBy: string; userEndpointId: string; requesterUserEndpointId: string; targetUserEndpointId: string; discardedAt: string };
    }
  | {
      type: 'SnapshotCameraRequestedEvent';
      schemaVersion: 1;
      data: Ref &
        CameraAsk & {
        snapshotCameraRequestId: string;
        cameraRequestType: string;
        requestedAt: string;
      };
    }
  | {
      type: 'SnapshotCameraRequestRespondedEvent';
      schemaVersion: 1;
      data: Ref & { snapshotCameraRequestId: string; userId: string; userEndpointId: string; requesterUserEndpointId: string; succeeded: boolean; additionalInformation?: string; respondedAt: string };
    }
  | {
      type: 'FileTransferCreatedEvent';
      schemaVersion: 1;
      data: Ref & {
        fileTransferId: string;
        applicationId: string;
        senderUserId: string;
        userEndpointId?: string;
        interactionId?: string;
        conferenceId?: string;
        targetType: 'user';
        targetId: string;
        file: NamedFile;
        createdAt: string;
      };
    }
  | {
      type: 'AssetUploadedEvent';
      schemaVersion: 1;
      data: Ref & { assetId: string; applicationId: string; category: string; rolesAllowedAccess: string[]; file: NamedFile; uploadedBy: string; uploadedAt: string };
    }
  | { type: 'AssetDeletedEvent'; schemaVersion: 1; data: Ref & { assetId: string; deletedBy: string; deletedAt: string } };

export const SNAPSHOT_EVENT_TYPES = ['SnapshotRequestedEvent', 'SnapshotAcquiredEvent', 'SnapshotUploadedEvent', 'SnapshotApprovedEvent', 'SnapshotDiscardedEvent'] as const satisfies readonly SnapshotDomainEvent['type'][];
export const CAMERA_REQUEST_EVENT_TYPES = ['SnapshotCameraRequestedEvent', 'SnapshotCameraRequestRespondedEvent'] as const satisfies readonly SnapshotDomainEvent['type'][];
export const FILE_TRANSFER_EVENT_TYPES = ['FileTransferCreatedEvent'] as const satisfies readonly SnapshotDomainEvent['type'][];
export const ASSET_EVENT_TYPES = ['AssetUploadedEvent', 'AssetDeletedEvent'] as const satisfies readonly SnapshotDomainEvent['type'][];

// ---------------------------------------------------------------------------------------------
// Web commands (the spec's names and fields)

const sessionTypeProperty = { enum: SESSION_TYPES_OF_SNAPSHOTS, description: 'UNKNOWN, CALL or CONFERENCE.' };

export class SnapshotRequestWebCommand {
  @ApiProperty({ ...ID_SCHEMA, description: 'The application to use.' }) @IsParleyId() applicationId!: string;
  @ApiProperty({ ...ID_SCHEMA, description: "The requester's user endpoint (one the caller registered): it receives the snapshot's events." }) @IsParleyId() userEndpointId!: string;
  @ApiProperty({ ...ID_SCHEMA, description: "The request's target user." }) @IsParleyId() targetUserId!: string;
  @ApiProperty({ ...ID_SCHEMA, description: "The target's user endpoint (one the target registered): it receives the request." }) @IsParleyId() targetUserEndpointId!: string;
  @ApiPropertyOptional(sessionTypeProperty) @IsOptional() @IsIn(SESSION_TYPES_OF_SNAPSHOTS) sessionType?: SessionType;
  @ApiPropertyOptional({ ...ID_SCHEMA, description: 'The session id, e.g. the conference id.' }) @IsOptional() @IsParleyId() sessionId?: string;
  @ApiPropertyOptional({ ...ID_SCHEMA, description: 'The snapshot is stored under interactions/{interactionId}/ when given.' }) @IsOptional() @IsParleyId() interactionId?: string;
  @ApiPropertyOptional({ pattern: WORD.source, description: "The snapshot's type." }) @IsOptional() @IsWord() snapshotType?: string;
}

export class SnapshotRequestResult {
  @ApiProperty() snapshotId!: string;
}

export class SnapshotIdQuery {
  @IsParleyId() snapshotId!: string;
}

export class SnapshotApproveWebCommand {
  @ApiProperty(ID_SCHEMA) @IsParleyId() snapshotId!: string;
  @ApiProperty({ ...ID_SCHEMA, description: "The approver's user endpoint." }) @IsParleyId() userEndpointId!: string;
  @ApiPropertyOptional({ pattern: WORD.source, description: "Replaces the request's snapshot type." }) @IsOptional() @IsWord() snapshotType?: string;
}

export class SnapshotDiscardWebCommand {
  @ApiProperty(ID_SCHEMA) @IsParleyId() snapshotId!: string;
  @ApiProperty({ ...ID_SCHEMA, description: "The discarder's user endpoint." }) @IsParleyId() userEndpointId!: string;
}

/** The fields of POST /snapshots/acquire (multipart; the image is the part `image`). */
export class SnapshotAcquireFields {
  @ApiProperty(ID_SCHEMA) @IsParleyId() snapshotId!: string;
  @ApiProperty({ ...ID_SCHEMA, description: "The target's user endpoint." }) @IsParleyId() userEndpointId!: string;
  @ApiPropertyOptional({ pattern: WORD.source }) @IsOptional() @IsWord() snapshotType?: string;
  @ApiPropertyOptional({ description: 'Ignored: the suffix is the content\'s (jpg, png…).' }) @IsOptional() @IsString() @MaxLength(SNAPSHOT_WORD_MAX) snapshotSuffix?: string;
  @ApiPropertyOptional({ description: "Ignored: the type is the content's, whatever is declared." }) @IsOptional() @IsString() @MaxLength(SNAPSHOT_WORD_MAX) snapshotMimeType?: string;
}

/** The fields of POST /snapshots/upload (multipart; the image is the part `image`). */
export class SnapshotUploadFields {
  @ApiPropertyOptional(ID_SCHEMA) @IsOptional() @IsParleyId() relatedSnapshotId?: string;
  @ApiProperty(ID_SCHEMA) @IsParleyId() applicationId!: string;
  @ApiProperty({ ...ID_SCHEMA, description: 'Who receives the snapshot.' }) @IsParleyId() targetUserId!: string;
  @ApiProperty(ID_SCHEMA) @IsParleyId() targetUserEndpointId!: string;
  @ApiPropertyOptional(ID_SCHEMA) @IsOptional() @IsParleyId() interactionId?: string;
  @ApiProperty({ ...ID_SCHEMA, description: "The sender's user endpoint (one the caller registered)." }) @IsParleyId() userEndpointId!: string;
  @ApiProperty({ pattern: WORD.source }) @IsWord() snapshotType!: string;
  @ApiPropertyOptional({ description: "Ignored: the suffix is the content's." }) @IsOptional() @IsString() @MaxLength(SNAPSHOT_WORD_MAX) snapshotSuffix?: string;
  @ApiPropertyOptional({ description: "Ignored: the type is the content's." }) @IsOptional() @IsString() @MaxLength(SNAPSHOT_WORD_MAX) snapshotMimeType?: string;
}

export class SnapshotUploadResult {
  @ApiProperty() snapshotId!: string;
}

export class SnapshotCameraRequestWebCommand {
  @ApiProperty({ ...ID_SCHEMA, description: "The requester's user endpoint (one the caller registered)." }) @IsParleyId() userEndpointId!: string;
  @ApiProperty(ID_SCHEMA) @IsParleyId() targetUserId!: string;
  @ApiProperty(ID_SCHEMA) @IsParleyId() targetUserEndpointId!: string;
  @ApiPropertyOptional(sessionTypeProperty) @IsOptional() @IsIn(SESSION_TYPES_OF_SNAPSHOTS) sessionType?: SessionType;
  @ApiPropertyOptional(ID_SCHEMA) @IsOptional() @IsParleyId() sessionId?: string;
  @ApiProperty({ pattern: WORD.source, examples: [...CAMERA_REQUEST_TYPES], description: 'CAMERA_SWITCH, FLASH_ON, FLASH_OFF, or a word the caller chooses.' }) @IsWord() cameraRequestType!: string;
}

export class SnapshotCameraRequestRespondWebCommand {
  @ApiProperty(ID_SCHEMA) @IsParleyId() snapshotCameraRequestId!: string;
  @ApiProperty({ ...ID_SCHEMA, description: "The responder's user endpoint." }) @IsParleyId() userEndpointId!: string;
  @ApiProperty() @IsBoolean() succeeded!: boolean;
  @ApiPropertyOptional({ maxLength: SNAPSHOT_TEXT_MAX }) @IsOptional() @IsString() @MaxLength(SNAPSHOT_TEXT_MAX) additionalInformation?: string;
}

export class CreateSnapshotSignedURLWebCommand {
  @ApiProperty(ID_SCHEMA) @IsParleyId() snapshotId!: string;
  @ApiPropertyOptional({ description: "A URL of Parley's own (GET /snapshots/signed/…) even when the store is S3." }) @IsOptional() @IsBoolean() createInternalSignedUrl?: boolean;
}

export class SignedUrl {
  @ApiProperty({ format: 'url' }) url!: string;
  @ApiProperty({ format: 'date-time' }) validUntil!: string;
}

/** The fields of POST /filetransfers (multipart; the file is the part `file`). */
export class FileTransferFields {
  @ApiPropertyOptional({ ...ID_SCHEMA, description: "The sender's user endpoint." }) @IsOptional() @IsParleyId() userEndpointId?: string;
  @ApiProperty({ ...ID_SCHEMA, description: 'The application id.' }) @IsParleyId() applicationId!: string;
  @ApiPropertyOptional(ID_SCHEMA) @IsOptional() @IsParleyId() interactionId?: string;
  @ApiPropertyOptional(ID_SCHEMA) @IsOptional() @IsParleyId() conferenceId?: string;
  @ApiProperty({ ...ID_SCHEMA, description: 'The user who receives it: every endpoint of that user gets a FileTransferEvent.' }) @IsParleyId() targetId!: string;
}

export class FileTransferResult {
  @ApiProperty() fileTransferId!: string;
}

/** The fields of POST /assets/{assetId} (multipart; the file is the part `file`). */
export class AssetFields {
  @ApiProperty(ID_SCHEMA) @IsParleyId() applicationId!: string;
  @ApiProperty({ pattern: WORD.source }) @IsWord() category!: string;
  @ApiPropertyOptional({ maxLength: FILE_NAME_MAX, description: "The file's name (the part's own name when absent)." }) @IsOptional() @IsString() @MaxLength(FILE_NAME_MAX) filename?: string;
  @ApiProperty({ description: 'Comma-separated roles allowed to see the asset, e.g. admin,customer (AGENT, CUSTOMER, SERVICE, ADMIN in any case).' })
  @IsString() @Matches(/^\s*[A-Za-z]+\s*(,\s*[A-Za-z]+\s*){0,7}$/, { message: 'rolesAllowedAccess must be a comma-separated list of roles (agent, customer, service, admin)' })
  rolesAllowedAccess!: string;
}

// ---------------------------------------------------------------------------------------------
// What the gateway sends the service (the web command with the ids from the path, the stored file)

export class UploadedFile implements NamedFile {
  @Matches(/^[A-Za-z0-9_/.-]{1,1200}$/) key!: string;
  @IsInt() @Min(0) size!: number;
  @Matches(/^[0-9a-f]{64}$/) sha256!: string;
  @IsString() @MaxLength(255) mimeType!: string;
  @IsOptional() @IsString() @MaxLength(16) extension?: string;
  @IsOptional() @IsString() @MaxLength(FILE_NAME_MAX) filename?: string;
}

/** An upload command's stored file (absent in its question, UploadTargetQueries). */
function IsStoredFile(): PropertyDecorator {
  return (target, key) => {
    IsOptional()(target, key);
    ValidateNested()(target, key);
    Type(() => UploadedFile)(target, key);
  };
}

/**
 * An upload's command: its fields and the file the gateway stored. Without `file` it is the
 * question the gateway asks first (UploadTargetQueries): may the caller, and where does the blob go.
 */
export class AcquireSnapshotCommand extends SnapshotAcquireFields {
  @IsStoredFile() file?: UploadedFile;
}
export class UploadSnapshotCommand extends SnapshotUploadFields {
  @IsStoredFile() file?: UploadedFile;
}
export class TransferFileCommand extends FileTransferFields {
  @IsStoredFile() file?: UploadedFile;
}
export class UploadAssetCommand extends AssetFields {
  @IsParleyId() assetId!: string;
  @IsStoredFile() file?: UploadedFile;
}

/** The question before each upload command: the command's body without its file, answered with an UploadTarget. */
export const UploadTargetQueries = {
  acquire: 'parley.snapshot.qry.acquireTarget',
  upload: 'parley.snapshot.qry.uploadTarget',
  transferFile: 'parley.snapshot.qry.transferFileTarget',
  uploadAsset: 'parley.snapshot.qry.uploadAssetTarget',
} as const;

/** Where the gateway stores the file of an upload the service will take. */
export interface UploadTarget {
  /** The blob's key. */
  key: string;
  /** Only images are taken (a snapshot): anything else is 400 before a byte is stored. */
  imagesOnly: boolean;
}

/** What an upload command answers the gateway: the reply, and the blob its event names (a retry's answer names the first attempt's, so the gateway drops its own). */
export interface UploadAnswer<R> {
  reply: R;
  storedKey: string;
}

export class BlobQuery {
  @IsIn(BLOB_KINDS) kind!: BlobKind;
  @IsParleyId() id!: string;
}

/** What a signed URL serves. */
export interface BlobRef {
  kind: BlobKind;
  id: string;
  organizationId: string;
  key: string;
  size: number;
  mimeType: string;
  filename: string;
}

// ---------------------------------------------------------------------------------------------
// What the API answers

export class SnapshotApprovalProcessingResult {
  @ApiPropertyOptional() succeeded?: boolean;
  @ApiPropertyOptional() additionalInformation?: string;
}

export class Snapshot {
  @ApiProperty() id!: string;
  @ApiPropertyOptional() relatedSnapshotId?: string;
  @ApiProperty() organizationId!: string;
  @ApiProperty() applicationId!: string;
  @ApiProperty() requesterUserId!: string;
  @ApiProperty() requesterUserEndpointId!: string;
  @ApiProperty({ description: 'Whose camera: the user asked for it, or who uploaded it.' }) userId!: string;
  @ApiProperty() userEndpointId!: string;
  @ApiPropertyOptional({ enum: SESSION_TYPES_OF_SNAPSHOTS }) sessionType?: SessionType;
  @ApiPropertyOptional() sessionId?: string;
  @ApiPropertyOptional({ format: 'date-time', description: 'When the image arrived.' }) timestamp?: string;
  @ApiPropertyOptional() interactionId?: string;
  @ApiPropertyOptional() type?: string;
  @ApiPropertyOptional({ description: "Where the image is in the organization's storage (interactions/{interactionId}/… with an interaction)." }) path?: string;
  @ApiProperty({ enum: SNAPSHOT_STATES, description: 'REQUESTED (no image yet) is Parley\'s addition.' }) state!: SnapshotStateName;
  @ApiPropertyOptional({ type: SnapshotRequestResult }) requestProcessingResult?: SnapshotRequestResult;
  @ApiPropertyOptional({ type: SnapshotApprovalProcessingResult }) approvalProcessingResult?: SnapshotApprovalProcessingResult;
  @ApiPropertyOptional({ description: "The image's extension, from its content." }) suffix?: string;
  @ApiPropertyOptional({ description: "The image's type, from its content." }) mimeType?: string;
  @ApiProperty({ format: 'date-time' }) createdAt!: string;
  @ApiProperty({ type: 'integer' }) version!: number;
  @ApiProperty() approved!: boolean;
}

export class SnapshotListQuery {
  @IsParleyId() interactionId!: string;
}

export class FileTransfer {
  @ApiProperty() id!: string;
  @ApiProperty() organizationId!: string;
  @ApiProperty() applicationId!: string;
  @ApiProperty({ description: 'Who sent it.' }) userId!: string;
  @ApiPropertyOptional() userEndpointId?: string;
  @ApiPropertyOptional() interactionId?: string;
  @ApiPropertyOptional() conferenceId?: string;
  @ApiProperty({ enum: FILE_TRANSFER_TARGET_TYPES }) targetType!: 'user';
  @ApiProperty() targetId!: string;
  @ApiPropertyOptional() filename?: string;
  @ApiProperty() mimeType!: string;
  @ApiProperty({ type: 'integer' }) size!: number;
  @ApiProperty({ format: 'date-time' }) createdAt!: string;
}

export class FileTransferListQuery {
  @IsOptional() @IsParleyId() interactionId?: string;
  @IsOptional() @IsParleyId() conferenceId?: string;
  @IsBoolean() all!: boolean;
}

export class Asset {
  @ApiProperty() id!: string;
  @ApiProperty() organizationId!: string;
  @ApiProperty() applicationId!: string;
  @ApiProperty() category!: string;
  @ApiPropertyOptional() filename?: string;
  @ApiProperty({ type: [String] }) rolesAllowedAccess!: string[];
  @ApiProperty() mimeType!: string;
  @ApiProperty({ type: 'integer' }) size!: number;
  @ApiProperty({ format: 'date-time' }) createdAt!: string;
  @ApiProperty({ type: 'integer' }) version!: number;
}

export class AssetListQuery {
  @IsParleyId() applicationId!: string;
}

export class AssetIdCommand {
  @IsParleyId() assetId!: string;
}

/** One push of a snapshot, camera request or file transfer event to an endpoint: the event's fields, with its type and time. */
export interface SnapshotPush extends Record<string, unknown> {
  id: string;
  type: string;
  timestamp: string;
  organizationId: string;
}
