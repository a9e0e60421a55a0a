import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { OutputTail, terminate } from './child-output';
import { trackResource, untrackResource } from './process-registry';
import { REPOSITORY_ROOT } from './registry';

export interface S3ServerHandle {
  /** http://127.0.0.1:PORT */
  readonly endpoint: string;
  /** A bucket made at start. */
  readonly bucket: string;
  /** The credentials it takes (s3rver's own). */
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  /** Stops it and removes its data. Idempotent. */
  stop(): Promise<void>;
}

/**
 * A real S3-protocol server on a free port (s3rver from npm, in a child process, with its data in
 * a temp directory): what the S3 adapter's tests talk to. A test server only.
 */
export async function startS3Server(bucket = 'parley-test'): Promise<S3ServerHandle> {
  const directory = await mkdtemp(join(tmpdir(), 'parley-s3rver-'));
  const child = spawn(process.execPath, [join(REPOSITORY_ROOT, 'libs', 'testing', 'src', 's3rver-child.cjs'), directory, bucket], { stdio: ['ignore', 'pipe', 'pipe', 'ipc'] });
  const tail = new OutputTail(8192);
  tail.attach(child);
  const resourceId = trackResource({ pid: child.pid, signal: 'SIGKILL', dir: directory });
  const port = await new Promise<number>((resolve, reject) => {
    child.once('message', (m: { port: number }) => resolve(m.port));
    child.once('exit', (code, signal) => reject(new Error(`s3rver exited during start-up (${code ?? signal}):\n${tail}`)));
  });
  let stopped: Promise<void> | undefined;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    bucket,
    accessKeyId: 'S3RVER',
    secretAccessKey: 'S3RVER',
    stop: () =>
      (stopped ??= (async () => {
        await terminate(child, 'SIGTERM', 5000);
        untrackResource(resourceId);
        await rm(directory, { recursive: true, force: true });
      })()),
  };
}
