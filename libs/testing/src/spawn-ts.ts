import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { exitOf, OutputTail, terminate } from './child-output';
import { trackResource, untrackResource } from './process-registry';
import { REPOSITORY_ROOT } from './registry';

export interface SpawnTsOptions {
  args?: string[];
  /** Options of node itself, before the file (e.g. `--cpu-prof`). */
  nodeArgs?: string[];
  env?: NodeJS.ProcessEnv;
  cwd?: string;
}

export interface TsChildHandle {
  readonly child: ChildProcess;
  /** The last few kilobytes the child wrote to stdout/stderr. */
  output(): string;
  /** Resolves with the child's exit code or signal. */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Sends `signal` (SIGKILL by default, i.e. a crash) and waits for the exit. */
  kill(signal?: NodeJS.Signals): Promise<void>;
  /** Resolves with the first IPC message (`process.send`) that satisfies `predicate`. */
  message<T = unknown>(predicate?: (msg: T) => boolean, timeoutMs?: number): Promise<T>;
}


/** Runs a TypeScript file in a child Node process (with an IPC channel), killed when the test process exits. */
export function spawnTs(file: string, options: SpawnTsOptions = {}): TsChildHandle {
  const root = REPOSITORY_ROOT;
  // The repository's preload compiles .ts with @swc/core (as jest does) and maps @parley/<lib> to
  // the lib's source, so a test can run a real service in a separate process and SIGKILL it.
  const child = spawn(process.execPath, ['--enable-source-maps', ...(options.nodeArgs ?? []), '-r', join(root, 'scripts', 'register-ts.cjs'), file, ...(options.args ?? [])], {
    cwd: options.cwd ?? root,
    env: { ...process.env, ...options.env },
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
  });
  const tail = new OutputTail(65_536);
  tail.attach(child);
  const resourceId = trackResource({ pid: child.pid, signal: 'SIGKILL' });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once('exit', (code, signal) => {
      untrackResource(resourceId);
      resolve({ code, signal });
    });
  });
  child.on('error', () => undefined);

  return {
    child,
    exited,
    output: () => tail.toString(),
    async kill(signal: NodeJS.Signals = 'SIGKILL') {
      await terminate(child, signal, 5000);
      await exitOf(child);
    },
    message<T>(predicate: (msg: T) => boolean = () => true, timeoutMs = 15_000) {
      return new Promise<T>((resolve, reject) => {
        const onMessage = (msg: unknown) => {
          if (!predicate(msg as T)) return;
          cleanup();
          resolve(msg as T);
        };
        const onExit = () => {
          cleanup();
          reject(new Error(`child exited before sending the expected message:\n${tail}`));
        };
        const timer = setTimeout(() => {
          cleanup();
          reject(new Error(`no matching message from the child within ${timeoutMs} ms:\n${tail}`));
        }, timeoutMs);
        const cleanup = () => {
          clearTimeout(timer);
          child.off('message', onMessage);
          child.off('exit', onExit);
        };
        child.on('message', onMessage);
        child.once('exit', onExit);
      });
    },
  };
}
