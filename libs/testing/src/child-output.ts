import type { ChildProcess } from 'node:child_process';

/**
 * Keeps the last few kilobytes a child wrote to stdout/stderr, so a server that fails to
 * start can be reported with its own explanation. Reading the pipes also keeps a chatty
 * child from blocking on a full pipe.
 */
export class OutputTail {
  private text = '';

  constructor(private readonly maxChars = 8192) {}

  attach(child: ChildProcess): void {
    const append = (chunk: Buffer) => {
      this.text = (this.text + chunk.toString('utf8')).slice(-this.maxChars);
    };
    child.stdout?.on('data', append);
    child.stderr?.on('data', append);
  }

  toString(): string {
    return this.text;
  }
}

/** Resolves when the child has exited (immediately if it already has). */
export function exitOf(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once('exit', () => resolve()));
}

/** Sends `signal`, then SIGKILL if the child is still there after `graceMs`. */
export async function terminate(child: ChildProcess, signal: NodeJS.Signals, graceMs: number): Promise<void> {
  const exited = exitOf(child);
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill(signal);
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<boolean>((resolve) => {
    timer = setTimeout(() => resolve(true), graceMs);
  });
  const late = await Promise.race([exited.then(() => false), timedOut]);
  clearTimeout(timer);
  if (late) {
    child.kill('SIGKILL');
    await exited;
  }
}

/** Whether a process with this pid exists (signal 0 checks without sending anything). */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
