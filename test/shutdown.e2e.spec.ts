import { PARLEY_SERVICES } from '@parley/contracts';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type NatsServerHandle, type PostgresHandle, type TsChildHandle, mediasoupWorkerBin, startNats, startPostgres } from '@parley/testing';
import { spawnService } from './support/service-process';

/** The bound the issue sets: every service is gone within 10 s of SIGTERM, whatever state NATS or its database is in. */
const BOUND_MS = 10_000;

/** SIGTERM, then how long the process took to exit, and how. */
async function terminate(child: TsChildHandle): Promise<{ ms: number; code: number | null; signal: string | null }> {
  const sent = Date.now();
  child.child.kill('SIGTERM');
  const { code, signal } = await child.exited;
  return { ms: Date.now() - sent, code, signal };
}

describe('a service stops on SIGTERM within 10 s', () => {
  let nats: NatsServerHandle;
  let pg: PostgresHandle;
  const children: TsChildHandle[] = [];
  const dataDir = mkdtempSync(join(tmpdir(), 'parley-shutdown-'));
  const kitServices = PARLEY_SERVICES.filter((s) => s.kind === 'service');

  beforeEach(async () => {
    nats = await startNats();
  });
  afterEach(async () => {
    for (const c of children.splice(0)) await c.kill('SIGKILL').catch(() => undefined);
    await nats?.stop();
    await pg?.stop();
  });
  afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

  const spawnAll = async (env: (name: string) => Promise<Record<string, string>>) => {
    const out: Array<[string, TsChildHandle]> = [];
    for (const s of kitServices) {
      const child = await spawnService(s.name, { NATS_URL: nats.url, DATA_DIR: join(dataDir, String(Date.now())), ...(await env(s.name)) });
      children.push(child);
      out.push([s.name, child]);
    }
    return out;
  };
  const mediaEnv = (name: string): Record<string, string> => (name === 'media' ? { MEDIASOUP_WORKER_BIN: mediasoupWorkerBin(), MEDIA_WORKERS: '1' } : {});

  it('when the NATS server is already gone (each service of PARLEY_SERVICES, on PGlite)', async () => {
    const running = await spawnAll(async (name) => mediaEnv(name));
    await nats.kill();
    const exits = Object.fromEntries(await Promise.all(running.map(async ([name, child]) => [name, await terminate(child)] as const)));
    for (const s of kitServices) {
      expect({ service: s.name, within: exits[s.name].ms <= BOUND_MS }).toEqual({ service: s.name, within: true });
      expect(exits[s.name].signal).toBeNull(); // it exited by itself, not by a kill
    }
  });

  it('when its PostgreSQL database is already gone (each event-sourced service)', async () => {
    pg = await startPostgres();
    const withStore = kitServices.filter((s) => s.eventStore);
    const running: Array<[string, TsChildHandle]> = [];
    for (const s of withStore) {
      const child = await spawnService(s.name, { NATS_URL: nats.url, DATABASE_URL: await pg.createDatabase(), RELAY_POLL_MS: '50' });
      children.push(child);
      running.push([s.name, child]);
    }
    await pg.kill();
    for (const [name, child] of running) {
      const exit = await terminate(child);
      expect({ service: name, within: exit.ms <= BOUND_MS, signal: exit.signal }).toEqual({ service: name, within: true, signal: null });
    }
  });
});
