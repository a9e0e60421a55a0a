import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';
import { REPOSITORY_ROOT } from './registry';

/** A first build takes about three minutes on two cores; allow for slow machines. */
const BUILD_TIMEOUT_MS = 30 * 60 * 1000;

/**
 * The mediasoup-worker binary for tests: `$MEDIASOUP_WORKER_BIN` when it names an existing file
 * (`npm test` sets it), else the one `node scripts/mediasoup-worker.mjs` finds in its cache or
 * builds from Debian's libraries. Set `process.env.MEDIASOUP_WORKER_BIN` to the result before
 * mediasoup is first required: mediasoup reads it when its Worker module loads.
 */
export function mediasoupWorkerBin(): string {
  const preset = process.env.MEDIASOUP_WORKER_BIN;
  if (preset && existsSync(preset)) return preset;
  const root = REPOSITORY_ROOT;
  // The build's output goes to our stderr; stdout ends with the worker's path.
  const stdout = execFileSync(process.execPath, [join(root, 'scripts', 'mediasoup-worker.mjs')], {
    cwd: root,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
    timeout: BUILD_TIMEOUT_MS,
    maxBuffer: 16 * 1024 * 1024,
  });
  const bin = stdout.trim().split('\n').pop()?.trim() ?? '';
  if (!isAbsolute(bin) || !existsSync(bin)) {
    throw new Error(`scripts/mediasoup-worker.mjs did not print a worker path; its output:\n${stdout}`);
  }
  return bin;
}
