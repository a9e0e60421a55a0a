import type { ConferenceStreamType } from './conference/web-commands';

/** Requests from the conference service to the media service (see MediaCommands subjects). */
export interface MediaPublishRequest {
  conferenceId: string;
  organizationId: string;
  userEndpointId: string;
  streamId: string;
  streamType: ConferenceStreamType;
  sdpOffer: string;
  videoBitrate?: number;
}
export interface MediaPublishResponse {
  sdpAnswer: string;
}
export interface MediaViewRequest {
  conferenceId: string;
  organizationId: string;
  userEndpointId: string;
  streamId: string;
  viewerId: string;
  sdpOffer: string;
}
export interface MediaViewResponse {
  sdpAnswer: string;
}
export interface MediaIceCandidatesRequest {
  conferenceId: string;
  streamId: string;
  viewerId?: string;
  candidates: { candidate: string; sdpMid?: string; sdpMLineIndex?: number }[];
}
export interface MediaBitrateRequest {
  conferenceId: string;
  streamId: string;
  videoBitrate: number;
}
export interface MediaReleaseRequest {
  conferenceId: string;
  streamId: string;
  viewerId?: string;
}
