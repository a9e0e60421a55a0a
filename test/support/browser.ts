import { type Browser, type Page, chromium } from 'playwright-core';

/**
 * Debian's Chromium, headless, with fake camera and microphone (a test pattern and a beep),
 * started the way this machine's closed network needs (no background networking).
 */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: process.env.CHROMIUM_BIN || '/usr/bin/chromium',
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--use-fake-device-for-media-stream',
      '--use-fake-ui-for-media-stream',
      '--autoplay-policy=no-user-gesture-required',
    ],
  });
}

/** Inbound RTP totals of the peer connection a page keeps in `globalThis.viewerPc`. */
export async function inboundStats(page: Page): Promise<{ videoBytes: number; framesDecoded: number; audioBytes: number }> {
  return page.evaluate(async () => {
    const pc = (globalThis as any).viewerPc;
    const out = { videoBytes: 0, framesDecoded: 0, audioBytes: 0 };
    (await pc.getStats()).forEach((s: any) => {
      if (s.type !== 'inbound-rtp') return;
      if (s.kind === 'video') {
        out.videoBytes += s.bytesReceived ?? 0;
        out.framesDecoded += s.framesDecoded ?? 0;
      } else if (s.kind === 'audio') out.audioBytes += s.bytesReceived ?? 0;
    });
    return out;
  });
}
