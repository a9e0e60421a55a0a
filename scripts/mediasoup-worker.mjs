// mediasoup's C++ worker for this machine, built once from Debian's libraries and cached outside
// the repository (see docs/architecture.md, "Media"). Used by `npm start` and `npm test`:
//
//   import { ensureMediasoupWorker } from './mediasoup-worker.mjs';
//   process.env.MEDIASOUP_WORKER_BIN = await ensureMediasoupWorker();
//
// and runnable as `node scripts/mediasoup-worker.mjs`, which prints the worker's path as its last
// line of stdout (build output goes to stderr).
import { createHash } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { homedir, hostname } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ensureDebianPackages, log, root, which } from './lib.mjs';

const buildScript = join(root, 'scripts', 'build-mediasoup-worker.sh');

/** A build takes about three minutes on two cores; a lock older than this is abandoned. */
const STALE_LOCK_MS = 60 * 60 * 1000;
/** How long a second caller waits for someone else's build. */
const WAIT_FOR_LOCK_MS = 45 * 60 * 1000;

function dpkgInstalled(pkg) {
  const r = spawnSync('dpkg-query', ['-W', '-f=${Status}', pkg], { encoding: 'utf8' });
  return r.status === 0 && /\binstall ok installed\b/.test(r.stdout);
}

/** What the build script needs (docs/architecture.md, "Media"). */
export const mediasoupWorkerPackages = [
  { pkg: 'g++', present: () => !!which('g++') },
  { pkg: 'meson', present: () => !!which('meson') },
  { pkg: 'ninja-build', present: () => !!which('ninja') },
  { pkg: 'pkg-config', present: () => !!which('pkg-config') },
  ...['libuv1-dev', 'libssl-dev', 'libsrtp2-dev', 'libusrsctp-dev', 'libabsl-dev', 'nlohmann-json3-dev'].map((pkg) => ({
    pkg,
    present: () => dpkgInstalled(pkg),
  })),
];

function mediasoupVersion() {
  const file = join(root, 'node_modules', 'mediasoup', 'package.json');
  if (!existsSync(file)) throw new Error(`${file} is missing: install the npm packages first (npm ci)`);
  return JSON.parse(readFileSync(file, 'utf8')).version;
}

function debianArch() {
  const r = spawnSync('dpkg', ['--print-architecture'], { encoding: 'utf8' });
  if (r.status === 0 && r.stdout.trim()) return r.stdout.trim();
  return { x64: 'amd64', arm64: 'arm64', arm: 'armhf', ia32: 'i386', ppc64: 'ppc64el', s390x: 's390x' }[process.arch] ?? process.arch;
}

/** The cached worker's path: ${XDG_CACHE_HOME:-~/.cache}/parley/mediasoup-worker-<version>-<arch>-<script hash>/mediasoup-worker. */
export function mediasoupWorkerCachePath() {
  const cacheHome = process.env.XDG_CACHE_HOME || join(homedir(), '.cache');
  // A changed build script makes a new cache entry, so the worker is rebuilt.
  const scriptHash = createHash('sha256').update(readFileSync(buildScript)).digest('hex').slice(0, 12);
  return join(cacheHome, 'parley', `mediasoup-worker-${mediasoupVersion()}-${debianArch()}-${scriptHash}`, 'mediasoup-worker');
}

/** Shared libraries the dynamic linker cannot find (e.g. a cache copied to a machine without them). */
function unresolvedLibraries(bin) {
  const r = spawnSync('ldd', [bin], { encoding: 'utf8' });
  if (r.status !== 0) return [];
  return r.stdout.split('\n').filter((l) => l.includes('not found')).map((l) => l.trim().split(/\s+/)[0]);
}

/** True when `bin` is a usable worker; installs missing runtime libraries when that is all it lacks. */
function usable(bin) {
  if (!existsSync(bin)) return false;
  let missing = unresolvedLibraries(bin);
  if (missing.length === 0) return true;
  log(`the cached mediasoup-worker lacks ${missing.join(', ')}; installing its Debian packages`);
  ensureDebianPackages(mediasoupWorkerPackages);
  missing = unresolvedLibraries(bin);
  if (missing.length === 0) return true;
  log(`the cached mediasoup-worker still lacks ${missing.join(', ')}; rebuilding it`);
  rmSync(bin, { force: true });
  return false;
}

function sleepMs(ms) {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

function pidAlive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return err.code === 'EPERM';
  }
}

/** Why the lock at `lockDir` is stale, or null while its owner may still be building. */
function staleReason(lockDir) {
  let owner = null;
  try {
    owner = JSON.parse(readFileSync(join(lockDir, 'owner.json'), 'utf8'));
  } catch {
    // The owner writes owner.json right after mkdir; give it a moment before judging by age alone.
  }
  let since;
  try {
    since = owner?.since ?? statSync(lockDir).mtimeMs;
  } catch {
    return 'gone'; // released meanwhile
  }
  if (owner && owner.host === hostname() && !pidAlive(owner.pid)) return `its owner (pid ${owner.pid}) is gone`;
  if (!owner && Date.now() - since > 60_000) return 'it has no owner';
  if (Date.now() - since > STALE_LOCK_MS) return `it is older than ${STALE_LOCK_MS / 60_000} minutes`;
  return null;
}

/** Takes the mkdir-based lock; returns its release function. Waits while another process builds. */
function acquireLock(lockDir) {
  mkdirSync(dirname(lockDir), { recursive: true });
  const deadline = Date.now() + WAIT_FOR_LOCK_MS;
  let announced = false;
  for (;;) {
    try {
      mkdirSync(lockDir);
      writeFileSync(join(lockDir, 'owner.json'), JSON.stringify({ pid: process.pid, host: hostname(), since: Date.now() }));
      return () => rmSync(lockDir, { recursive: true, force: true });
    } catch (err) {
      if (err.code !== 'EEXIST') throw err;
    }
    const stale = staleReason(lockDir);
    if (stale) {
      if (stale !== 'gone') log(`removing a stale mediasoup-worker build lock (${stale}): ${lockDir}`);
      rmSync(lockDir, { recursive: true, force: true });
      continue;
    }
    if (Date.now() > deadline) throw new Error(`gave up waiting for another mediasoup-worker build (lock ${lockDir})`);
    if (!announced) {
      log('another process is building mediasoup-worker; waiting for it');
      announced = true;
    }
    sleepMs(1000);
  }
}

/**
 * The path of a mediasoup-worker for this machine: `$MEDIASOUP_WORKER_BIN` when it names an
 * existing file, else the cached build, building it first when missing (about three minutes on
 * two cores; the Debian packages it needs are installed with apt-get). Synchronous; awaiting
 * its result is harmless.
 */
export function ensureMediasoupWorker() {
  const preset = process.env.MEDIASOUP_WORKER_BIN;
  if (preset) {
    if (existsSync(preset)) return preset;
    log(`MEDIASOUP_WORKER_BIN=${preset} does not exist; using the cached build instead`);
  }
  const bin = mediasoupWorkerCachePath();
  if (usable(bin)) return bin;

  const release = acquireLock(`${dirname(bin)}.lock`);
  try {
    // Someone else may have finished the build while we waited for the lock.
    if (usable(bin)) return bin;
    ensureDebianPackages(mediasoupWorkerPackages);
    const started = Date.now();
    log(`building mediasoup-worker ${mediasoupVersion()} from Debian's libraries (about 3 minutes on 2 cores) into ${dirname(bin)}`);
    // Build output goes to stderr so that stdout stays clean for the path.
    const r = spawnSync('bash', [buildScript, bin], { cwd: root, stdio: ['ignore', 2, 2] });
    if (r.status !== 0) throw new Error(`building mediasoup-worker failed (${r.status ?? r.signal}); see the output above`);
    if (!existsSync(bin)) throw new Error(`the mediasoup-worker build finished but ${bin} is missing`);
    log(`built mediasoup-worker in ${Math.round((Date.now() - started) / 1000)} s`);
    return bin;
  } finally {
    release();
  }
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  try {
    process.stdout.write(`${ensureMediasoupWorker()}\n`);
  } catch (err) {
    process.stderr.write(`[parley] ${err instanceof Error ? err.message : err}\n`);
    process.exit(1);
  }
}
