import { type ChildProcess, spawn } from 'node:child_process';
import { freePort, peerConnection, waitFor } from '@parley/testing';
import { createSocket } from 'node:dgram';

export interface CoturnHandle {
  port: number;
  url: string;
  stop(): Promise<void>;
}

/** Whether something answers STUN binding requests on 127.0.0.1:port (UDP). */
function stunAnswers(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createSocket('udp4');
    // A STUN Binding Request: type 0x0001, length 0, magic cookie, 12-byte transaction id.
    const request = Buffer.concat([Buffer.from([0x00, 0x01, 0x00, 0x00, 0x21, 0x12, 0xa4, 0x42]), Buffer.alloc(12, 7)]);
    const timer = setTimeout(() => (socket.close(), resolve(false)), 300);
    socket.once('message', () => (clearTimeout(timer), socket.close(), resolve(true)));
    socket.send(request, port, '127.0.0.1');
  });
}

/**
 * A real coturn (Debian's turnserver) on a free port of 127.0.0.1 with the TURN REST API's
 * shared secret (`use-auth-secret`), relaying to loopback peers only.
 */
export async function startCoturn(secret: string): Promise<CoturnHandle> {
  const port = await freePort();
  const minPort = 49152 + (port % 1000) * 10;
  const child: ChildProcess = spawn(
    process.env.TURNSERVER_BIN || '/usr/bin/turnserver',
    [
      '-n', // no configuration file
      '--listening-ip=127.0.0.1',
      '--relay-ip=127.0.0.1',
      `--listening-port=${port}`,
      `--min-port=${minPort}`,
      `--max-port=${minPort + 9}`,
      '--use-auth-secret',
      `--static-auth-secret=${secret}`,
      '--realm=parley.test',
      '--no-tls',
      '--no-dtls',
      '--no-cli',
      '--allow-loopback-peers',
      '--log-file=stdout',
      '--simple-log',
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let output = '';
  child.stdout?.on('data', (d) => (output += d));
  child.stderr?.on('data', (d) => (output += d));
  await waitFor(() => stunAnswers(port), { timeoutMs: 10_000, description: `coturn on port ${port}: ${output.slice(-500)}` });
  return {
    port,
    url: `turn:127.0.0.1:${port}?transport=udp`,
    async stop() {
      if (child.exitCode !== null) return;
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
    },
  };
}

/** The relay candidates a WebRTC peer gathers through this TURN server with these credentials (none when it refuses them). */
export async function relayCandidates(turn: { urls: string; username: string; credential: string }): Promise<string[]> {
  const pc = peerConnection({ iceServers: [turn], iceTransportPolicy: 'relay' });
  const candidates: string[] = [];
  try {
    pc.createDataChannel('probe');
    const done = new Promise<void>((resolve) => {
      pc.onicecandidate = (e) => (e.candidate ? candidates.push(e.candidate.candidate) : resolve());
      setTimeout(resolve, 8000);
    });
    await pc.setLocalDescription(await pc.createOffer());
    await done;
  } finally {
    pc.close();
  }
  return candidates.filter((c) => / typ relay /.test(c));
}
