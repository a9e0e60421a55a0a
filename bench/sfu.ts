/**
 * SFU fan-out: one published video stream viewed by N WebRTC peers (@roamhq/wrtc, in this
 * process), N stepped up. Per step: the mediasoup worker's CPU (its own getrusage, through
 * worker.getResourceUsage()), the load generator's CPU, bytes in from the publisher and out to
 * the viewers (the transports' own counters), and what the viewers received.
 *
 * The Sfu class runs here, in the bench process, exactly as the media service runs it; NATS
 * and the conference service are left out because they are not on the media path. The
 * publisher runs in a child process (bench/publisher.ts), so that the viewers' work here does
 * not starve its frame timer.
 */
import { cpus } from 'node:os';
import { join } from 'node:path';
import { type WrtcPeerConnection, inboundTotals, peerConnection, receiveOffer, sleep, spawnTs, waitFor } from '@parley/testing';
import type { Sfu } from '../apps/media/src/sfu/sfu';

export interface SfuBenchOptions {
  /** Viewer counts, ascending. */
  steps: number[];
  /** Measurement window per step. */
  seconds: number;
  /** The publisher's video: frames of noise, so the encoder spends the whole allowance. */
  width: number;
  height: number;
  fps: number;
  /** The cap on the publisher (setMaxIncomingBitrate on its transport), bits/s. */
  bitrate: number;
  /** No new step starts after this performance.now() instant. */
  deadline: number;
  log: (msg: string) => void;
}

export interface SfuStep {
  viewers: number;
  seconds: number;
  /** The mediasoup worker's CPU time over wall time (1 = one core). */
  workerCpu: number;
  /** The load generator's CPU time over wall time: the viewers' process and the publisher's. */
  generatorCpu: number;
  /** Bits/s the publisher's transport received. */
  ingestBps: number;
  /** Bits/s the viewers' transports sent (all of them). */
  forwardedBps: number;
  /** Bits/s each viewer received (RTP payload and headers, as its getStats counts): median and lowest. */
  viewerMedianBps: number;
  viewerMinBps: number;
}

/**
 * A step measures the SFU, not a starved load generator, when the publisher sent at least
 * PUBLISHER_KEPT_UP of its cap (its encoder settles somewhat under the cap even when idle) and
 * the median viewer received at least KEPT_UP of what it sent.
 */
export const KEPT_UP = 0.8;
export const PUBLISHER_KEPT_UP = 0.6;
export const keptUp = (s: SfuStep, cap: number): boolean => s.ingestBps >= PUBLISHER_KEPT_UP * cap && s.viewerMedianBps >= KEPT_UP * s.ingestBps;

export interface SfuResult {
  options: Omit<SfuBenchOptions, 'log' | 'deadline'>;
  steps: SfuStep[];
  /** Why the stepping stopped. */
  stoppedBecause: string;
  /** Least-squares fit of worker CPU against N over the steps the viewers kept up with: the cost of one more viewer and of none. */
  fit?: { perViewer: number; base: number };
  /** The same against the forwarded rate: worker CPU per forwarded Mbit/s. */
  fitPerMbps?: { perViewer: number; base: number };
  /** The N at which the worker reaches 80 % of a core: measured between two steps, or extrapolated from the fit. */
  at80?: { viewers: number; how: 'measured' | 'extrapolated' };
  cpuCount: number;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;

function linearFit(points: { x: number; y: number }[]): { perViewer: number; base: number } | undefined {
  if (points.length < 2) return undefined;
  const n = points.length;
  const mx = points.reduce((s, p) => s + p.x, 0) / n;
  const my = points.reduce((s, p) => s + p.y, 0) / n;
  const sxx = points.reduce((s, p) => s + (p.x - mx) ** 2, 0);
  if (sxx === 0) return undefined;
  const perViewer = points.reduce((s, p) => s + (p.x - mx) * (p.y - my), 0) / sxx;
  return { perViewer, base: my - perViewer * mx };
}

/** The N where the worker crosses 80 % of a core. */
function at80(steps: SfuStep[], fit: SfuResult['fit']): SfuResult['at80'] {
  const i = steps.findIndex((s) => s.workerCpu >= 0.8);
  if (i > 0) {
    const [a, b] = [steps[i - 1], steps[i]];
    return { viewers: Math.round(a.viewers + ((0.8 - a.workerCpu) * (b.viewers - a.viewers)) / (b.workerCpu - a.workerCpu)), how: 'measured' };
  }
  if (i === 0) return { viewers: steps[0].viewers, how: 'measured' };
  if (fit && fit.perViewer > 0) return { viewers: Math.round((0.8 - fit.base) / fit.perViewer), how: 'extrapolated' };
  return undefined;
}

export async function sfuFanout(options: SfuBenchOptions): Promise<SfuResult> {
  const { log } = options;
  // mediasoup reads MEDIASOUP_WORKER_BIN when it is first loaded (scripts/bench.mjs sets it).
  if (!process.env.MEDIASOUP_WORKER_BIN) throw new Error('MEDIASOUP_WORKER_BIN is not set (scripts/bench.mjs builds or finds the worker)');
  const { Sfu: SfuClass, roomOf } = await import('../apps/media/src/sfu/sfu');
  // Every viewer is its own user here, but the quota is not what this measures.
  const sfu: Sfu = new SfuClass({ workers: 1, rtcMinPort: 40000, rtcMaxPort: 49999, listenIp: '127.0.0.1', logLevel: 'error', transportsPerUser: 10_000 });
  await sfu.start((e) => log(`the mediasoup worker died: ${e.message}`));
  const worker = sfu.workerList[0];
  const publisher = spawnTs(join(__dirname, 'publisher.ts'), { args: [String(options.width), String(options.height), String(options.fps)] });
  const peers: WrtcPeerConnection[] = [];
  const organizationId = 'bench';
  const conferenceId = 'bench-fanout';
  const streamId = 'camera';
  /** The publisher's video bytes sent and CPU time so far. */
  const publisherSample = async () => {
    const reply = publisher.message<{ sample?: { videoBytesSent: number; cpuMicros: number } }>((m) => !!m.sample);
    publisher.child.send({ type: 'sample' });
    return (await reply).sample!;
  };
  try {
    const { offer } = await publisher.message<{ offer?: string }>((m) => !!m.offer, 60_000);
    const { sdpAnswer } = await sfu.publish({ organizationId, conferenceId, streamId, userEndpointId: 'publisher', userId: 'publisher', streamType: 'CAM', sdpOffer: offer!, videoBitrate: options.bitrate });
    publisher.child.send({ answer: sdpAnswer });
    // The sender's bandwidth estimate ramps up to the cap over some seconds.
    const sendRate = async () => {
      const a = (await publisherSample()).videoBytesSent;
      await sleep(1000);
      return ((await publisherSample()).videoBytesSent - a) * 8;
    };
    await waitFor(async () => (await sendRate()) > 0.7 * options.bitrate, { timeoutMs: 60_000, description: `the publisher sending ${0.7 * options.bitrate} bit/s` });

    const viewers: WrtcPeerConnection[] = [];
    const addViewer = async () => {
      const pc = peerConnection();
      peers.push(pc);
      const i = viewers.push(pc);
      const res = await sfu.view({ organizationId, conferenceId, streamId, viewerId: `viewer-${i}`, userEndpointId: `viewer-${i}`, userId: `viewer-${i}`, sdpOffer: await receiveOffer(pc, ['video']) });
      await pc.setRemoteDescription({ type: 'answer', sdp: res.sdpAnswer });
    };

    const steps: SfuStep[] = [];
    let stoppedBecause = 'all steps measured';
    for (const n of options.steps) {
      if (performance.now() > options.deadline) {
        stoppedBecause = `the time budget ran out before N = ${n}`;
        break;
      }
      while (viewers.length < n) await Promise.all(Array.from({ length: Math.min(10, n - viewers.length) }, addViewer));
      try {
        await waitFor(async () => (await Promise.all(viewers.map(inboundTotals))).every((t) => t.videoBytes > 0), { timeoutMs: 60_000, intervalMs: 500, description: `all ${n} viewers receiving` });
      } catch (e) {
        stoppedBecause = `at N = ${n} not every viewer received within a minute: the load generator is saturated (${(e as Error).message})`;
        break;
      }
      await sleep(3000); // new viewers' keyframe requests and bandwidth estimates settle

      // The viewers' counters are read around the window; their span is from the middle of one read to the middle of the other.
      const b0 = performance.now();
      const before = await Promise.all(viewers.map(inboundTotals));
      const b1 = performance.now();
      const [u0, c0, p0, t0, w0] = [await worker.getResourceUsage(), process.cpuUsage(), await publisherSample(), await sfu.traffic(roomOf(organizationId, conferenceId)), performance.now()];
      await sleep(options.seconds * 1000);
      const [u1, c1, p1, t1, w1] = [await worker.getResourceUsage(), process.cpuUsage(), await publisherSample(), await sfu.traffic(roomOf(organizationId, conferenceId)), performance.now()];
      const a0 = performance.now();
      const after = await Promise.all(viewers.map(inboundTotals));
      const a1 = performance.now();
      const wall = (w1 - w0) / 1000;
      const viewerSpan = ((a0 + a1) / 2 - (b0 + b1) / 2) / 1000;
      const rates = after.map((a, i) => ((a.videoBytes - before[i].videoBytes) * 8) / viewerSpan);
      const step: SfuStep = {
        viewers: n,
        seconds: wall,
        workerCpu: (u1.ru_utime + u1.ru_stime - u0.ru_utime - u0.ru_stime) / 1000 / wall,
        generatorCpu: (c1.user + c1.system - c0.user - c0.system + p1.cpuMicros - p0.cpuMicros) / 1e6 / wall,
        ingestBps: ((t1.fromPublishers - t0.fromPublishers) * 8) / wall,
        forwardedBps: ((t1.toViewers - t0.toViewers) * 8) / wall,
        viewerMedianBps: median(rates),
        viewerMinBps: Math.min(...rates),
      };
      steps.push(step);
      log(
        `N=${n}: worker ${(step.workerCpu * 100).toFixed(1)} % of a core, load generator ${(step.generatorCpu * 100).toFixed(0)} %, in ${(step.ingestBps / 1e3).toFixed(0)} kbit/s, ` +
          `out ${(step.forwardedBps / 1e6).toFixed(2)} Mbit/s, per viewer median ${(step.viewerMedianBps / 1e3).toFixed(0)} min ${(step.viewerMinBps / 1e3).toFixed(0)} kbit/s`,
      );
      if (step.workerCpu >= 0.8) {
        stoppedBecause = `the worker reached 80 % of a core at N = ${n}`;
        break;
      }
      // Past this the load generator, not the SFU, is what is measured: stop.
      if (!keptUp(step, options.bitrate)) {
        stoppedBecause = `at N = ${n} the load generator (a publisher and N viewers, each decoding the video, on the same ${cpus().length} CPUs) no longer kept up: the publisher sent under ${PUBLISHER_KEPT_UP * 100} % of its cap or the median viewer received under ${KEPT_UP * 100} % of what it sent`;
        break;
      }
    }
    const usable = steps.filter((s) => keptUp(s, options.bitrate));
    const fit = linearFit(usable.map((s) => ({ x: s.viewers, y: s.workerCpu })));
    const fitPerMbps = linearFit(usable.map((s) => ({ x: s.forwardedBps / 1e6, y: s.workerCpu })));
    return {
      options: { steps: options.steps, seconds: options.seconds, width: options.width, height: options.height, fps: options.fps, bitrate: options.bitrate },
      steps,
      stoppedBecause,
      fit,
      fitPerMbps,
      at80: at80(steps, fit),
      cpuCount: cpus().length,
    };
  } finally {
    for (const pc of peers) pc.close();
    await publisher.kill('SIGTERM');
    await sfu.close();
  }
}
