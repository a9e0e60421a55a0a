import { type WrtcPeerConnection, inboundTotals, mediasoupWorkerBin, peerConnection, receiveOffer, sendOffer, sleep, syntheticMedia, waitFor } from '@parley/testing';
import type { ParleyError } from '@parley/contracts';
import type { Sfu as SfuType, roomOf as RoomOf } from './sfu';

const ORG = 'org-t';

/** Real WebRTC peers (@roamhq/wrtc, one kind per connection: see libs/testing/src/wrtc.ts) through the SFU. */
const within15s = (description: string) => ({ timeoutMs: 15_000, intervalMs: 100, description });

describe('the SFU with real WebRTC peers', () => {
  let sfu: SfuType;
  let roomOf: typeof RoomOf;
  /** The SFU's name of conference `c` of ORG. */
  const room = (c: string) => roomOf(ORG, c);
  const peers: WrtcPeerConnection[] = [];
  const stops: (() => void)[] = [];

  beforeAll(async () => {
    // mediasoup reads MEDIASOUP_WORKER_BIN when it is first loaded: set it, then load it.
    process.env.MEDIASOUP_WORKER_BIN = mediasoupWorkerBin();
    const loaded = await import('./sfu');
    roomOf = loaded.roomOf;
    sfu = new loaded.Sfu({ workers: 1, rtcMinPort: 41000, rtcMaxPort: 41999, listenIp: '127.0.0.1', transportsPerUser: 8 });
    await sfu.start((e) => {
      throw e;
    });
  });
  afterAll(async () => {
    stops.forEach((s) => s());
    peers.forEach((p) => p.close());
    await sfu.close();
  });

  async function publisher(conferenceId: string, streamId: string, streamType: 'MIC' | 'CAM' | 'MIC_AND_CAM' = 'MIC_AND_CAM', userEndpointId = 'ep-pub', userId = userEndpointId) {
    const media = syntheticMedia();
    stops.push(media.stop);
    const pc = peerConnection();
    peers.push(pc);
    const tracks = [...(streamType !== 'CAM' ? [media.audioTrack] : []), ...(streamType !== 'MIC' ? [media.videoTrack] : [])];
    const sdpOffer = await sendOffer(pc, tracks);
    const { sdpAnswer } = await sfu.publish({ organizationId: ORG, conferenceId, streamId, userEndpointId, userId, streamType, sdpOffer });
    await pc.setRemoteDescription({ type: 'answer', sdp: sdpAnswer });
    return pc;
  }

  async function viewer(conferenceId: string, streamId: string, viewerId: string, kinds: ('audio' | 'video')[] = ['audio', 'video'], userEndpointId = 'ep-view', userId = userEndpointId) {
    const pc = peerConnection();
    peers.push(pc);
    const sdpOffer = await receiveOffer(pc, kinds);
    const { sdpAnswer } = await sfu.view({ organizationId: ORG, conferenceId, streamId, viewerId, userEndpointId, userId, sdpOffer });
    await pc.setRemoteDescription({ type: 'answer', sdp: sdpAnswer });
    return pc;
  }

  it('forwards a published camera stream to a viewer: video bytes and decoded frames', async () => {
    await publisher('conf-v', 's-v', 'CAM');
    const pc = await viewer('conf-v', 's-v', 'v-v', ['video']);
    await waitFor(async () => (await inboundTotals(pc)).framesDecoded > 5, within15s('decoded frames at the viewer'));
    const first = await inboundTotals(pc);
    await sleep(2000);
    const later = await inboundTotals(pc);
    expect(later.videoBytes).toBeGreaterThan(first.videoBytes);
    expect(later.framesDecoded).toBeGreaterThan(first.framesDecoded);
  });

  it('forwards a published microphone stream to a viewer: audio bytes', async () => {
    await publisher('conf-a', 's-a', 'MIC');
    const pc = await viewer('conf-a', 's-a', 'v-a', ['audio']);
    await waitFor(async () => (await inboundTotals(pc)).audioBytes > 0, within15s('audio at the viewer'));
    const first = await inboundTotals(pc);
    await sleep(2000);
    expect((await inboundTotals(pc)).audioBytes).toBeGreaterThan(first.audioBytes);
  });

  it('rejects what it cannot answer, with the reason', async () => {
    const caller = { organizationId: ORG, conferenceId: 'conf-2', userEndpointId: 'e', userId: 'u' };
    await expect(sfu.publish({ ...caller, streamId: 's', streamType: 'CAM', sdpOffer: 'hello' })).rejects.toMatchObject({ code: 'BAD_REQUEST' });
    const pc = peerConnection();
    peers.push(pc);
    pc.addTransceiver('audio', { direction: 'sendonly' });
    const offer = await pc.createOffer();
    await expect(sfu.publish({ ...caller, streamId: 's', streamType: 'CAM', sdpOffer: offer.sdp })).rejects.toMatchObject({ code: 'BAD_REQUEST', message: expect.stringMatching(/CAM needs sending m-sections \[video\]/) });
    await expect(sfu.view({ ...caller, streamId: 'nope', viewerId: 'v', sdpOffer: offer.sdp })).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });

  it("answers a 400 for an offer mediasoup refuses (no SSRC, a bad fingerprint) or one past the SDP bounds, and holds no transport for it", async () => {
    const caller = { organizationId: ORG, conferenceId: 'conf-5', userEndpointId: 'e', userId: 'u', streamType: 'CAM' as const };
    const media = syntheticMedia();
    stops.push(media.stop);
    const pc = peerConnection();
    peers.push(pc);
    const good = await sendOffer(pc, [media.videoTrack]);
    const noSsrc = good.split('\r\n').filter((l) => !/^a=(ssrc|ssrc-group):/.test(l)).join('\r\n');
    const badFingerprint = good.replace(/a=fingerprint:sha-256 \S+/, 'a=fingerprint:sha-999 XY:not:a:fingerprint');
    const sections = good.slice(good.indexOf('m=video'));
    const many = good + Array.from({ length: 20 }, (_, i) => sections.replace(/a=mid:\S+/, `a=mid:x${i}`)).join('');
    expect(many.length).toBeLessThan(64 * 1024);
    for (const [name, sdpOffer, why] of [
      ['no SSRC', noSsrc, /SDP offer|ssrc/i],
      ['a bad fingerprint', badFingerprint, /SDP offer|fingerprint/i],
      ['21 m-sections', many, /21 m-sections; the limit is 16/],
      ['65 KB', good + 'a=x-padding\r\n'.repeat(5000), /characters; the limit is 65536/],
    ] as const) {
      const err = await sfu.publish({ ...caller, streamId: `s-${name.length}`, sdpOffer }).catch((e: unknown) => e);
      expect({ name, code: (err as ParleyError).code, message: (err as ParleyError).message }).toEqual({ name, code: 'BAD_REQUEST', message: expect.stringMatching(why) });
    }
    expect(await sfu.usage(room('conf-5'))).toMatchObject({ transports: 0 });
  });

  it("holds each user to its transport quota across conferences (429), and frees the places as transports close", async () => {
    for (let i = 0; i < 8; i++) await publisher(`conf-q${i % 2}`, `s-q${i}`, 'MIC', `ep-q${i}`, 'quota-user');
    const err = await publisher('conf-q2', 's-q8', 'MIC', 'ep-q8', 'quota-user').catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'TOO_MANY_REQUESTS', details: { quota: 'transportsPerUser', limit: 8, retryAfterSeconds: 30 } });
    // Another user is not held back by it.
    await publisher('conf-q2', 's-other', 'MIC', 'ep-other', 'other-user');
    sfu.unpublish(room('conf-q0'), 's-q0');
    await publisher('conf-q2', 's-q8', 'MIC', 'ep-q8', 'quota-user');
    // Requests racing in parallel cannot pass it together: the place is taken before the set-up's first await.
    const racing = await Promise.allSettled(Array.from({ length: 11 }, (_, i) => publisher('conf-q3', `s-r${i}`, 'MIC', `ep-r${i}`, 'racer')));
    expect(racing.filter((r) => r.status === 'fulfilled').length).toBe(8);
    expect(racing.filter((r) => r.status === 'rejected').map((r) => (r as PromiseRejectedResult).reason.code)).toEqual(['TOO_MANY_REQUESTS', 'TOO_MANY_REQUESTS', 'TOO_MANY_REQUESTS']);
    for (const c of ['conf-q0', 'conf-q1', 'conf-q2', 'conf-q3']) sfu.end(room(c));
  });

  it('stopView, leave and unpublish close exactly what they name, as the worker itself reports', async () => {
    await publisher('conf-4', 's-a', 'CAM', 'ep-1');
    await publisher('conf-4', 's-b', 'CAM', 'ep-2');
    await viewer('conf-4', 's-a', 'v-1', ['video'], 'ep-2');
    await viewer('conf-4', 's-a', 'v-2', ['video'], 'ep-3');
    await viewer('conf-4', 's-b', 'v-3', ['video'], 'ep-1');
    expect(await sfu.usage(room('conf-4'))).toEqual({ router: true, transports: 5, producers: 2, consumers: 3 });

    sfu.stopView(room('conf-4'), 's-a', 'v-2');
    expect(await sfu.usage(room('conf-4'))).toEqual({ router: true, transports: 4, producers: 2, consumers: 2 });

    // ep-1 publishes s-a (viewed by ep-2 as v-1) and views s-b (as v-3): all three transports go.
    sfu.leave(room('conf-4'), 'ep-1');
    expect(await sfu.usage(room('conf-4'))).toEqual({ router: true, transports: 1, producers: 1, consumers: 0 });
    await expect(sfu.view({ organizationId: ORG, conferenceId: 'conf-4', streamId: 's-a', viewerId: 'v-9', userEndpointId: 'ep-2', userId: 'ep-2', sdpOffer: 'v=0' })).rejects.toMatchObject({ code: 'NOT_FOUND' });

    sfu.unpublish(room('conf-4'), 's-b');
    expect(await sfu.usage(room('conf-4'))).toEqual({ router: true, transports: 0, producers: 0, consumers: 0 });
    await expect(sfu.setMaxIncomingBitrate({ organizationId: ORG, conferenceId: 'conf-4', streamId: 's-b', videoBitrate: 100_000 })).rejects.toMatchObject({ code: 'NOT_FOUND' });
    // Idempotent: what is gone stays gone without an error.
    sfu.unpublish(room('conf-4'), 's-b');
    sfu.stopView(room('conf-4'), 's-a', 'v-2');
  });

  it('leaves no router, transport, producer or consumer after the conference ends', async () => {
    await publisher('conf-3', 's-3');
    await viewer('conf-3', 's-3', 'v-3');
    const worker = sfu.workerList[0];
    const before = await worker.dump();
    expect(before.routerIds.length).toBeGreaterThan(0);
    for (const c of ['conf-3', 'conf-1', 'conf-2', 'conf-5', 'conf-v', 'conf-a', 'conf-4']) sfu.end(room(c));
    await waitFor(async () => (await worker.dump()).routerIds.length === 0, within15s('no routers'));
    expect(sfu.hasRouter(room('conf-3'))).toBe(false);
    expect(await sfu.usage(room('conf-3'))).toEqual({ router: false, transports: 0, producers: 0, consumers: 0 });
  });
});
