import { type WrtcPeerConnection, inboundTotals, mediasoupWorkerBin, peerConnection, receiveOffer, sendOffer, sleep, syntheticMedia, waitFor } from '@parley/testing';
import type { Sfu as SfuType } from './sfu';

/** Real WebRTC peers (@roamhq/wrtc, one kind per connection: see libs/testing/src/wrtc.ts) through the SFU. */
const within15s = (description: string) => ({ timeoutMs: 15_000, intervalMs: 100, description });

describe('the SFU with real WebRTC peers', () => {
  let sfu: SfuType;
  const peers: WrtcPeerConnection[] = [];
  const stops: (() => void)[] = [];

  beforeAll(async () => {
    // mediasoup reads MEDIASOUP_WORKER_BIN when it is first loaded: set it, then load it.
    process.env.MEDIASOUP_WORKER_BIN = mediasoupWorkerBin();
    const { Sfu } = await import('./sfu');
    sfu = new Sfu({ workers: 1, rtcMinPort: 41000, rtcMaxPort: 41999, listenIp: '127.0.0.1' });
    await sfu.start((e) => {
      throw e;
    });
  });
  afterAll(async () => {
    stops.forEach((s) => s());
    peers.forEach((p) => p.close());
    await sfu.close();
  });

  async function publisher(conferenceId: string, streamId: string, streamType: 'MIC' | 'CAM' | 'MIC_AND_CAM' = 'MIC_AND_CAM', userEndpointId = 'ep-pub') {
    const media = syntheticMedia();
    stops.push(media.stop);
    const pc = peerConnection();
    peers.push(pc);
    const tracks = [...(streamType !== 'CAM' ? [media.audioTrack] : []), ...(streamType !== 'MIC' ? [media.videoTrack] : [])];
    const sdpOffer = await sendOffer(pc, tracks);
    const { sdpAnswer } = await sfu.publish({ conferenceId, streamId, userEndpointId, streamType, sdpOffer });
    await pc.setRemoteDescription({ type: 'answer', sdp: sdpAnswer });
    return pc;
  }

  async function viewer(conferenceId: string, streamId: string, viewerId: string, kinds: ('audio' | 'video')[] = ['audio', 'video'], userEndpointId = 'ep-view') {
    const pc = peerConnection();
    peers.push(pc);
    const sdpOffer = await receiveOffer(pc, kinds);
    const { sdpAnswer } = await sfu.view({ conferenceId, streamId, viewerId, userEndpointId, sdpOffer });
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
    await expect(sfu.publish({ conferenceId: 'conf-2', streamId: 's', userEndpointId: 'e', streamType: 'CAM', sdpOffer: 'hello' })).rejects.toMatchObject({ code: 'BAD_REQUEST' });
    const pc = peerConnection();
    peers.push(pc);
    pc.addTransceiver('audio', { direction: 'sendonly' });
    const offer = await pc.createOffer();
    await expect(sfu.publish({ conferenceId: 'conf-2', streamId: 's', userEndpointId: 'e', streamType: 'CAM', sdpOffer: offer.sdp })).rejects.toMatchObject({ code: 'BAD_REQUEST', message: expect.stringMatching(/CAM needs sending m-sections \[video\]/) });
    await expect(sfu.view({ conferenceId: 'conf-2', streamId: 'nope', viewerId: 'v', userEndpointId: 'e', sdpOffer: offer.sdp })).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });

  it('stopView, leave and unpublish close exactly what they name, as the worker itself reports', async () => {
    await publisher('conf-4', 's-a', 'CAM', 'ep-1');
    await publisher('conf-4', 's-b', 'CAM', 'ep-2');
    await viewer('conf-4', 's-a', 'v-1', ['video'], 'ep-2');
    await viewer('conf-4', 's-a', 'v-2', ['video'], 'ep-3');
    await viewer('conf-4', 's-b', 'v-3', ['video'], 'ep-1');
    expect(await sfu.usage('conf-4')).toEqual({ router: true, transports: 5, producers: 2, consumers: 3 });

    sfu.stopView('conf-4', 's-a', 'v-2');
    expect(await sfu.usage('conf-4')).toEqual({ router: true, transports: 4, producers: 2, consumers: 2 });

    // ep-1 publishes s-a (viewed by ep-2 as v-1) and views s-b (as v-3): all three transports go.
    sfu.leave('conf-4', 'ep-1');
    expect(await sfu.usage('conf-4')).toEqual({ router: true, transports: 1, producers: 1, consumers: 0 });
    await expect(sfu.view({ conferenceId: 'conf-4', streamId: 's-a', viewerId: 'v-9', userEndpointId: 'ep-2', sdpOffer: 'v=0' })).rejects.toMatchObject({ code: 'NOT_FOUND' });

    sfu.unpublish('conf-4', 's-b');
    expect(await sfu.usage('conf-4')).toEqual({ router: true, transports: 0, producers: 0, consumers: 0 });
    await expect(sfu.setMaxIncomingBitrate({ conferenceId: 'conf-4', streamId: 's-b', videoBitrate: 100_000 })).rejects.toMatchObject({ code: 'NOT_FOUND' });
    // Idempotent: what is gone stays gone without an error.
    sfu.unpublish('conf-4', 's-b');
    sfu.stopView('conf-4', 's-a', 'v-2');
  });

  it('leaves no router, transport, producer or consumer after the conference ends', async () => {
    await publisher('conf-3', 's-3');
    await viewer('conf-3', 's-3', 'v-3');
    const worker = sfu.workerList[0];
    const before = await worker.dump();
    expect(before.routerIds.length).toBeGreaterThan(0);
    sfu.end('conf-3');
    sfu.end('conf-1');
    sfu.end('conf-2');
    sfu.end('conf-v');
    sfu.end('conf-a');
    sfu.end('conf-4');
    await waitFor(async () => (await worker.dump()).routerIds.length === 0, within15s('no routers'));
    expect(sfu.hasRouter('conf-3')).toBe(false);
    expect(await sfu.usage('conf-3')).toEqual({ router: false, transports: 0, producers: 0, consumers: 0 });
  });
});
