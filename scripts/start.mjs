#!/usr/bin/env node
// `npm start`: installs what is missing (including a build of mediasoup's worker), builds,
// starts nats-server (unless NATS_URL is set) and every service on the embedded defaults (PGlite under .data/), prints the URL, and
// stops everything on Ctrl-C.
import { spawn } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import net from 'node:net';
import { join } from 'node:path';
import { ensureDebianPackages, ensureNodeModules, log, natsPackage, root, run, which } from './lib.mjs';
import { ensureMediasoupWorker } from './mediasoup-worker.mjs';

const children = [];
let stopping = false;

function prefixLines(stream, name) {
  let buf = '';
  stream.on('data', (chunk) => {
    buf += chunk;
    const lines = buf.split('\n');
    buf = lines.pop();
    for (const line of lines) process.stdout.write(`[${name}] ${line}\n`);
  });
}

function start(name, cmd, args, env = {}) {
  const child = spawn(cmd, args, { cwd: root, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe', 'ipc'] });
  prefixLines(child.stdout, name);
  prefixLines(child.stderr, name);
  child.on('exit', (code, signal) => {
    if (!stopping) {
      log(`${name} exited (${signal ?? code}); stopping everything`);
      void stopAll(1);
    }
  });
  children.push({ name, child });
  return child;
}

async function stopAll(code = 0) {
  if (stopping) return;
  stopping = true;
  log('stopping');
  // Services first, NATS last, so they can drain their connections.
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

const ready = (child, name, timeoutMs = 60_000) =>
  new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`${name} did not become ready within ${timeoutMs} ms`)), timeoutMs);
    child.on('message', (m) => {
      if (m?.ready) {
        clearTimeout(t);
        resolve(m);
      }
    });
    child.once('exit', () => reject(new Error(`${name} exited while starting`)));
  });

process.on('SIGINT', () => void stopAll(0));
process.on('SIGTERM', () => void stopAll(0));

try {
  if (!process.env.NATS_URL) ensureDebianPackages([natsPackage]);
  ensureNodeModules();
  log('building (tsc -b)');
  run('npx', ['tsc', '-b', 'tsconfig.build.json']);

  const dataDir = process.env.DATA_DIR || join(root, '.data');
  mkdirSync(dataDir, { recursive: true });
  let natsUrl = process.env.NATS_URL;
  if (!natsUrl) {
    const wanted = Number(process.env.PARLEY_NATS_PORT || 4222);
    const port = (await portFree(wanted)) ? wanted : await freePort();
    if (port !== wanted) log(`port ${wanted} is taken; nats-server will listen on ${port}`);
    const bin = which('nats-server') || '/usr/sbin/nats-server';
    // Its log goes to a file: the services' lines are what a person starting Parley wants to see.
    start('nats', bin, ['-a', '127.0.0.1', '-p', String(port), '-js', '-sd', join(dataDir, 'nats'), '-l', join(dataDir, 'nats-server.log')]);
    await waitForPort(port);
    natsUrl = `nats://127.0.0.1:${port}`;
  }
  const env = { NATS_URL: natsUrl, DATA_DIR: dataDir };

  const conference = start('conference', process.execPath, ['--enable-source-maps', 'apps/conference/dist/main.js'], env);
  await ready(conference, 'conference');
  const presence = start('presence', process.execPath, ['--enable-source-maps', 'apps/presence/dist/main.js'], env);
  await ready(presence, 'presence');

  // The SFU: mediasoup's worker, built once from Debian's libraries and cached outside the repository.
  const workerBin = await ensureMediasoupWorker();
  const media = start('media', process.execPath, ['--enable-source-maps', 'apps/media/dist/main.js'], { ...env, MEDIASOUP_WORKER_BIN: workerBin });
  await ready(media, 'media');

  const port = process.env.PORT || '8080';
  const gateway = start('gateway', process.execPath, ['--enable-source-maps', 'apps/gateway/dist/main.js'], { ...env, PORT: port });
  const { url } = await ready(gateway, 'gateway');

  log('');
  log(`Parley is running: ${url}`);
  log(`  API      ${url}/rtc-api   (OpenAPI and Swagger UI: ${url}/rtc-api/docs)`);
  log(`  push     ${url.replace(/^http/, 'ws')}/rtc-api/ws?userEndpointId=…   (after POST /rtc-api/users/endpoints)`);
  log(`  health   ${url}/health    metrics: ${url}/metrics`);
  log(`  a token  npm run -s token -- --user agent-1 --org org-1 --roles AGENT`);
  log('Ctrl-C stops everything.');
} catch (e) {
  log(`could not start: ${e.message}`);
  await stopAll(1);
}
