import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TokenIssuer, authConfigFromEnv } from '@parley/auth';
import { type NatsServerHandle, REPOSITORY_ROOT, type TsChildHandle, freePort, sleep, spawnTs, startNats } from '@parley/testing';
import { spawnService } from './support/service-process';
import { TEST_SECRETS, natsWithUsers, testProcessEnv } from './support/secrets';

/**
 * A 200 MB upload keeps the snapshot service's and the gateway's memory growth under 50 MB each,
 * measured from the processes themselves: both run as child processes (so the test's own memory
 * is not counted), and their resident set is read from /proc/<pid>/status while a 200 MiB file
 * is streamed through POST /rtc-api/filetransfers and downloaded again through its signed URL.
 * The growth is the peak resident set during the transfer (VmHWM, reset to the current RSS at the
 * start where the kernel allows it, and VmRSS sampled every 25 ms) minus the resident set before
 * it, after a warm-up upload and download have loaded every code path. The file is streamed
 * through the gateway into the blob store without being held whole anywhere (the test does not
 * hold it either: it generates and hashes it chunk by chunk); the snapshot service receives only
 * the command naming the stored blob, which NATS's own byte counter shows too. The stored blob
 * is one file of exactly 200 MiB whose download has the SHA-256 of what was sent.
 */
const GATEWAY_MAIN = join(REPOSITORY_ROOT, 'apps/gateway/src/main.ts');
const MiB = 1024 * 1024;
const FILE_BYTES = 200 * MiB;
const CHUNK_BYTES = 64 * 1024;
/** The bound the issue sets on each process's memory growth. */
const GROWTH_BOUND_BYTES = 50 * MiB;
/** UPLOAD_MAX_BYTES of both processes: room for the 200 MiB file. */
const UPLOAD_MAX_BYTES = '220000000';
const SAMPLE_MS = 25;
/** What the upload may put on the bus (the question, the command, their answers, the event): nowhere near the file. */
const BUS_BOUND_BYTES = 1 * MiB;

const mib = (bytes: number): string => `${(bytes / MiB).toFixed(1)} MiB`;

/** A process's resident set now (VmRSS) and its peak (VmHWM), in bytes. */
function memoryOf(pid: number): { rss: number; hwm: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kib = (field: string): number => {
    const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status);
    if (!m) throw new Error(`/proc/${pid}/status has no ${field}`);
    return Number(m[1]) * 1024;
  };
  return { rss: kib('VmRSS'), hwm: kib('VmHWM') };
}

/** Resets a process's peak resident set (VmHWM) to its current one (Linux ≥ 4.0: clear_refs 5); false where that is not allowed. */
function resetPeak(pid: number): boolean {
  try {
    writeFileSync(`/proc/${pid}/clear_refs`, '5');
    return true;
  } catch {
    return false;
  }
}

interface Growth {
  baseline: number;
  /** The largest VmRSS sampled. */
  sampledPeak: number;
  /** VmHWM at the end, when it was reset at the start (else undefined: it would include start-up). */
  hwmPeak?: number;
  /** The larger of the two. */
  peak: number;
  growth: number;
  samples: number;
}

/** Watches processes' resident sets from a baseline on: sampled every SAMPLE_MS, and their kernel-kept peak. */
class MemoryWatch {
  private readonly baseline = new Map<string, number>();
  private readonly peakReset = new Map<string, boolean>();
  private readonly sampled = new Map<string, number>();
  private samples = 0;
  private readonly timer: NodeJS.Timeout;

  constructor(private readonly pids: Record<string, number>) {
    for (const [name, pid] of Object.entries(pids)) {
      const { rss } = memoryOf(pid);
      this.baseline.set(name, rss);
      this.sampled.set(name, rss);
      this.peakReset.set(name, resetPeak(pid));
    }
    this.timer = setInterval(() => this.sample(), SAMPLE_MS);
  }

  private sample(): void {
    this.samples++;
    for (const [name, pid] of Object.entries(this.pids)) this.sampled.set(name, Math.max(this.sampled.get(name)!, memoryOf(pid).rss));
  }

  stop(): Record<string, Growth> {
    clearInterval(this.timer);
    this.sample();
    const out: Record<string, Growth> = {};
    for (const [name, pid] of Object.entries(this.pids)) {
      const baseline = this.baseline.get(name)!;
      const sampledPeak = this.sampled.get(name)!;
      const hwmPeak = this.peakReset.get(name) ? memoryOf(pid).hwm : undefined;
      const peak = Math.max(sampledPeak, hwmPeak ?? 0);
      out[name] = { baseline, sampledPeak, ...(hwmPeak !== undefined ? { hwmPeak } : {}), peak, growth: peak - baseline, samples: this.samples };
    }
    return out;
  }
}

const describeGrowth = (what: string, growth: Record<string, Growth>, ms: number): string =>
  [
    `${what} of ${mib(FILE_BYTES)} in ${(ms / 1000).toFixed(2)} s (${(FILE_BYTES / MiB / (ms / 1000)).toFixed(0)} MiB/s):`,
    ...Object.entries(growth).map(
      ([name, g]) =>
        `  ${name}: baseline RSS ${mib(g.baseline)}, peak ${mib(g.peak)} (sampled ${mib(g.sampledPeak)} in ${g.samples} samples, VmHWM ${g.hwmPeak === undefined ? 'not resettable' : mib(g.hwmPeak)}), growth ${mib(g.growth)}`,
    ),
  ].join('\n');

/** The bytes of the file, chunk by chunk: text (so its type is nothing a signature names), each chunk numbered (a chunk lost, repeated or reordered changes the hash). */
function fileChunk(index: number, length: number): Buffer {
  const chunk = Buffer.alloc(length, 'parley upload-memory test: 0123456789 abcdefghijklmnopqrstuvwxyz\n');
  chunk.write(`chunk ${String(index).padStart(10, '0')}\n`, 0, 'ascii');
  return chunk;
}

/**
 * A multipart/form-data body streamed as it is read: the fields, then the part `file` with `size`
 * generated bytes, then the closing boundary. `sha256()` is the hash of the file's bytes sent.
 */
function streamedUpload(fields: Record<string, string>, size: number): { body: ReadableStream<Uint8Array>; contentType: string; sha256(): string; sent(): number } {
  const boundary = `----parley-upload-memory-${Date.now()}`;
  const head = Buffer.from(
    `${Object.entries(fields)
      .map(([name, value]) => `--${boundary}\r\nContent-Disposition: form-data; name="${name}"\r\n\r\n${value}\r\n`)
      .join('')}--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="big.bin"\r\nContent-Type: application/octet-stream\r\n\r\n`,
  );
  const tail = Buffer.from(`\r\n--${boundary}--\r\n`);
  const hash = createHash('sha256');
  let sent = 0;
  let index = 0;
  let started = false;
  const body = new ReadableStream<Uint8Array>(
    {
      pull(controller) {
        if (!started) {
          started = true;
          controller.enqueue(head);
          return;
        }
        if (sent < size) {
          const chunk = fileChunk(index++, Math.min(CHUNK_BYTES, size - sent));
          hash.update(chunk);
          sent += chunk.length;
          controller.enqueue(chunk);
          return;
        }
        controller.enqueue(tail);
        controller.close();
      },
    },
    { highWaterMark: 1 },
  );
  let digest: string | undefined;
  return { body, contentType: `multipart/form-data; boundary=${boundary}`, sha256: () => (digest ??= hash.digest('hex')), sent: () => sent };
}

/** Reads a response's body to its end, hashing it on the way (never holding it). */
async function hashBody(res: Response): Promise<{ bytes: number; sha256: string }> {
  const hash = createHash('sha256');
  let bytes = 0;
  const reader = res.body!.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    hash.update(value);
    bytes += value.length;
  }
  return { bytes, sha256: hash.digest('hex') };
}

describe('a 200 MB upload and its download, streamed: the gateway and the snapshot service each grow by less than 50 MB', () => {
  let nats: NatsServerHandle;
  let monitorUrl: string;
  let gateway: TsChildHandle;
  let snapshot: TsChildHandle;
  let gatewayUrl: string;
  const dataDir = mkdtempSync(join(tmpdir(), 'parley-upload-memory-'));
  const issuer = new TokenIssuer(authConfigFromEnv({ JWT_SECRET: TEST_SECRETS.jwtSecret }));
  const token = async (userId: string, organizationId: string) => (await issuer.issue({ userId, organizationId, roles: ['AGENT'] })).access_token;

  const transfer = async (bearer: string, size: number, fields: Record<string, string>) => {
    const upload = streamedUpload(fields, size);
    const res = await fetch(`${gatewayUrl}/rtc-api/filetransfers?targetType=user`, {
      method: 'POST',
      headers: { authorization: `Bearer ${bearer}`, 'content-type': upload.contentType },
      body: upload.body,
      duplex: 'half',
    } as RequestInit);
    return { status: res.status, body: (await res.json()) as { fileTransferId?: string; message?: string }, sha256: upload.sha256(), sent: upload.sent() };
  };

  const download = async (bearer: string, fileTransferId: string) => {
    const signed = await fetch(`${gatewayUrl}/rtc-api/filetransfers/${fileTransferId}/signedUrl`, { method: 'POST', headers: { authorization: `Bearer ${bearer}`, referer: `${gatewayUrl}/` } });
    const answer = (await signed.json()) as { url?: string; message?: string };
    expect({ status: signed.status, url: typeof answer.url }).toEqual({ status: 200, url: 'string' });
    const res = await fetch(answer.url!);
    expect(res.status).toBe(200);
    return hashBody(res);
  };

  /** What clients have published to NATS so far (its monitoring endpoint's in_bytes). */
  const busBytes = async (): Promise<number> => ((await (await fetch(`${monitorUrl}/varz`)).json()) as { in_bytes: number }).in_bytes;

  beforeAll(async () => {
    const monitorPort = await freePort();
    monitorUrl = `http://127.0.0.1:${monitorPort}`;
    nats = await startNats({ ...natsWithUsers(), extraArgs: ['-m', String(monitorPort)] });
    const shared = { NATS_URL: nats.url, PARLEY_MODE: 'development', LOG_LEVEL: 'warn', DATA_DIR: dataDir, DATABASE_URL: '', BLOB_STORE: 'filesystem', BLOB_DIR: '', UPLOAD_MAX_BYTES };
    snapshot = await spawnService('snapshot', shared);
    gateway = spawnTs(GATEWAY_MAIN, {
      env: {
        ...shared,
        HOST: '127.0.0.1',
        PORT: '0',
        METRICS_PORT: '0',
        // Only the test stack's secret signs tokens: nothing of the test's own environment leaks in.
        JWT_SECRET: TEST_SECRETS.jwtSecret,
        JWKS_URL: '',
        JWT_AUDIENCE: '',
        JWT_ISSUER: '',
        OAUTH_CLIENTS: '',
        PUBLIC_URL: '',
        SIGNED_URL_ORIGINS: '',
        ...testProcessEnv('gateway'),
      },
    });
    gatewayUrl = (await gateway.message<{ ready?: string; url?: string }>((m) => m?.ready === 'gateway', 60_000)).url!;
  }, 120_000);

  afterAll(async () => {
    await gateway?.kill('SIGTERM');
    await snapshot?.kill('SIGTERM');
    await nats?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('streams 200 MiB in and out; each process grows by less than 50 MiB; the blob is whole and the bus never carried it', async () => {
    const pids = { gateway: gateway.child.pid!, snapshot: snapshot.child.pid! };

    // Warm-up, in another organization: every code path of an upload and a download loaded, buffers and pools grown.
    const warm = await token('warm-sender', 'org-warm');
    for (const size of [10_000, 4 * MiB]) {
      const small = await transfer(warm, size, { applicationId: 'app-mem', targetId: 'warm-receiver' });
      expect({ status: small.status, body: small.body }).toEqual({ status: 200, body: { fileTransferId: expect.any(String) } });
      expect(await download(warm, small.body.fileTransferId!)).toEqual({ bytes: size, sha256: small.sha256 });
    }
    await sleep(500);

    const bearer = await token('mem-sender', 'org-mem');
    const busBefore = await busBytes();
    let watch = new MemoryWatch(pids);
    let started = performance.now();
    const big = await transfer(bearer, FILE_BYTES, { applicationId: 'app-mem', targetId: 'mem-receiver' });
    const uploadMs = performance.now() - started;
    const uploadGrowth = watch.stop();
    const busDuringUpload = (await busBytes()) - busBefore;
    console.log(`${describeGrowth('upload', uploadGrowth, uploadMs)}\n  NATS carried ${busDuringUpload} bytes from clients meanwhile`);

    expect({ status: big.status, body: big.body, sent: big.sent }).toEqual({ status: 200, body: { fileTransferId: expect.any(String) }, sent: FILE_BYTES });
    expect(uploadGrowth.gateway.growth).toBeLessThan(GROWTH_BOUND_BYTES);
    expect(uploadGrowth.snapshot.growth).toBeLessThan(GROWTH_BOUND_BYTES);
    expect(busDuringUpload).toBeLessThan(BUS_BOUND_BYTES);

    // Exactly one blob, of exactly 200 MiB, under the organization's file transfers; nothing left half-written.
    const transfers = join(dataDir, 'blobs', 'org-mem', 'filetransfers');
    const blobs = readdirSync(transfers);
    expect(blobs.map((name) => statSync(join(transfers, name)).size)).toEqual([FILE_BYTES]);
    const incoming = join(dataDir, 'blobs', '.incoming');
    expect(existsSync(incoming) ? readdirSync(incoming) : []).toEqual([]);

    watch = new MemoryWatch(pids);
    started = performance.now();
    const downloaded = await download(bearer, big.body.fileTransferId!);
    const downloadMs = performance.now() - started;
    const downloadGrowth = watch.stop();
    console.log(describeGrowth('download', downloadGrowth, downloadMs));

    expect(downloaded).toEqual({ bytes: FILE_BYTES, sha256: big.sha256 });
    expect(downloadGrowth.gateway.growth).toBeLessThan(GROWTH_BOUND_BYTES);
    expect(downloadGrowth.snapshot.growth).toBeLessThan(GROWTH_BOUND_BYTES);
  }, 300_000);
});
