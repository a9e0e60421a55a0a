/**
 * CPU time by process (/proc/<pid>/stat: user + system, children that exited included), so a
 * phase's cost can be told per process: the gateway, each service, nats-server, PostgreSQL (its
 * postmaster and every backend), and the load generator itself. Everything shares the same CPUs,
 * so this, not a profile's wall-clock samples, says where the machine's time went.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

const TICKS_PER_SECOND = 100; // USER_HZ on Linux

interface Stat {
  pid: number;
  ppid: number;
  /** utime + stime + cutime + cstime, ms. */
  cpuMs: number;
}

function stat(pid: number): Stat | undefined {
  try {
    const raw = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name is in parentheses and may hold spaces: the fields start after the last ')'.
    const fields = raw.slice(raw.lastIndexOf(')') + 2).split(' ');
    const n = (i: number) => Number(fields[i - 3]);
    return { pid, ppid: n(4), cpuMs: ((n(14) + n(15) + n(16) + n(17)) * 1000) / TICKS_PER_SECOND };
  } catch {
    return undefined; // gone
  }
}

const allPids = (): number[] =>
  readdirSync('/proc')
    .filter((d) => /^\d+$/.test(d))
    .map(Number);

function cmdline(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ');
  } catch {
    return '';
  }
}

/** The processes whose CPU a phase is measured by, by name. */
export interface ProcessSet {
  /** Named single processes (the gateway, each service). */
  pids: Record<string, number>;
  /** nats-server on this port. */
  natsPort?: number;
  /** A PostgreSQL cluster's data directory: its postmaster and every backend. */
  postgresDataDir?: string;
}

/** CPU ms so far of each named process, of nats-server, of PostgreSQL, and of this process. */
export function cpuSample(set: ProcessSet): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [name, pid] of Object.entries(set.pids)) out[name] = stat(pid)?.cpuMs ?? 0;
  const stats = allPids()
    .map(stat)
    .filter((s): s is Stat => s !== undefined);
  if (set.natsPort) {
    const nats = stats.find((s) => {
      const cmd = cmdline(s.pid);
      return cmd.includes('nats-server') && / -p (\d+)/.exec(cmd)?.[1] === String(set.natsPort);
    });
    out['nats-server'] = nats?.cpuMs ?? 0;
  }
  if (set.postgresDataDir) {
    const postmaster = Number(readFileSync(join(set.postgresDataDir, 'postmaster.pid'), 'utf8').split('\n')[0]);
    out.postgres = stats.filter((s) => s.pid === postmaster || s.ppid === postmaster).reduce((sum, s) => sum + s.cpuMs, 0);
  }
  out['load generator'] = stat(process.pid)?.cpuMs ?? 0;
  return out;
}

/** What each process spent between two samples, in µs per `count` (a command). */
export const cpuPer = (before: Record<string, number>, after: Record<string, number>, count: number): Record<string, number> =>
  Object.fromEntries(Object.keys(after).map((k) => [k, ((after[k] - (before[k] ?? 0)) * 1000) / Math.max(1, count)]));
