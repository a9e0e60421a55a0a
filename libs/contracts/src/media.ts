import { Type } from 'class-transformer';
import { ArrayMaxSize, IsArray, IsIn, IsInt, IsNotEmpty, IsOptional, IsString, Max, MaxLength, Min, ValidateNested } from 'class-validator';
import { type ConferenceStreamType, IceCandidate } from './conference/web-commands';
import { Limits } from './limits';
import { IsParleyId } from './validation';

/** Requests from the conference service to the media service (see MediaCommands subjects). */

export class MediaPublishRequest {
  @IsParleyId() conferenceId!: string;
  @IsParleyId() organizationId!: string;
  @IsParleyId() userEndpointId!: string;
  @IsParleyId() streamId!: string;
  @IsIn(['MIC', 'CAM', 'SCREEN', 'MIC_AND_CAM']) streamType!: ConferenceStreamType;
  @IsString() @IsNotEmpty() @MaxLength(Limits.sdpBytes) sdpOffer!: string;
  @IsOptional() @IsInt() @Min(1000) @Max(100_000_000) videoBitrate?: number;
}
export interface MediaPublishResponse {
  sdpAnswer: string;
}

export class MediaViewRequest {
  @IsParleyId() conferenceId!: string;
  @IsParleyId() organizationId!: string;
  @IsParleyId() userEndpointId!: string;
  @IsParleyId() streamId!: string;
  @IsParleyId() viewerId!: string;
  @IsString() @IsNotEmpty() @MaxLength(Limits.sdpBytes) sdpOffer!: string;
}
export interface MediaViewResponse {
  sdpAnswer: string;
}

export class MediaIceCandidatesRequest {
  @IsParleyId() conferenceId!: string;
  @IsParleyId() organizationId!: string;
  @IsParleyId() streamId!: string;
  @IsOptional() @IsParleyId() viewerId?: string;
  @IsArray() @ArrayMaxSize(256) @ValidateNested({ each: true }) @Type(() => IceCandidate) candidates!: IceCandidate[];
}

export class MediaBitrateRequest {
  @IsParleyId() conferenceId!: string;
  @IsParleyId() organizationId!: string;
  @IsParleyId() streamId!: string;
  @IsInt() @Min(1000) @Max(100_000_000) videoBitrate!: number;
}

export class MediaReleaseRequest {
  @IsParleyId() conferenceId!: string;
  @IsParleyId() organizationId!: string;
  @IsParleyId() streamId!: string;
  @IsOptional() @IsParleyId() viewerId?: string;
}
