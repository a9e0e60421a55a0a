/**
 * Keeps track of every server process and temp directory the harness creates, so that
 * none outlives the test process:
 *
 * - on a normal exit (`process.on('exit')`) they are killed and removed synchronously;
 * - when the test process dies without running exit handlers (SIGKILL, a crashed jest
 *   worker) a small detached "reaper" process notices that its stdin pipe closed and
 *   does the same. A pipe closes whatever the way its writer died, which is why this
 *   is used rather than polling the parent's pid.
 *
 * Handles unregister themselves on `stop()`, so a well-behaved test leaves nothing here;
 * the exit listener and the reaper exist only while something is registered.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { rmSync } from 'node:fs';

export interface TrackedResource {
  /** The process to kill, if any (may change, e.g. after a restart). */
  pid?: number;
  /** The signal that ends it at once: SIGKILL for nats-server, SIGQUIT (immediate shutdown) for a postmaster. */
  signal: NodeJS.Signals;
  /** A directory to remove after the process is gone. */
  dir?: string;
}

const resources = new Map<number, TrackedResource>();
let nextId = 1;
let reaper: ChildProcess | undefined;
let exitListener: (() => void) | undefined;

// The reaper's whole program. It runs as plain JS through `node -e`, so it needs no file.
const REAPER_SOURCE = `
const { rmSync } = require('node:fs');
const entries = new Map();
let buf = '';
process.stdin.setEncoding('utf8');
process.stdin.on('data', (chunk) => {
  buf += chunk;
  let i;
  while ((i = buf.indexOf('\\n')) >= 0) {
    const line = buf.slice(0, i); buf = buf.slice(i + 1);
    try {
      const msg = JSON.parse(line);
      if (msg.op === 'add') entries.set(msg.id, msg.resource); else entries.delete(msg.id);
    } catch {}
  }
});
const alive = (pid) => { try { process.kill(pid, 0); return true; } catch { return false; } };
process.stdin.on('end', async () => {
  for (const r of entries.values()) if (r.pid && alive(r.pid)) { try { process.kill(r.pid, r.signal); } catch {} }
  const deadline = Date.now() + 10000;
  while (Date.now() < deadline && [...entries.values()].some((r) => r.pid && alive(r.pid))) await new Promise((res) => setTimeout(res, 50));
  for (const r of entries.values()) if (r.pid && alive(r.pid)) { try { process.kill(r.pid, 'SIGKILL'); } catch {} }
  for (const r of entries.values()) if (r.dir) { try { rmSync(r.dir, { recursive: true, force: true }); } catch {} }
  process.exit(0);
});
`;

function ensureReaper(): ChildProcess | undefined {
  if (reaper) return reaper;
  try {
    const child = spawn(process.execPath, ['-e', REAPER_SOURCE], {
      // Own process group: a Ctrl-C aimed at the test run must not kill the reaper before it cleans up.
      detached: true,
      stdio: ['pipe', 'ignore', 'ignore'],
    });
    child.on('error', () => undefined);
    child.stdin?.on('error', () => undefined);
    // Neither the process nor its pipe may keep the test process alive.
    child.unref();
    (child.stdin as unknown as { unref?: () => void } | null)?.unref?.();
    reaper = child;
  } catch {
    reaper = undefined; // best effort: the exit listener still covers normal exits
  }
  return reaper;
}

function tellReaper(msg: object): void {
  const r = ensureReaper();
  r?.stdin?.write(JSON.stringify(msg) + '\n');
}

function killNow(resource: TrackedResource): void {
  if (resource.pid) {
    try {
      process.kill(resource.pid, resource.signal);
    } catch {
      // already gone
    }
  }
  if (resource.dir) {
    try {
      rmSync(resource.dir, { recursive: true, force: true });
    } catch {
      // a dying server may still be writing into it; the reaper will try again
    }
  }
}

/** Registers a resource and returns its id. Call {@link updateResource} when its pid changes. */
export function trackResource(resource: TrackedResource): number {
  const id = nextId++;
  resources.set(id, { ...resource });
  tellReaper({ op: 'add', id, resource });
  if (!exitListener) {
    exitListener = () => {
      for (const r of resources.values()) killNow(r);
    };
    process.on('exit', exitListener);
  }
  return id;
}

export function updateResource(id: number, patch: Partial<TrackedResource>): void {
  const current = resources.get(id);
  if (!current) return;
  const next = { ...current, ...patch };
  resources.set(id, next);
  tellReaper({ op: 'add', id, resource: next });
}

/** Forgets a resource that was cleaned up properly. */
export function untrackResource(id: number): void {
  if (!resources.delete(id)) return;
  tellReaper({ op: 'del', id });
  if (resources.size === 0) {
    if (exitListener) process.off('exit', exitListener);
    exitListener = undefined;
    // Closing the pipe with nothing registered makes the reaper exit without doing anything.
    reaper?.stdin?.end();
    reaper = undefined;
  }
}
