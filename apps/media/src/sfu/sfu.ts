import * as mediasoup from 'mediasoup';
import type { types as ms } from 'mediasoup';
import { ParleyError, type ConferenceStreamType } from '@parley/contracts';
import { type ParsedOffer, type TransportSdpParameters, assignViewerSections, parseOffer, planPublish, viewAnswer, viewerRtpCapabilities } from './sdp';

/**
 * The codecs every conference router offers: Opus; VP8 and H264 (constrained baseline).
 *
 * Payload types matter here. In Parley's API the viewer's browser makes the offer, and a
 * browser decodes by the payload types of its own offer, while mediasoup sends a consumer's RTP
 * with the router's payload types (it does not rewrite them per consumer). So the router uses
 * the payload types Chromium (libwebrtc) offers: Opus 111, VP8 96 with RTX 97, H264 42e01f 106
 * with RTX 107. A viewer whose offer numbers the stream's codec differently is refused with a
 * 400 that says so (see view()); one whose RTX number differs gets the stream without RTX.
 */
export const ROUTER_CODECS: ms.RtpCodecCapability[] = [
  { kind: 'audio', mimeType: 'audio/opus', clockRate: 48000, channels: 2, preferredPayloadType: 111 },
  { kind: 'video', mimeType: 'video/VP8', clockRate: 90000, preferredPayloadType: 96, parameters: { 'x-google-start-bitrate': 1000 } },
  {
    kind: 'video',
    mimeType: 'video/H264',
    clockRate: 90000,
    preferredPayloadType: 106,
    parameters: { 'packetization-mode': 1, 'profile-level-id': '42e01f', 'level-asymmetry-allowed': 1 },
  },
];
/** RTX payload type by the payload type of the codec it repairs (Chromium's numbering). */
const RTX_PAYLOAD_TYPES: Record<number, number> = { 96: 97, 106: 107 };

/**
 * mediasoup picks RTX payload types itself (the first free dynamic one) and keeps the router's
 * capabilities as plain data in its JavaScript layer, where producers' payload-type mappings are
 * computed: renumber the RTX codecs there, right after the router is made and before any
 * producer exists.
 */
function alignRtxPayloadTypes(router: ms.Router): void {
  const codecs = router.rtpCapabilities.codecs ?? [];
  for (const codec of codecs) {
    const apt = Number(codec.parameters?.apt);
    if (codec.mimeType.toLowerCase().endsWith('/rtx') && RTX_PAYLOAD_TYPES[apt] !== undefined) codec.preferredPayloadType = RTX_PAYLOAD_TYPES[apt];
  }
  const pts = codecs.map((c) => c.preferredPayloadType);
  if (new Set(pts).size !== pts.length) throw new Error(`router payload types collide after aligning RTX: ${pts.join(',')}`);
}

export interface SfuOptions {
  workers: number;
  rtcMinPort: number;
  rtcMaxPort: number;
  /** Address the WebRTC transports listen on. */
  listenIp: string;
  /** Address announced in ICE candidates (the public one, behind NAT). */
  announcedIp?: string;
  logLevel?: ms.WorkerLogLevel;
}

interface Publication {
  conferenceId: string;
  streamId: string;
  userEndpointId: string;
  streamType: ConferenceStreamType;
  transport: ms.WebRtcTransport;
  producers: ms.Producer[];
  iceCandidates: number;
}

interface View {
  conferenceId: string;
  streamId: string;
  viewerId: string;
  userEndpointId: string;
  /** Its consumers live on it and close with it. */
  transport: ms.WebRtcTransport;
  iceCandidates: number;
}

const key = (...parts: string[]) => parts.join('\u0000');

/**
 * Whether the viewer's offer numbers the consumer's codec (and its RTX) as the SFU sends them:
 * 'agree', 'rtx-differs', or the reason the viewer could not decode the stream.
 */
function payloadTypesAgree(params: ms.RtpParameters, offered: { rtp: { payload: number; codec: string }[]; fmtp: { payload: number; config: string }[] }): string {
  const [media, ...rest] = params.codecs;
  const name = media.mimeType.split('/')[1].toLowerCase();
  const offeredPt = offered.rtp.find((r) => r.payload === media.payloadType);
  if (!offeredPt || offeredPt.codec.toLowerCase() !== name) {
    const theirs = offered.rtp.filter((r) => r.codec.toLowerCase() === name).map((r) => r.payload);
    return `the viewer's offer numbers ${media.mimeType} as payload type ${theirs.join('/') || '(none)'}, the SFU sends it as ${media.payloadType}; Parley's SFU uses Chromium's payload types`;
  }
  const rtx = rest.find((c) => c.mimeType.toLowerCase().endsWith('/rtx'));
  if (!rtx) return 'agree';
  const offeredRtx = offered.rtp.find((r) => r.payload === rtx.payloadType);
  const apt = offered.fmtp.find((f) => f.payload === rtx.payloadType)?.config.match(/apt=(\d+)/)?.[1];
  return offeredRtx?.codec.toLowerCase() === 'rtx' && Number(apt) === media.payloadType ? 'agree' : 'rtx-differs';
}
/** A transport's ICE and DTLS parameters as plain data (they are getters on the transport). */
const sdpParametersOf = (t: ms.WebRtcTransport): TransportSdpParameters => ({ iceParameters: t.iceParameters, iceCandidates: t.iceCandidates, dtlsParameters: t.dtlsParameters });
const notFound = (message: string) => new ParleyError('NOT_FOUND', message);

/**
 * The SFU: mediasoup workers (one per core by default), one router per ROUTER-mode conference
 * on the least-loaded worker, one WebRTC transport per publication and per view.
 */
export class Sfu {
  private workers: ms.Worker[] = [];
  private readonly routers = new Map<string, { router: ms.Router; worker: ms.Worker }>();
  private readonly routerCreations = new Map<string, Promise<ms.Router>>();
  private readonly publications = new Map<string, Publication>();
  private readonly views = new Map<string, View>();

  constructor(private readonly options: SfuOptions) {}

  async start(onWorkerDied: (error: Error) => void): Promise<void> {
    for (let i = 0; i < this.options.workers; i++) {
      const worker = await mediasoup.createWorker({ logLevel: this.options.logLevel ?? 'warn', rtcMinPort: this.options.rtcMinPort, rtcMaxPort: this.options.rtcMaxPort });
      worker.on('died', (e) => onWorkerDied(e));
      this.workers.push(worker);
    }
  }

  get workerList(): readonly ms.Worker[] {
    return this.workers;
  }

  async close(): Promise<void> {
    for (const w of this.workers) w.close();
    this.workers = [];
    this.routers.clear();
    this.publications.clear();
    this.views.clear();
  }

  /** The conference's router, created on the worker with the fewest routers. */
  private router(conferenceId: string): Promise<ms.Router> {
    const existing = this.routers.get(conferenceId);
    if (existing && !existing.router.closed) return Promise.resolve(existing.router);
    let creating = this.routerCreations.get(conferenceId);
    if (!creating) {
      creating = (async () => {
        const load = (w: ms.Worker) => [...this.routers.values()].filter((r) => r.worker === w).length;
        const worker = [...this.workers].sort((a, b) => load(a) - load(b))[0];
        if (!worker) throw new ParleyError('UNAVAILABLE', 'the SFU has no mediasoup worker running');
        const router = await worker.createRouter({ mediaCodecs: ROUTER_CODECS, appData: { conferenceId } });
        alignRtxPayloadTypes(router);
        this.routers.set(conferenceId, { router, worker });
        return router;
      })().finally(() => this.routerCreations.delete(conferenceId));
      this.routerCreations.set(conferenceId, creating);
    }
    return creating;
  }

  private transport(router: ms.Router, appData: Record<string, unknown>): Promise<ms.WebRtcTransport> {
    return router.createWebRtcTransport({
      listenIps: [{ ip: this.options.listenIp, ...(this.options.announcedIp ? { announcedIp: this.options.announcedIp } : {}) }],
      enableUdp: true,
      enableTcp: true,
      preferUdp: true,
      initialAvailableOutgoingBitrate: 1_000_000,
      appData,
    });
  }

  async publish(req: { conferenceId: string; streamId: string; userEndpointId: string; streamType: ConferenceStreamType; sdpOffer: string; videoBitrate?: number }): Promise<{ sdpAnswer: string }> {
    const k = key(req.conferenceId, req.streamId);
    if (this.publications.has(k)) throw new ParleyError('CONFLICT', `stream ${req.streamId} is already published`);
    const offer = parseOffer(req.sdpOffer);
    const router = await this.router(req.conferenceId);
    const transport = await this.transport(router, { conferenceId: req.conferenceId, streamId: req.streamId });
    try {
      const plan = planPublish(offer, req.streamType, router.rtpCapabilities, sdpParametersOf(transport));
      await transport.connect({ dtlsParameters: plan.dtlsParameters });
      const producers: ms.Producer[] = [];
      for (const p of plan.producers) producers.push(await transport.produce({ kind: p.kind, rtpParameters: p.rtpParameters, appData: { streamId: req.streamId } }));
      if (req.videoBitrate) await transport.setMaxIncomingBitrate(req.videoBitrate);
      this.publications.set(k, { ...req, transport, producers, iceCandidates: 0 });
      return { sdpAnswer: plan.answer };
    } catch (e) {
      transport.close();
      throw e;
    }
  }

  async view(req: { conferenceId: string; streamId: string; viewerId: string; userEndpointId: string; sdpOffer: string }): Promise<{ sdpAnswer: string }> {
    const publication = this.publications.get(key(req.conferenceId, req.streamId));
    if (!publication) throw notFound(`stream ${req.streamId} is not published on the SFU`);
    const vk = key(req.conferenceId, req.streamId, req.viewerId);
    if (this.views.has(vk)) throw new ParleyError('CONFLICT', `viewer ${req.viewerId} already views stream ${req.streamId}`);
    const offer: ParsedOffer = parseOffer(req.sdpOffer);
    const router = await this.router(req.conferenceId);
    const sections = assignViewerSections(
      offer,
      publication.producers.map((p) => p.kind),
    );
    const caps = viewerRtpCapabilities(offer, router.rtpCapabilities);
    const transport = await this.transport(router, { conferenceId: req.conferenceId, streamId: req.streamId, viewerId: req.viewerId });
    try {
      await transport.connect({ dtlsParameters: offer.dtlsParameters });
      const consumers = new Map<string, ms.Consumer>();
      for (const producer of publication.producers) {
        if (!router.canConsume({ producerId: producer.id, rtpCapabilities: caps })) {
          throw new ParleyError('BAD_REQUEST', `the viewer's offer has no ${producer.kind} codec the stream is sent in (${producer.rtpParameters.codecs[0]?.mimeType})`);
        }
        const m = sections.get(producer.kind);
        if (!m) continue;
        // The MID the consumer stamps on its packets is the viewer's m-section's, or the browser cannot demultiplex them.
        const mid = String(m.mid);
        let consumer = await transport.consume({ producerId: producer.id, rtpCapabilities: caps, paused: false, mid, appData: { viewerId: req.viewerId } });
        const numbering = payloadTypesAgree(consumer.rtpParameters, m);
        if (numbering === 'rtx-differs') {
          consumer.close();
          const noRtx = { ...caps, codecs: (caps.codecs ?? []).filter((c) => !c.mimeType.toLowerCase().endsWith('/rtx')) };
          consumer = await transport.consume({ producerId: producer.id, rtpCapabilities: noRtx, paused: false, mid, appData: { viewerId: req.viewerId } });
        } else if (numbering !== 'agree') {
          throw new ParleyError('BAD_REQUEST', numbering);
        }
        consumers.set(String(m.mid), consumer);
      }
      const sdpAnswer = viewAnswer(offer, consumers, req.streamId, sdpParametersOf(transport));
      // mediasoup closes consumers with their producer, not the viewer's transport: unpublish() closes the stream's views.
      this.views.set(vk, { ...req, transport, iceCandidates: 0 });
      return { sdpAnswer };
    } catch (e) {
      transport.close();
      throw e;
    }
  }

  /** mediasoup is ICE-lite: it learns the peer's address from its checks; candidates are validated and counted. */
  addIceCandidates(req: { conferenceId: string; streamId: string; viewerId?: string; candidates: { candidate: string }[] }): void {
    const target = req.viewerId ? this.views.get(key(req.conferenceId, req.streamId, req.viewerId)) : this.publications.get(key(req.conferenceId, req.streamId));
    if (!target) throw notFound(req.viewerId ? `viewer ${req.viewerId} of stream ${req.streamId} not found on the SFU` : `stream ${req.streamId} is not published on the SFU`);
    for (const c of req.candidates) {
      if (c.candidate !== '' && !/^(a=)?candidate:\S+ \d+ (udp|tcp) \d+ \S+ \d+ typ (host|srflx|prflx|relay)\b/i.test(c.candidate)) {
        throw new ParleyError('BAD_REQUEST', `not an ICE candidate: "${c.candidate.slice(0, 80)}"`);
      }
    }
    target.iceCandidates += req.candidates.length;
  }

  async setMaxIncomingBitrate(req: { conferenceId: string; streamId: string; videoBitrate: number }): Promise<void> {
    const publication = this.publications.get(key(req.conferenceId, req.streamId));
    if (!publication) throw notFound(`stream ${req.streamId} is not published on the SFU`);
    await publication.transport.setMaxIncomingBitrate(req.videoBitrate);
  }

  /** Closes a publication and every view of it. Idempotent. */
  unpublish(conferenceId: string, streamId: string): void {
    const k = key(conferenceId, streamId);
    this.publications.get(k)?.transport.close();
    this.publications.delete(k);
    for (const [vk, v] of this.views) {
      if (v.conferenceId === conferenceId && v.streamId === streamId) {
        v.transport.close();
        this.views.delete(vk);
      }
    }
  }

  /** Closes one view. Idempotent. */
  stopView(conferenceId: string, streamId: string, viewerId: string): void {
    const vk = key(conferenceId, streamId, viewerId);
    this.views.get(vk)?.transport.close();
    this.views.delete(vk);
  }

  /** Everything an endpoint publishes or views in a conference. Idempotent. */
  leave(conferenceId: string, userEndpointId: string): void {
    for (const p of [...this.publications.values()]) if (p.conferenceId === conferenceId && p.userEndpointId === userEndpointId) this.unpublish(conferenceId, p.streamId);
    for (const v of [...this.views.values()]) if (v.conferenceId === conferenceId && v.userEndpointId === userEndpointId) this.stopView(conferenceId, v.streamId, v.viewerId);
  }

  /** Closes the conference's router and with it every transport, producer and consumer. Idempotent. */
  end(conferenceId: string): void {
    this.routers.get(conferenceId)?.router.close();
    this.routers.delete(conferenceId);
    for (const [k, p] of this.publications) if (p.conferenceId === conferenceId) this.publications.delete(k);
    for (const [k, v] of this.views) if (v.conferenceId === conferenceId) this.views.delete(k);
  }

  hasRouter(conferenceId: string): boolean {
    return this.routers.has(conferenceId);
  }

  /**
   * What the worker holds for a conference, counted from the worker's own dump of the router
   * (not from this class's bookkeeping): the router, its transports, producers and consumers.
   */
  async usage(conferenceId: string): Promise<ConferenceMediaUsage> {
    const entry = this.routers.get(conferenceId);
    if (!entry || entry.router.closed) return { router: false, transports: 0, producers: 0, consumers: 0 };
    const dump = (await entry.router.dump()) as { transportIds: string[]; mapProducerIdConsumerIds: Record<string, string[]>; mapConsumerIdProducerId: Record<string, string> };
    return {
      router: true,
      transports: dump.transportIds.length,
      producers: Object.keys(dump.mapProducerIdConsumerIds).length,
      consumers: Object.keys(dump.mapConsumerIdProducerId).length,
    };
  }

  /**
   * Bytes on the wire so far (RTP, RTCP, ICE and DTLS) of a conference's transports: received
   * from its publishers, sent to its viewers.
   */
  async traffic(conferenceId: string): Promise<{ fromPublishers: number; toViewers: number }> {
    const of = (transports: ms.WebRtcTransport[]) => Promise.all(transports.filter((t) => !t.closed).map((t) => t.getStats()));
    const pubs = await of([...this.publications.values()].filter((p) => p.conferenceId === conferenceId).map((p) => p.transport));
    const views = await of([...this.views.values()].filter((v) => v.conferenceId === conferenceId).map((v) => v.transport));
    const sum = (stats: ms.WebRtcTransportStat[][], field: 'bytesReceived' | 'bytesSent') => stats.reduce((n, s) => n + (s[0]?.[field] ?? 0), 0);
    return { fromPublishers: sum(pubs, 'bytesReceived'), toViewers: sum(views, 'bytesSent') };
  }
}

export interface ConferenceMediaUsage {
  router: boolean;
  transports: number;
  producers: number;
  consumers: number;
}
