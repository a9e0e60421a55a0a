import { execFile } from 'node:child_process';
import { closeSync, fdatasyncSync, mkdtempSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import * as os from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Client } from 'pg';
import { ROOT } from './services';
import { Samples } from './stats';

const run = promisify(execFile);

export interface MachineInfo {
  cpuModel: string;
  cpuCount: number;
  totalMemGiB: number;
  kernel: string;
  node: string;
  natsServer: string;
  postgres: string;
  postgresSettings: Record<string, string>;
  pglite: string;
  /** fdatasync after an 8 KiB write in the temp dir, where the bench's data lives. */
  fdatasync: Samples;
  date: string;
}

export async function natsServerVersion(): Promise<string> {
  const bin = process.env.NATS_SERVER_BIN ?? '/usr/sbin/nats-server';
  try {
    const { stdout } = await run(bin, ['--version']);
    return stdout.trim().replace(/^nats-server:\s*/, '');
  } catch (e) {
    return `unknown (${String(e)})`;
  }
}

export const SETTINGS_SHOWN = ['fsync', 'synchronous_commit', 'full_page_writes', 'wal_sync_method', 'shared_buffers', 'max_connections'];

export async function postgresVersion(url: string): Promise<{ version: string; settings: Record<string, string> }> {
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    const version = (await client.query<{ v: string }>('SELECT version() AS v')).rows[0].v;
    const settings: Record<string, string> = {};
    for (const name of SETTINGS_SHOWN) settings[name] = (await client.query(`SHOW ${name}`)).rows[0][name];
    return { version, settings };
  } finally {
    await client.end();
  }
}

/** The PGlite package version and the PostgreSQL version it embeds (an in-memory instance). */
export async function pgliteVersion(): Promise<string> {
  let pkg = '?';
  try {
    pkg = JSON.parse(readFileSync(join(ROOT, 'node_modules/@electric-sql/pglite/package.json'), 'utf8')).version;
    const { PGlite } = require('@electric-sql/pglite') as typeof import('@electric-sql/pglite');
    const db = await PGlite.create();
    try {
      const v = (await db.query<{ v: string }>('SELECT version() AS v')).rows[0].v;
      return `${pkg} (${v.split(',')[0]}, WebAssembly)`;
    } finally {
      await db.close();
    }
  } catch {
    return pkg;
  }
}

export function measureFdatasync(count = 300): Samples {
  const dir = mkdtempSync(join(os.tmpdir(), 'parley-bench-fsync-'));
  const samples = new Samples();
  try {
    const fd = openSync(join(dir, 'probe'), 'w');
    const block = Buffer.alloc(8192, 7);
    try {
      for (let i = 0; i < count; i++) {
        const t = performance.now();
        writeSync(fd, block, 0, block.length, (i % 16) * block.length);
        fdatasyncSync(fd);
        samples.add(performance.now() - t);
      }
    } finally {
      closeSync(fd);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return samples;
}

export function baseMachineInfo(): Omit<MachineInfo, 'natsServer' | 'postgres' | 'postgresSettings' | 'pglite'> {
  const cpus = os.cpus();
  return {
    cpuModel: cpus[0]?.model.trim() ?? 'unknown',
    cpuCount: cpus.length,
    totalMemGiB: os.totalmem() / 1024 ** 3,
    kernel: `${os.type()} ${os.release()} (${os.arch()})`,
    node: process.version,
    fdatasync: measureFdatasync(),
    date: new Date().toISOString(),
  };
}
