import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Client } from 'pg';
import { freePort } from './free-port';
import { trackResource, untrackResource, updateResource } from './process-registry';

const run = promisify(execFile);

export interface StartPostgresOptions {
  /** Where initdb/pg_ctl live; default `$PG_BIN_DIR` or Debian's PostgreSQL 15. */
  binDir?: string;
  /** Extra `-c name=value` server settings. */
  settings?: Record<string, string | number>;
}

export interface PostgresHandle {
  /** postgres://postgres@127.0.0.1:PORT/postgres (trust auth, no password). */
  readonly url: string;
  readonly port: number;
  /** The cluster's data directory (inside a temp dir removed by stop()). */
  readonly dataDir: string;
  /** Creates an empty database (a random name by default) and returns its URL. */
  createDatabase(name?: string): Promise<string>;
  /** Fast shutdown, then removes the cluster's directory. Idempotent. */
  stop(): Promise<void>;
  /** Immediate shutdown, as a crash would leave it: every connection drops. The directory stays until stop(). */
  kill(): Promise<void>;
}

// Durability is pointless for a throw-away cluster and costs seconds per test file.
const DEFAULT_SETTINGS: Record<string, string | number> = {
  listen_addresses: '127.0.0.1',
  fsync: 'off',
  synchronous_commit: 'off',
  full_page_writes: 'off',
  max_connections: 200,
};

const BIND_RETRIES = 3;
const isRoot = () => process.getuid?.() === 0;

/** initdb and postgres refuse to run as root: as root, run them as the `postgres` system user. */
async function runPg(binDir: string, tool: string, args: string[]): Promise<string> {
  const bin = join(binDir, tool);
  const [file, argv] = isRoot() ? ['runuser', ['-u', 'postgres', '--', bin, ...args]] : [bin, args];
  const { stdout } = await run(file, argv, { env: { ...process.env, LC_ALL: 'C', LANG: 'C' }, maxBuffer: 16 * 1024 * 1024 });
  return stdout;
}

function errorText(err: unknown): string {
  const e = err as { message?: string; stderr?: string; stdout?: string };
  return [e.message, e.stderr, e.stdout].filter(Boolean).join('\n');
}

function databaseUrl(port: number, database: string): string {
  return `postgres://postgres@127.0.0.1:${port}/${database}`;
}

export async function startPostgres(options: StartPostgresOptions = {}): Promise<PostgresHandle> {
  const binDir = options.binDir ?? process.env.PG_BIN_DIR ?? '/usr/lib/postgresql/15/bin';
  const base = await mkdtemp(join(tmpdir(), 'parley-pg-'));
  const dataDir = join(base, 'data');
  const logFile = join(base, 'postgres.log');
  // SIGQUIT is PostgreSQL's immediate shutdown: the postmaster takes its backends down with it.
  const resourceId = trackResource({ signal: 'SIGQUIT', dir: base });
  let port = 0;

  try {
    if (isRoot()) await run('chown', ['postgres:', base]);
    await runPg(binDir, 'initdb', ['-D', dataDir, '-U', 'postgres', '-A', 'trust', '-E', 'UTF8', '--no-locale', '--no-sync']);

    const settings = { ...DEFAULT_SETTINGS, ...options.settings };
    for (let attempt = 1; ; attempt++) {
      port = await freePort();
      const serverOptions = [`-p ${port}`, `-k ${base}`, ...Object.entries(settings).map(([k, v]) => `-c ${k}=${v}`)].join(' ');
      try {
        await runPg(binDir, 'pg_ctl', ['-D', dataDir, '-l', logFile, '-w', '-t', '30', '-o', serverOptions, 'start']);
        break;
      } catch (err) {
        const log = await readFile(logFile, 'utf8').catch(() => '');
        // Someone took the port between freePort() and the bind: try another one.
        if (attempt < BIND_RETRIES && /could not bind|already in use/i.test(log)) continue;
        throw new Error(`PostgreSQL did not start: ${errorText(err)}\n${log.slice(-4000)}`);
      }
    }
    const pid = Number((await readFile(join(dataDir, 'postmaster.pid'), 'utf8')).split('\n')[0]);
    updateResource(resourceId, { pid });
  } catch (err) {
    await runPg(binDir, 'pg_ctl', ['-D', dataDir, '-m', 'immediate', '-w', 'stop']).catch(() => undefined);
    await rm(base, { recursive: true, force: true });
    untrackResource(resourceId);
    throw err;
  }

  const url = databaseUrl(port, 'postgres');
  let stopping: Promise<void> | undefined;

  return {
    url,
    port,
    dataDir,
    async createDatabase(name = `test_${randomBytes(6).toString('hex')}`) {
      if (!/^[a-z_][a-z0-9_]{0,62}$/.test(name)) throw new Error(`invalid database name: ${name}`);
      const client = new Client({ connectionString: url });
      await client.connect();
      try {
        await client.query(`CREATE DATABASE "${name}"`);
      } finally {
        await client.end();
      }
      return databaseUrl(port, name);
    },
    async kill() {
      await runPg(binDir, 'pg_ctl', ['-D', dataDir, '-m', 'immediate', '-w', 'stop']).catch(() => undefined);
    },
    stop() {
      stopping ??= (async () => {
        try {
          await runPg(binDir, 'pg_ctl', ['-D', dataDir, '-m', 'fast', '-w', '-t', '10', 'stop']);
        } catch {
          await runPg(binDir, 'pg_ctl', ['-D', dataDir, '-m', 'immediate', '-w', 'stop']).catch(() => undefined);
        }
        await rm(base, { recursive: true, force: true });
        untrackResource(resourceId);
      })();
      return stopping;
    },
  };
}
