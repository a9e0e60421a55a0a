import * as mediasoup from 'mediasoup';
import type { types as ms } from 'mediasoup';
import { ParleyError, QUOTA_RETRY_AFTER_SECONDS, type ConferenceStreamType, quotaExceeded } from '@parley/contracts';
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
  /** WebRTC transports (publications plus views) one user may hold across all conferences: each takes RTC ports. */
  transportsPerUser: number;
}

/**
 * A conference on the SFU: `<organizationId>/<conferenceId>` (conference ids are unique per
 * organization only).
 */
export const roomOf = (organizationId: string, conferenceId: string): string => `${organizationId}/${conferenceId}`;

/** Who asks for media: the conference and the caller. */
interface Caller {
  organizationId: string;
  conferenceId: string;
  userEndpointId: string;
  /** The user behind the request (its transport quota). */
  userId: string;
}

interface Publication {
  room: string;
  /** `<organizationId>/<userId>`: whose quota it counts against. */
  owner: string;
  streamId: string;
  userEndpointId: string;
  streamType: ConferenceStreamType;
  transport: ms.WebRtcTransport;
  producers: ms.Producer[];
  iceCandidates: number;
}

interface View {
  room: string;
  owner: string;
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
 * What mediasoup throws while taking in a client's SDP (a missing SSRC, a malformed fingerprint,
 * parameters it refuses) is the offer's fault: a 400 that says what mediasoup said.
 */
function refusedOffer(e: unknown): unknown {
  if (e instanceof ParleyError) return e;
  const message = e instanceof Error ? e.message : String(e);
  return new ParleyError('BAD_REQUEST', `the SFU cannot use this SDP offer: ${message.slice(0, 300)}`);
}

/**
 * The SFU: mediasoup workers (one per core by default), one router per ROUTER-mode conference
 * on the least-loaded worker, one WebRTC transport per publication and per view.
 */
export class Sfu {
  private workers: ms.Worker[] = [];
  /** By room (see roomOf). */
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

  /** The room's router, created on the worker with the fewest routers. */
  private router(room: string): Promise<ms.Router> {
    const existing = this.routers.get(room);
    if (existing && !existing.router.closed) return Promise.resolve(existing.router);
    let creating = this.routerCreations.get(room);
    if (!creating) {
      creating = (async () => {
        const load = (w: ms.Worker) => [...this.routers.values()].filter((r) => r.worker === w).length;
        const worker = [...this.workers].sort((a, b) => load(a) - load(b))[0];
        if (!worker) throw new ParleyError('UNAVAILABLE', 'the SFU has no mediasoup worker running');
        const router = await worker.createRouter({ mediaCodecs: ROUTER_CODECS, appData: { room } });
        alignRtxPayloadTypes(router);
        this.routers.set(room, { router, worker });
        return router;
      })().finally(() => this.routerCreations.delete(room));
      this.routerCreations.set(room, creating);
    }
    return creating;
  }

  /** Transports being set up, by owner: they count against the quota before they are recorded. */
  private readonly settingUp = new Map<string, number>();

  /** Transports the user holds (or is getting) across all conferences. */
  private transportsOf(owner: string): number {
    let n = this.settingUp.get(owner) ?? 0;
    for (const p of this.publications.values()) if (p.owner === owner) n++;
    for (const v of this.views.values()) if (v.owner === owner) n++;
    return n;
  }

  /**
   * Runs the set-up of one transport of `caller` within its user's quota: the place is taken
   * before the first await, so requests racing in parallel cannot pass the quota together.
   */
  private async withinQuota<T>(caller: Caller, setUp: () => Promise<T>): Promise<T> {
    const owner = `${caller.organizationId}/${caller.userId}`;
    const limit = this.options.transportsPerUser;
    if (this.transportsOf(owner) >= limit) {
      throw quotaExceeded(`User ${caller.userId} holds ${limit} media transports (publications and views), the most one user may; stop one first`, 'transportsPerUser', limit, QUOTA_RETRY_AFTER_SECONDS);
    }
    this.settingUp.set(owner, (this.settingUp.get(owner) ?? 0) + 1);
    try {
      return await setUp();
    } finally {
      const left = (this.settingUp.get(owner) ?? 1) - 1;
      if (left > 0) this.settingUp.set(owner, left);
      else this.settingUp.delete(owner);
    }
  }

  /** A new WebRTC transport. Running out of RTC ports is the SFU's state, not the caller's fault: 503 with a Retry-After. */
  private async transport(router: ms.Router, appData: Record<string, unknown>): Promise<ms.WebRtcTransport> {
    try {
      return await router.createWebRtcTransport({
        listenIps: [{ ip: this.options.listenIp, ...(this.options.announcedIp ? { announcedIp: this.options.announcedIp } : {}) }],
        enableUdp: true,
        enableTcp: true,
        preferUdp: true,
        initialAvailableOutgoingBitrate: 1_000_000,
        appData,
      });
    } catch (e) {
      if (/no more available ports/i.test(String((e as Error)?.message))) {
        throw new ParleyError('UNAVAILABLE', 'The SFU has no free RTC port for another transport; try again later', { retryAfterSeconds: QUOTA_RETRY_AFTER_SECONDS });
      }
      throw e;
    }
  }

  /** What the SFU holds now: the media service reports it on its health. */
  get load(): { rooms: number; publications: number; views: number } {
    return { rooms: this.routers.size, publications: this.publications.size, views: this.views.size };
  }

  async publish(req: Caller & { streamId: string; streamType: ConferenceStreamType; sdpOffer: string; videoBitrate?: number }): Promise<{ sdpAnswer: string }> {
    const room = roomOf(req.organizationId, req.conferenceId);
    const k = key(room, req.streamId);
    if (this.publications.has(k)) throw new ParleyError('CONFLICT', `stream ${req.streamId} is already published`);
    const offer = parseOffer(req.sdpOffer);
    return this.withinQuota(req, () => this.setUpPublication(req, room, offer));
  }

  private async setUpPublication(req: Caller & { streamId: string; streamType: ConferenceStreamType; videoBitrate?: number }, room: string, offer: ParsedOffer): Promise<{ sdpAnswer: string }> {
    const router = await this.router(room);
    const transport = await this.transport(router, { room, streamId: req.streamId });
    try {
      const plan = planPublish(offer, req.streamType, router.rtpCapabilities, sdpParametersOf(transport));
      await transport.connect({ dtlsParameters: plan.dtlsParameters });
      const producers: ms.Producer[] = [];
      for (const p of plan.producers) producers.push(await transport.produce({ kind: p.kind, rtpParameters: p.rtpParameters, appData: { streamId: req.streamId } }));
      if (req.videoBitrate) await transport.setMaxIncomingBitrate(req.videoBitrate);
      this.publications.set(key(room, req.streamId), {
        room,
        owner: `${req.organizationId}/${req.userId}`,
        streamId: req.streamId,
        userEndpointId: req.userEndpointId,
        streamType: req.streamType,
        transport,
        producers,
        iceCandidates: 0,
      });
      return { sdpAnswer: plan.answer };
    } catch (e) {
      transport.close();
      throw refusedOffer(e);
    }
  }

  async view(req: Caller & { streamId: string; viewerId: string; sdpOffer: string }): Promise<{ sdpAnswer: string }> {
    const room = roomOf(req.organizationId, req.conferenceId);
    const publication = this.publications.get(key(room, req.streamId));
    if (!publication) throw notFound(`stream ${req.streamId} is not published on the SFU`);
    const vk = key(room, req.streamId, req.viewerId);
    if (this.views.has(vk)) throw new ParleyError('CONFLICT', `viewer ${req.viewerId} already views stream ${req.streamId}`);
    const offer: ParsedOffer = parseOffer(req.sdpOffer);
    return this.withinQuota(req, () => this.setUpView(req, room, publication, offer));
  }

  private async setUpView(req: Caller & { streamId: string; viewerId: string }, room: string, publication: Publication, offer: ParsedOffer): Promise<{ sdpAnswer: string }> {
    const router = await this.router(room);
    const sections = assignViewerSections(
      offer,
      publication.producers.map((p) => p.kind),
    );
    let caps: ms.RtpCapabilities;
    try {
      caps = viewerRtpCapabilities(offer, router.rtpCapabilities);
    } catch (e) {
      throw refusedOffer(e);
    }
    const transport = await this.transport(router, { room, streamId: req.streamId, viewerId: req.viewerId });
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
      this.views.set(key(room, req.streamId, req.viewerId), { room, owner: `${req.organizationId}/${req.userId}`, streamId: req.streamId, viewerId: req.viewerId, userEndpointId: req.userEndpointId, transport, iceCandidates: 0 });
      return { sdpAnswer };
    } catch (e) {
      transport.close();
      throw refusedOffer(e);
    }
  }

  /** mediasoup is ICE-lite: it learns the peer's address from its checks; candidates are validated and counted. */
  addIceCandidates(req: { organizationId: string; conferenceId: string; streamId: string; viewerId?: string; candidates: { candidate: string }[] }): void {
    const room = roomOf(req.organizationId, req.conferenceId);
    const target = req.viewerId ? this.views.get(key(room, req.streamId, req.viewerId)) : this.publications.get(key(room, req.streamId));
    if (!target) throw notFound(req.viewerId ? `viewer ${req.viewerId} of stream ${req.streamId} not found on the SFU` : `stream ${req.streamId} is not published on the SFU`);
    for (const c of req.candidates) {
      if (c.candidate !== '' && !/^(a=)?candidate:\S+ \d+ (udp|tcp) \d+ \S+ \d+ typ (host|srflx|prflx|relay)\b/i.test(c.candidate)) {
        throw new ParleyError('BAD_REQUEST', `not an ICE candidate: "${c.candidate.slice(0, 80)}"`);
      }
    }
    target.iceCandidates += req.candidates.length;
  }

  async setMaxIncomingBitrate(req: { organizationId: string; conferenceId: string; streamId: string; videoBitrate: number }): Promise<void> {
    const publication = this.publications.get(key(roomOf(req.organizationId, req.conferenceId), req.streamId));
    if (!publication) throw notFound(`stream ${req.streamId} is not published on the SFU`);
    await publication.transport.setMaxIncomingBitrate(req.videoBitrate);
  }

  /** Closes a publication and every view of it. Idempotent. */
  unpublish(room: string, streamId: string): void {
    const k = key(room, streamId);
    this.publications.get(k)?.transport.close();
    this.publications.delete(k);
    for (const [vk, v] of this.views) {
      if (v.room === room && v.streamId === streamId) {
        v.transport.close();
        this.views.delete(vk);
      }
    }
  }

  /** Closes one view. Idempotent. */
  stopView(room: string, streamId: string, viewerId: string): void {
    const vk = key(room, streamId, viewerId);
    this.views.get(vk)?.transport.close();
    this.views.delete(vk);
  }

  /** Everything an endpoint publishes or views in a conference. Idempotent. */
  leave(room: string, userEndpointId: string): void {
    for (const p of [...this.publications.values()]) if (p.room === room && p.userEndpointId === userEndpointId) this.unpublish(room, p.streamId);
    for (const v of [...this.views.values()]) if (v.room === room && v.userEndpointId === userEndpointId) this.stopView(room, v.streamId, v.viewerId);
  }

  /** Closes the conference's router and with it every transport, producer and consumer. Idempotent. */
  end(room: string): void {
    this.routers.get(room)?.router.close();
    this.routers.delete(room);
    for (const [k, p] of this.publications) if (p.room === room) this.publications.delete(k);
    for (const [k, v] of this.views) if (v.room === room) this.views.delete(k);
  }

  hasRouter(room: string): boolean {
    return this.routers.has(room);
  }

  /**
   * What the worker holds for a conference, counted from the worker's own dump of the router
   * (not from this class's bookkeeping): the router, its transports, producers and consumers.
   */
  async usage(room: string): Promise<ConferenceMediaUsage> {
    const entry = this.routers.get(room);
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
  async traffic(room: string): Promise<{ fromPublishers: number; toViewers: number }> {
    const of = (transports: ms.WebRtcTransport[]) => Promise.all(transports.filter((t) => !t.closed).map((t) => t.getStats()));
    const pubs = await of([...this.publications.values()].filter((p) => p.room === room).map((p) => p.transport));
    const views = await of([...this.views.values()].filter((v) => v.room === room).map((v) => v.transport));
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
