/**
 * Real WebRTC peers in Node (libwebrtc through @roamhq/wrtc) for the SFU's tests and benchmark.
 *
 * One kind per peer connection is what works reliably here: with an audio and a video
 * m-section in one connection, this older libwebrtc drops the second one's packets although the
 * SFU sends them on the SSRC the answer signals (Debian's Chromium receives both; see
 * test/browser-call.e2e.spec.ts).
 */

type Description = { type: 'offer' | 'answer'; sdp: string };
/** A stats report: RTCStats dictionaries by id. */
type StatsReport = { forEach(visit: (stats: Record<string, unknown>) => void): void };

/** What these tests use of @roamhq/wrtc's RTCPeerConnection (the package publishes no typings). */
export interface WrtcPeerConnection {
  addTransceiver(trackOrKind: unknown, init: { direction: 'sendonly' | 'recvonly' | 'sendrecv' }): unknown;
  createDataChannel(label: string): unknown;
  createOffer(): Promise<Description>;
  setLocalDescription(description: Description): Promise<void>;
  setRemoteDescription(description: Description): Promise<void>;
  readonly localDescription: Description | null;
  onicecandidate: ((event: { candidate: { candidate: string } | null }) => void) | null;
  getStats(): Promise<StatsReport>;
  close(): void;
}

interface VideoFrame {
  width: number;
  height: number;
  data: Uint8ClampedArray;
}
interface AudioData {
  samples: Int16Array;
  sampleRate: number;
  bitsPerSample: number;
  channelCount: number;
  numberOfFrames: number;
}
interface WrtcModule {
  RTCPeerConnection: new (config?: Record<string, unknown>) => WrtcPeerConnection;
  nonstandard: {
    RTCVideoSource: new () => { onFrame(frame: VideoFrame): void; createTrack(): { stop(): void } };
    RTCAudioSource: new () => { onData(data: AudioData): void; createTrack(): { stop(): void } };
  };
}

/** Loaded on first use, so that importing @parley/testing does not load libwebrtc. */
const wrtc = (): WrtcModule => require('@roamhq/wrtc') as WrtcModule;

export function peerConnection(config?: Record<string, unknown>): WrtcPeerConnection {
  return new (wrtc().RTCPeerConnection)(config);
}

export interface SyntheticMediaOptions {
  width?: number;
  height?: number;
  fps?: number;
  /**
   * Camera-like frames: a moving gradient under random grain, which the encoder can code at any
   * bitrate and so spends every bit it is allowed (the default, a flat changing grey, compresses
   * to almost nothing).
   */
  noise?: boolean;
}

export interface SyntheticMedia {
  videoTrack: unknown;
  audioTrack: unknown;
  stop(): void;
}

/**
 * A video source of I420 frames and a 440 Hz tone, fed by a timer until stop().
 *
 * With @roamhq/wrtc 0.10 a video source that has fed a connection keeps the process alive after
 * everything is closed, and stopping its track makes the process crash on exit; so the tracks
 * are left running, and jest force-exits the worker that ran such a test at the end of the run
 * (its results are unaffected; it prints "A worker process has failed to exit gracefully").
 */
export function syntheticMedia(options: SyntheticMediaOptions = {}): SyntheticMedia {
  const { width = 320, height = 240, fps = 30, noise = false } = options;
  const video = new (wrtc().nonstandard.RTCVideoSource)();
  const audio = new (wrtc().nonstandard.RTCAudioSource)();
  const size = width * height * 1.5;
  // A few precomputed noise frames, cycled: random content every frame at the cost of none.
  const videoTrack = video.createTrack();
  const audioTrack = audio.createTrack();
  const noiseFrames = noise
    ? Array.from({ length: 8 }, (_, f) => Uint8ClampedArray.from({ length: size }, (_, i) => (i < width * height ? ((i % width) + Math.floor(i / width) + 8 * f) % 192 : 128) + Math.floor(Math.random() * 8)))
    : [];
  const flat = new Uint8ClampedArray(size).fill(128);
  let n = 0;
  const videoTimer = setInterval(() => {
    n++;
    if (!noise) flat.fill(n % 255, 0, width * height); // a changing luma plane
    video.onFrame({ width, height, data: noise ? noiseFrames[n % noiseFrames.length] : flat });
  }, 1000 / fps);
  let sample = 0;
  const audioTimer = setInterval(() => {
    const samples = new Int16Array(480); // 10 ms at 48 kHz, what RTCAudioSource expects per call
    for (let i = 0; i < samples.length; i++) samples[i] = Math.round(8000 * Math.sin((2 * Math.PI * 440 * sample++) / 48000));
    audio.onData({ samples, sampleRate: 48000, bitsPerSample: 16, channelCount: 1, numberOfFrames: 480 });
  }, 10);
  return {
    videoTrack,
    audioTrack,
    stop: () => {
      clearInterval(videoTimer);
      clearInterval(audioTimer);
    },
  };
}

export interface RtpTotals {
  videoBytes: number;
  audioBytes: number;
  framesDecoded: number;
}

/** Bytes (and decoded frames) received, summed over the connection's inbound RTP streams. */
export async function inboundTotals(pc: WrtcPeerConnection): Promise<RtpTotals> {
  return rtpTotals(pc, 'inbound-rtp', 'bytesReceived');
}

/** Bytes sent, summed over the connection's outbound RTP streams. */
export async function outboundTotals(pc: WrtcPeerConnection): Promise<RtpTotals> {
  return rtpTotals(pc, 'outbound-rtp', 'bytesSent');
}

async function rtpTotals(pc: WrtcPeerConnection, type: string, field: string): Promise<RtpTotals> {
  const stats = await pc.getStats();
  const out: RtpTotals = { videoBytes: 0, audioBytes: 0, framesDecoded: 0 };
  const num = (v: unknown) => (typeof v === 'number' ? v : 0);
  stats.forEach((s) => {
    if (s.type !== type) return;
    if ((s.kind ?? s.mediaType) === 'video') {
      out.videoBytes += num(s[field]);
      out.framesDecoded += num(s.framesDecoded);
    } else out.audioBytes += num(s[field]);
  });
  return out;
}

/** A sending peer's offer: one sendonly transceiver per track. */
export async function sendOffer(pc: WrtcPeerConnection, tracks: unknown[]): Promise<string> {
  for (const track of tracks) pc.addTransceiver(track, { direction: 'sendonly' });
  return localOffer(pc);
}

/** A viewing peer's offer: one recvonly transceiver per kind. */
export async function receiveOffer(pc: WrtcPeerConnection, kinds: ('audio' | 'video')[]): Promise<string> {
  for (const kind of kinds) pc.addTransceiver(kind, { direction: 'recvonly' });
  return localOffer(pc);
}

/** Creates an offer, sets it as the local description, and answers its SDP. */
async function localOffer(pc: WrtcPeerConnection): Promise<string> {
  const offer = await pc.createOffer();
  await pc.setLocalDescription(offer);
  return pc.localDescription?.sdp ?? offer.sdp;
}
