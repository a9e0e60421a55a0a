/**
 * The SFU fan-out bench's publisher, in a process of its own so that its frame timer is not
 * starved by the viewers' work in the bench process. Spoken to over IPC:
 *   → { offer }            once started (a sendonly VP8 offer of a synthetic camera)
 *   ← { answer }           the SFU's answer
 *   ← { type: 'sample' } → { sample: { videoBytesSent, cpuMicros } }
 * Runs until killed. argv: <width> <height> <fps>
 */
import { outboundTotals, peerConnection, sendOffer, syntheticMedia } from '@parley/testing';

async function main(): Promise<void> {
  const [width, height, fps] = process.argv.slice(2).map(Number);
  const media = syntheticMedia({ width, height, fps, noise: true });
  const pc = peerConnection();
  process.on('message', (msg: { answer?: string; type?: string }) => {
    if (msg.answer) {
      void pc.setRemoteDescription({ type: 'answer', sdp: msg.answer });
    } else if (msg.type === 'sample') {
      void outboundTotals(pc).then((t) => {
        const cpu = process.cpuUsage();
        process.send?.({ sample: { videoBytesSent: t.videoBytes, cpuMicros: cpu.user + cpu.system } });
      });
    }
  });
  process.on('disconnect', () => {
    media.stop();
    pc.close();
    process.exit(0);
  });
  process.send?.({ offer: await sendOffer(pc, [media.videoTrack]) });
}

void main();
