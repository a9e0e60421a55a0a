#!/usr/bin/env node
// `npm start`: installs what is missing (including a build of mediasoup's worker), builds,
// starts nats-server (unless NATS_URL is set) and every process of PARLEY_SERVICES (libs/contracts) on the embedded defaults (PGlite under .data/), prints the URL, and
// stops everything on Ctrl-C. A process that exits after it started is started again, after a back-off that
// doubles with each exit in a row (1 s up to 30 s), so one crash never takes the others down.
import { spawn } from 'node:child_process';
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { createSocket } from 'node:dgram';
import { coturnPackage, ensureDebianPackages, ensureNodeModules, installationSecrets, log, natsPackage, registeredServices, root, run, which } from './lib.mjs';
import { ensureMediasoupWorker } from './mediasoup-worker.mjs';

/** Every process started: { name, child (the current one), timer (a pending restart) }. */
const children = [];
let stopping = false;

const FIRST_BACKOFF_MS = 1000;
const MAX_BACKOFF_MS = 30_000;
/** A process that ran this long before it exited is restarted at the first back-off again. */
const STABLE_MS = 60_000;

function prefixLines(stream, name) {
  let buf = '';
  stream.on('data', (chunk) => {
    buf += chunk;
    const lines = buf.split('\n');
    buf = lines.pop();
    for (const line of lines) process.stdout.write(`[${name}] ${line}\n`);
  });
}

/**
 * Starts a process and keeps it running: once `started` is called (it answered ready), an exit
 * is followed by a restart after the back-off. Before that, an exit is a failure to start, which
 * the caller reports (see ready()).
 */
function start(name, cmd, args, env = {}) {
  const entry = { name, child: undefined, timer: undefined, started: false, exitsInARow: 0 };
  const launch = () => {
    const child = spawn(cmd, args, { cwd: root, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe', 'ipc'] });
    const launchedAt = Date.now();
    log(`${name} started (pid ${child.pid})`);
    prefixLines(child.stdout, name);
    prefixLines(child.stderr, name);
    child.on('exit', (code, signal) => {
      if (stopping || !entry.started) return;
      if (Date.now() - launchedAt >= STABLE_MS) entry.exitsInARow = 0;
      const delay = Math.min(MAX_BACKOFF_MS, FIRST_BACKOFF_MS * 2 ** entry.exitsInARow++);
      log(`${name} exited (${signal ?? code}); starting it again in ${delay / 1000} s`);
      entry.timer = setTimeout(() => {
        entry.timer = undefined;
        if (!stopping) launch();
      }, delay);
    });
    entry.child = child;
  };
  launch();
  children.push(entry);
  return { child: entry.child, started: () => (entry.started = true) };
}

async function stopAll(code = 0) {
  if (stopping) return;
  stopping = true;
  log('stopping');
  // Services first, NATS last, so they can drain their connections.
  for (const entry of children) clearTimeout(entry.timer);
  for (const { child } of [...children].reverse()) {
    if (child.exitCode !== null || child.signalCode !== null) continue;
    child.kill('SIGTERM');
    await new Promise((resolve) => {
      const t = setTimeout(() => {
        child.kill('SIGKILL');
        resolve();
      }, 10_000);
      child.once('exit', () => {
        clearTimeout(t);
        resolve();
      });
    });
  }
  process.exit(code);
}

const portFree = (port, host = '127.0.0.1') =>
  new Promise((resolve) => {
    const s = net.createServer().once('error', () => resolve(false)).once('listening', () => s.close(() => resolve(true)));
    s.listen(port, host);
  });

async function freePort() {
  return new Promise((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

async function waitForPort(port, timeoutMs = 15_000) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const ok = await new Promise((resolve) => {
      const c = net.connect(port, '127.0.0.1').once('connect', () => (c.end(), resolve(true))).once('error', () => resolve(false));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`nothing listens on port ${port} after ${timeoutMs} ms`);
}

const udpPortFree = (port, host = '127.0.0.1') =>
  new Promise((resolve) => {
    const s = createSocket('udp4').once('error', () => resolve(false));
    s.bind(port, host, () => s.close(() => resolve(true)));
  });

/** Resolves once something answers a STUN binding request on host:port (UDP). */
async function waitForStun(port, host, timeoutMs = 15_000) {
  const deadline = Date.now() + timeoutMs;
  const request = Buffer.concat([Buffer.from([0x00, 0x01, 0x00, 0x00, 0x21, 0x12, 0xa4, 0x42]), randomBytes(12)]);
  while (Date.now() < deadline) {
    const answered = await new Promise((resolve) => {
      const socket = createSocket('udp4');
      const timer = setTimeout(() => (socket.close(), resolve(false)), 300);
      socket.once('message', () => (clearTimeout(timer), socket.close(), resolve(true)));
      socket.send(request, port, host);
    });
    if (answered) return;
  }
  throw new Error(`coturn does not answer STUN on ${host}:${port} after ${timeoutMs} ms`);
}

/** Resolves with the process's ready message (from then on it is restarted when it exits); rejects if it exits first. */
const ready = ({ child, started }, name, timeoutMs = 60_000) =>
  new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`${name} did not become ready within ${timeoutMs} ms`)), timeoutMs);
    child.on('message', (m) => {
      if (m?.ready) {
        clearTimeout(t);
        started();
        resolve(m);
      }
    });
    child.once('exit', () => reject(new Error(`${name} exited while starting`)));
  });

process.on('SIGINT', () => void stopAll(0));
process.on('SIGTERM', () => void stopAll(0));

try {
  const ownTurn = !process.env.TURN_URLS;
  ensureDebianPackages([...(process.env.NATS_URL ? [] : [natsPackage]), ...(ownTurn ? [coturnPackage] : [])]);
  ensureNodeModules();
  log('building (tsc -b)');
  run('npx', ['tsc', '-b', 'tsconfig.build.json']);

  const dataDir = process.env.DATA_DIR || join(root, '.data');
  mkdirSync(dataDir, { recursive: true });
  // Every process's NATS user and signing key, made once and kept (docs/security.md).
  const installation = await installationSecrets(dataDir);
  let natsUrl = process.env.NATS_URL;
  let ownNats = false;
  if (!natsUrl) {
    const wanted = Number(process.env.PARLEY_NATS_PORT || 4222);
    const port = (await portFree(wanted)) ? wanted : await freePort();
    if (port !== wanted) log(`port ${wanted} is taken; nats-server will listen on ${port}`);
    const bin = which('nats-server') || '/usr/sbin/nats-server';
    // Its log goes to a file: the services' lines are what a person starting Parley wants to see.
    // Its users: one per process, each allowed only its own subjects, and `operator` for the CLIs.
    const authorization = join(dataDir, 'nats-authorization.conf');
    writeFileSync(authorization, installation.natsAuthorization, { mode: 0o600 });
    chmodSync(authorization, 0o600);
    const nats = start('nats', bin, ['-a', '127.0.0.1', '-p', String(port), '-js', '-sd', join(dataDir, 'nats'), '-l', join(dataDir, 'nats-server.log'), '-c', authorization]);
    await waitForPort(port);
    ownNats = true;
    nats.started();
    natsUrl = `nats://127.0.0.1:${port}`;
  }
  // STUN/TURN: a coturn of our own (unless TURN_URLS names one) with a secret generated for this
  // run, so GET /rtc-api/iceServers/v2 answers credentials that work.
  let turnEnv = {};
  if (ownTurn) {
    const wanted = Number(process.env.PARLEY_TURN_PORT || 3478);
    const port = (await portFree(wanted)) && (await udpPortFree(wanted)) ? wanted : await freePort();
    const secret = randomBytes(24).toString('base64url');
    const relayMin = Number(process.env.PARLEY_TURN_RELAY_MIN_PORT || 49160);
    const listenIp = process.env.LISTEN_IP || '127.0.0.1';
    const coturn = start('coturn', which('turnserver') || '/usr/bin/turnserver', [
      '-n', `--listening-ip=${listenIp}`, `--relay-ip=${listenIp}`, `--listening-port=${port}`, `--min-port=${relayMin}`, `--max-port=${relayMin + 40}`,
      '--use-auth-secret', `--static-auth-secret=${secret}`, '--realm=parley', '--no-tls', '--no-dtls', '--no-cli', '--allow-loopback-peers',
      `--log-file=${join(dataDir, 'coturn.log')}`, '--simple-log', '--no-stdout-log',
    ]);
    await waitForStun(port, listenIp);
    coturn.started();
    turnEnv = { STUN_URLS: `stun:${listenIp}:${port}`, TURN_URLS: `turn:${listenIp}:${port}?transport=udp,turn:${listenIp}:${port}?transport=tcp`, TURN_SECRET: secret };
  }

  // Readable log lines on a terminal, JSON otherwise (a file, a log shipper). Development mode:
  // the development defaults (the public JWT secret, the demo's sign-in, public API docs) are
  // allowed here and nowhere else (docs/security.md); an explicit PARLEY_MODE wins.
  const env = { PARLEY_MODE: process.env.PARLEY_MODE || 'development', NATS_URL: natsUrl, DATA_DIR: dataDir, LOG_FORMAT: process.env.LOG_FORMAT || (process.stdout.isTTY ? 'pretty' : 'json') };
  if (env.PARLEY_MODE === 'development') log('PARLEY_MODE=development: for a development machine only (docs/security.md)');

  // Every process of PARLEY_SERVICES, in its order: adding a service is an entry there.
  let url;
  let metricsUrl;
  for (const service of await registeredServices()) {
    const own = {};
    // The SFU: mediasoup's worker, built once from Debian's libraries and cached outside the repository.
    if (service.needs?.includes('mediasoup-worker')) Object.assign(own, turnEnv, { MEDIASOUP_WORKER_BIN: await ensureMediasoupWorker() });
    if (service.kind === 'gateway') {
      own.PORT = process.env.PORT || '8080';
      // Prometheus' listener (127.0.0.1 only): 9464, or a free port when that is taken.
      own.METRICS_PORT = process.env.METRICS_PORT || String((await portFree(9464)) ? 9464 : await freePort());
    }
    // Its signing key always; its NATS user on our own nats-server (one you run is yours to configure).
    const { NATS_USER, NATS_PASSWORD, ...identity } = installation.envOf(service.name);
    Object.assign(own, identity, ownNats ? { NATS_USER, NATS_PASSWORD } : {});
    const started = start(service.name, process.execPath, ['--enable-source-maps', `${service.app}/dist/main.js`], { ...env, ...own });
    const answer = await ready(started, service.name);
    if (service.kind === 'gateway') ({ url, metricsUrl } = answer);
  }

  log('');
  log(`Parley is running: ${url}`);
  log(`  API      ${url}/rtc-api   (OpenAPI and Swagger UI: ${url}/rtc-api/docs)`);
  log(`  push     ${url.replace(/^http/, 'ws')}/rtc-api/ws?userEndpointId=…   (after POST /rtc-api/users/endpoints)`);
  log(`  health   ${url}/health    metrics (this host only): ${metricsUrl}`);
  log(`  a token  npm run -s token -- --user agent-1 --org org-1 --roles AGENT`);
  log(`  secrets  ${join(dataDir, 'secrets.json')} (NATS users, signing keys; the operator CLIs read it)`);
  log('Ctrl-C stops everything.');
} catch (e) {
  log(`could not start: ${e.message}`);
  await stopAll(1);
}
