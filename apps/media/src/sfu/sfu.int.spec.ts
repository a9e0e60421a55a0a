import * as wrtc from '@roamhq/wrtc';
import { mediasoupWorkerBin } from '@parley/testing';
import type { Sfu as SfuType } from './sfu';

/**
 * A real WebRTC peer (libwebrtc through @roamhq/wrtc) sending synthetic video (I420 frames) and
 * audio. One kind per peer connection here: with an audio and a video m-section in one
 * connection, this older libwebrtc drops the second one's packets although the SFU sends them
 * (its stats count them) on the SSRC the answer signals; Debian's Chromium receives both (see
 * test/browser-call.e2e.spec.ts), so the camera-and-microphone case is tested there.
 */
function syntheticMedia() {
  const video = new (wrtc.nonstandard as any).RTCVideoSource();
  const audio = new (wrtc.nonstandard as any).RTCAudioSource();
  const width = 320;
  const height = 240;
  const frame = { width, height, data: new Uint8ClampedArray(width * height * 1.5) };
  let n = 0;
  const timer = setInterval(() => {
    frame.data.fill(n++ % 255, 0, width * height); // a changing luma plane
    video.onFrame(frame);
    const samples = new Int16Array(480);
    for (let i = 0; i < samples.length; i++) samples[i] = Math.round(8000 * Math.sin((2 * Math.PI * 440 * (n * 480 + i)) / 48000));
    audio.onData({ samples, sampleRate: 48000, bitsPerSample: 16, channelCount: 1, numberOfFrames: 480 });
  }, 10);
  return { videoTrack: video.createTrack(), audioTrack: audio.createTrack(), stop: () => clearInterval(timer) };
}

async function inbound(pc: any): Promise<{ video: number; audio: number; frames: number }> {
  const stats = await pc.getStats();
  const out = { video: 0, audio: 0, frames: 0 };
  stats.forEach((s: any) => {
    if (s.type !== 'inbound-rtp') return;
    if (s.kind === 'video' || s.mediaType === 'video') {
      out.video += s.bytesReceived ?? 0;
      out.frames += s.framesDecoded ?? 0;
    } else out.audio += s.bytesReceived ?? 0;
  });
  return out;
}

const waitFor = async (probe: () => Promise<boolean>, what: string, ms = 15000) => {
  const deadline = Date.now() + ms;
  while (!(await probe())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
};

describe('the SFU with real WebRTC peers', () => {
  let sfu: SfuType;
  const peers: any[] = [];
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

  async function publisher(conferenceId: string, streamId: string, streamType: 'MIC' | 'CAM' | 'MIC_AND_CAM' = 'MIC_AND_CAM') {
    const media = syntheticMedia();
    stops.push(media.stop);
    const pc = new (wrtc as any).RTCPeerConnection();
    peers.push(pc);
    if (streamType !== 'CAM') pc.addTransceiver(media.audioTrack, { direction: 'sendonly' });
    if (streamType !== 'MIC') pc.addTransceiver(media.videoTrack, { direction: 'sendonly' });
    const offer = await pc.createOffer();
    await pc.setLocalDescription(offer);
    const { sdpAnswer } = await sfu.publish({ conferenceId, streamId, userEndpointId: 'ep-pub', streamType, sdpOffer: pc.localDescription.sdp });
    await pc.setRemoteDescription({ type: 'answer', sdp: sdpAnswer });
    return pc;
  }

  async function viewer(conferenceId: string, streamId: string, viewerId: string, kinds: ('audio' | 'video')[] = ['audio', 'video']) {
    const pc = new (wrtc as any).RTCPeerConnection();
    peers.push(pc);
    for (const kind of kinds) pc.addTransceiver(kind, { direction: 'recvonly' });
    const offer = await pc.createOffer();
    await pc.setLocalDescription(offer);
    const { sdpAnswer } = await sfu.view({ conferenceId, streamId, viewerId, userEndpointId: 'ep-view', sdpOffer: pc.localDescription.sdp });
    await pc.setRemoteDescription({ type: 'answer', sdp: sdpAnswer });
    return pc;
  }

  it('forwards a published camera stream to a viewer: video bytes and decoded frames', async () => {
    await publisher('conf-v', 's-v', 'CAM');
    const pc = await viewer('conf-v', 's-v', 'v-v', ['video']);
    await waitFor(async () => (await inbound(pc)).frames > 5, 'decoded frames at the viewer');
    const first = await inbound(pc);
    await new Promise((r) => setTimeout(r, 2000));
    const later = await inbound(pc);
    expect(later.video).toBeGreaterThan(first.video);
    expect(later.frames).toBeGreaterThan(first.frames);
  });

  it('forwards a published microphone stream to a viewer: audio bytes', async () => {
    await publisher('conf-a', 's-a', 'MIC');
    const pc = await viewer('conf-a', 's-a', 'v-a', ['audio']);
    await waitFor(async () => (await inbound(pc)).audio > 0, 'audio at the viewer');
    const first = await inbound(pc);
    await new Promise((r) => setTimeout(r, 2000));
    expect((await inbound(pc)).audio).toBeGreaterThan(first.audio);
  });

  it('rejects what it cannot answer, with the reason', async () => {
    await expect(sfu.publish({ conferenceId: 'conf-2', streamId: 's', userEndpointId: 'e', streamType: 'CAM', sdpOffer: 'hello' })).rejects.toMatchObject({ code: 'BAD_REQUEST' });
    const pc = new (wrtc as any).RTCPeerConnection();
    peers.push(pc);
    pc.addTransceiver('audio', { direction: 'sendonly' });
    const offer = await pc.createOffer();
    await expect(sfu.publish({ conferenceId: 'conf-2', streamId: 's', userEndpointId: 'e', streamType: 'CAM', sdpOffer: offer.sdp })).rejects.toMatchObject({ code: 'BAD_REQUEST', message: expect.stringMatching(/CAM needs sending m-sections \[video\]/) });
    await expect(sfu.view({ conferenceId: 'conf-2', streamId: 'nope', viewerId: 'v', userEndpointId: 'e', sdpOffer: offer.sdp })).rejects.toMatchObject({ code: 'NOT_FOUND' });
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
    await waitFor(async () => (await worker.dump()).routerIds.length === 0, 'no routers');
    expect(sfu.hasRouter('conf-3')).toBe(false);
  });
});
