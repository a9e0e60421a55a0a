import { execFileSync } from 'node:child_process';
import type * as Mediasoup from 'mediasoup';
import { mediasoupWorkerBin } from './mediasoup-worker';

// A first build of the worker takes about three minutes on two cores.
jest.setTimeout(30 * 60 * 1000);

const mediaCodecs: Mediasoup.types.RtpCodecCapability[] = [
  { kind: 'audio', mimeType: 'audio/opus', clockRate: 48000, channels: 2 },
  { kind: 'video', mimeType: 'video/VP8', clockRate: 90000, parameters: { 'x-google-start-bitrate': 1000 } },
  {
    kind: 'video',
    mimeType: 'video/H264',
    clockRate: 90000,
    parameters: { 'packetization-mode': 1, 'profile-level-id': '42e01f', 'level-asymmetry-allowed': 1 },
  },
];

describe('mediasoup-worker built from Debian libraries', () => {
  let bin: string;
  let mediasoup: typeof Mediasoup;

  beforeAll(async () => {
    bin = mediasoupWorkerBin();
    // mediasoup reads MEDIASOUP_WORKER_BIN when its Worker module loads, so set it before the import.
    process.env.MEDIASOUP_WORKER_BIN = bin;
    mediasoup = await import('mediasoup');
  });

  it('creates a worker, a router with Opus, VP8 and H264, and a WebRTC transport on 127.0.0.1', async () => {
    const worker = await mediasoup.createWorker({ logLevel: 'warn' });
    try {
      expect(worker.pid).toBeGreaterThan(0);
      const router = await worker.createRouter({ mediaCodecs });
      const mimeTypes = router.rtpCapabilities.codecs?.map((c) => c.mimeType) ?? [];
      expect(mimeTypes).toEqual(expect.arrayContaining(['audio/opus', 'video/VP8', 'video/H264']));

      const transport = await router.createWebRtcTransport({ listenIps: [{ ip: '127.0.0.1' }], enableUdp: true, enableTcp: true, preferUdp: true });
      expect(transport.iceCandidates.length).toBeGreaterThan(0);
      for (const candidate of transport.iceCandidates) {
        expect(candidate.ip).toBe('127.0.0.1');
        expect(candidate.port).toBeGreaterThan(0);
      }
      expect(transport.dtlsParameters.fingerprints.length).toBeGreaterThan(0);

      const usage = await worker.getResourceUsage();
      expect(typeof usage.ru_utime).toBe('number');
      expect(typeof usage.ru_maxrss).toBe('number');
      expect(usage.ru_maxrss).toBeGreaterThan(0);

      transport.close();
      expect(transport.closed).toBe(true);
      router.close();
      expect(router.closed).toBe(true);
    } finally {
      worker.close();
    }
    expect(worker.closed).toBe(true);
  });

  it('links the system libuv, libsrtp2, libusrsctp and OpenSSL rather than static copies', () => {
    const ldd = execFileSync('ldd', [bin], { encoding: 'utf8' });
    expect(ldd).not.toContain('not found');
    for (const lib of [/libuv\.so\.1 => \S+/, /libsrtp2\.so\.1 => \S+/, /libusrsctp\.so\.\d+ => \S+/, /libssl\.so\.3 => \S+/, /libcrypto\.so\.3 => \S+/]) {
      expect(ldd).toMatch(lib);
    }
  });
});
