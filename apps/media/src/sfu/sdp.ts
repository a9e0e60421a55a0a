import * as sdpTransform from 'sdp-transform';
import type { types as ms } from 'mediasoup';
import type { ConferenceStreamType } from '@parley/contracts';
import { Limits, ParleyError } from '@parley/contracts';

/**
 * SDP offer in, SDP answer out, for an SFU that speaks ORTC parameters (mediasoup).
 *
 * The translation reuses mediasoup-client's own SDP and ORTC code (the functions its browser
 * handlers call, e.g. Chrome111.send()), run here on the server: versatica keeps them in step
 * with mediasoup's RTP parameters, and writing that by hand is exactly the bug farm it avoids.
 */
import * as ortc from 'mediasoup-client/lib/ortc';
import * as sdpCommonUtils from 'mediasoup-client/lib/handlers/sdp/commonUtils';
import * as sdpUnifiedPlanUtils from 'mediasoup-client/lib/handlers/sdp/unifiedPlanUtils';
import { RemoteSdp } from 'mediasoup-client/lib/handlers/sdp/RemoteSdp';

export interface TransportSdpParameters {
  iceParameters: ms.IceParameters;
  iceCandidates: ms.IceCandidate[];
  dtlsParameters: ms.DtlsParameters;
}

type MediaObject = sdpTransform.MediaDescription;

export interface ParsedOffer {
  sdp: sdpTransform.SessionDescription;
  /** What the browser can do, in mediasoup's terms. */
  rtpCapabilities: ms.RtpCapabilities;
  /** The browser's DTLS fingerprints; its role is set by our answer (we are the DTLS server). */
  dtlsParameters: ms.DtlsParameters;
  media: MediaObject[];
}

const bad = (message: string) => new ParleyError('BAD_REQUEST', message);

/**
 * Parses an SDP offer; anything that is not an audio/video offer we can answer is a 400, and so is
 * one larger than the bounds (Limits.sdp*): an answer has a section for every section of the offer,
 * so an offer with thousands of them would make an answer no reply could carry.
 */
export function parseOffer(sdp: string): ParsedOffer {
  if (typeof sdp !== 'string' || !sdp.startsWith('v=0')) throw bad('sdpOffer is not an SDP session description (it must start with "v=0")');
  if (sdp.length > Limits.sdpBytes) throw bad(`sdpOffer is ${sdp.length} characters; the limit is ${Limits.sdpBytes}`);
  let parsed: sdpTransform.SessionDescription;
  try {
    parsed = sdpTransform.parse(sdp);
  } catch (e) {
    throw bad(`sdpOffer could not be parsed: ${(e as Error).message}`);
  }
  const sections = parsed.media ?? [];
  if (sections.length > Limits.sdpMediaSections) throw bad(`sdpOffer has ${sections.length} m-sections; the limit is ${Limits.sdpMediaSections}`);
  for (const [i, m] of sections.entries()) {
    if ((m.candidates?.length ?? 0) > Limits.sdpCandidatesPerSection) {
      throw bad(`sdpOffer's m-section ${i} has ${m.candidates?.length} candidates; the limit is ${Limits.sdpCandidatesPerSection}`);
    }
    if ((m.rtp?.length ?? 0) > Limits.sdpCodecsPerSection) throw bad(`sdpOffer's m-section ${i} has ${m.rtp?.length} codecs; the limit is ${Limits.sdpCodecsPerSection}`);
  }
  const media = sections.filter((m) => m.type === 'audio' || m.type === 'video');
  if (media.length === 0) throw bad('sdpOffer has no audio or video m-section');
  for (const m of media) {
    if (m.mid === undefined) throw bad(`sdpOffer's ${m.type} m-section has no a=mid (only unified-plan offers are supported)`);
    // An offer leaves the DTLS role open (actpass); active/passive is an answer's choice.
    const setup = (m as { setup?: string }).setup ?? (parsed as { setup?: string }).setup;
    if (setup === 'active' || setup === 'passive') throw bad(`sdpOffer is an answer, not an offer (a=setup:${setup}; an offer has a=setup:actpass)`);
  }
  let dtlsParameters: ms.DtlsParameters;
  let rtpCapabilities: ms.RtpCapabilities;
  try {
    dtlsParameters = sdpCommonUtils.extractDtlsParameters({ sdpObject: parsed });
    rtpCapabilities = sdpCommonUtils.extractRtpCapabilities({ sdpObject: parsed });
  } catch (e) {
    throw bad(`sdpOffer lacks what WebRTC needs (${(e as Error).message})`);
  }
  return { sdp: parsed, rtpCapabilities, dtlsParameters: { ...dtlsParameters, role: 'client' }, media };
}

const direction = (m: MediaObject): string => m.direction ?? 'sendrecv';

/** Which m-section kinds a stream type must have. */
export function requiredKinds(type: ConferenceStreamType): ms.MediaKind[] {
  switch (type) {
    case 'MIC':
      return ['audio'];
    case 'CAM':
    case 'SCREEN':
      return ['video'];
    case 'MIC_AND_CAM':
      return ['audio', 'video'];
    case 'UNKNOWN':
      throw bad('conferenceStreamType must be one of: MIC, CAM, SCREEN, MIC_AND_CAM');
    default: {
      const never: never = type;
      throw bad(`unknown conferenceStreamType ${String(never)}`);
    }
  }
}

export interface PublishPlan {
  answer: string;
  dtlsParameters: ms.DtlsParameters;
  producers: { kind: ms.MediaKind; rtpParameters: ms.RtpParameters }[];
}

/**
 * A publisher's offer (its sending m-sections) → the producers to create and our answer.
 * The sending m-sections must match the stream type exactly (MIC: one audio; CAM/SCREEN: one
 * video; MIC_AND_CAM: one of each).
 */
export function planPublish(offer: ParsedOffer, streamType: ConferenceStreamType, routerCaps: ms.RtpCapabilities, transport: TransportSdpParameters): PublishPlan {
  const sending = offer.media.filter((m) => ['sendonly', 'sendrecv'].includes(direction(m)) && m.port !== 0);
  const kinds = sending.map((m) => m.type).sort();
  const wanted = [...requiredKinds(streamType)].sort();
  if (kinds.join(',') !== wanted.join(',')) {
    throw bad(`conferenceStreamType ${streamType} needs sending m-sections [${wanted.join(', ')}], the offer sends [${kinds.join(', ') || 'nothing'}]`);
  }
  const extended = ortc.getExtendedRtpCapabilities(offer.rtpCapabilities, routerCaps);
  const remoteSdp = new RemoteSdp({ ...transport, dtlsParameters: { ...transport.dtlsParameters, role: 'server' } });
  const producers: PublishPlan['producers'] = [];
  for (const m of offer.media) {
    const kind = m.type as ms.MediaKind;
    const sends = sending.includes(m);
    const offerRtpParameters = ortc.getSendingRtpParameters(kind, extended) as ms.RtpParameters;
    const answerRtpParameters = ortc.getSendingRemoteRtpParameters(kind, extended) as ms.RtpParameters;
    if (sends && offerRtpParameters.codecs.length === 0) {
      throw bad(`the offer's ${kind} m-section has no codec the SFU supports (audio: Opus; video: VP8, H264)`);
    }
    offerRtpParameters.mid = String(m.mid);
    remoteSdp.send({ offerMediaObject: m, offerRtpParameters, answerRtpParameters, extmapAllowMixed: true });
    if (!sends) continue;
    offerRtpParameters.rtcp = { ...offerRtpParameters.rtcp, cname: sdpCommonUtils.getCname({ offerMediaObject: m }) };
    offerRtpParameters.encodings = sdpUnifiedPlanUtils.getRtpEncodings({ offerMediaObject: m });
    producers.push({ kind, rtpParameters: offerRtpParameters });
  }
  return { answer: remoteSdp.getSdp(), dtlsParameters: offer.dtlsParameters, producers };
}

/** The receiving m-sections of a viewer's offer, assigned to the stream's producers by kind. */
export function assignViewerSections(offer: ParsedOffer, producerKinds: ms.MediaKind[]): Map<ms.MediaKind, MediaObject> {
  const receiving = offer.media.filter((m) => ['recvonly', 'sendrecv'].includes(direction(m)) && m.port !== 0);
  const assigned = new Map<ms.MediaKind, MediaObject>();
  for (const kind of producerKinds) {
    const m = receiving.find((x) => x.type === kind && ![...assigned.values()].includes(x));
    if (!m) throw bad(`the stream has ${kind}, but the viewer's offer has no receiving ${kind} m-section`);
    assigned.set(kind, m);
  }
  return assigned;
}

/**
 * The viewer's capabilities as mediasoup's consume() wants them: the codecs both sides support,
 * and the viewer's own header-extension ids. mediasoup keeps an extension on a consumer only
 * when the viewer numbers it as the router does; one numbered differently is left out rather
 * than sent under an id the viewer reads as something else (a browser takes the ids of its
 * own offer).
 */
export function viewerRtpCapabilities(offer: ParsedOffer, routerCaps: ms.RtpCapabilities): ms.RtpCapabilities {
  const recv = ortc.getRecvRtpCapabilities(ortc.getExtendedRtpCapabilities(offer.rtpCapabilities, routerCaps)) as ms.RtpCapabilities;
  return { ...recv, headerExtensions: offer.rtpCapabilities.headerExtensions ?? [] };
}

/**
 * Our answer to a viewer's offer: one sending m-section per consumer (its codecs, SSRCs and
 * RTX), the others inactive.
 */
export function viewAnswer(offer: ParsedOffer, consumers: Map<string /* mid */, { id: string; rtpParameters: ms.RtpParameters }>, streamId: string, transport: TransportSdpParameters): string {
  const remoteSdp = new RemoteSdp({ ...transport, dtlsParameters: { ...transport.dtlsParameters, role: 'server' } });
  for (const m of offer.media) {
    const consumer = consumers.get(String(m.mid));
    const params = consumer?.rtpParameters ?? { codecs: [], headerExtensions: [], encodings: [], rtcp: {} };
    remoteSdp.send({ offerMediaObject: m, offerRtpParameters: params, answerRtpParameters: params, extmapAllowMixed: true });
  }
  const answer = sdpTransform.parse(remoteSdp.getSdp());
  for (const m of answer.media) {
    const consumer = consumers.get(String(m.mid));
    if (!consumer) {
      m.direction = 'inactive';
      continue;
    }
    m.direction = 'sendonly';
    const encoding = consumer.rtpParameters.encodings?.[0];
    const cname = consumer.rtpParameters.rtcp?.cname ?? streamId;
    const msid = `${streamId} ${consumer.id}`;
    // One MediaStream per Parley stream, so the viewer's audio and video play in sync.
    (m as unknown as { msid: { id: string; appdata: string }[] }).msid = [{ id: streamId, appdata: consumer.id }];
    m.ssrcs = [];
    if (encoding?.ssrc) {
      m.ssrcs.push({ id: encoding.ssrc, attribute: 'cname', value: cname }, { id: encoding.ssrc, attribute: 'msid', value: msid });
      if (encoding.rtx?.ssrc) {
        m.ssrcs.push({ id: encoding.rtx.ssrc, attribute: 'cname', value: cname }, { id: encoding.rtx.ssrc, attribute: 'msid', value: msid });
        m.ssrcGroups = [{ semantics: 'FID', ssrcs: `${encoding.ssrc} ${encoding.rtx.ssrc}` }];
      }
    }
  }
  return sdpTransform.write(answer);
}
