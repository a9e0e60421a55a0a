import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { processAlive } from './child-output';
import { freePort } from './free-port';
import { spawnTs } from './spawn-ts';
import { waitFor } from './wait-for';

/** What the child reports about the servers it started. */
interface Started {
  natsPort: number;
  natsDir: string;
  pgPid: number;
  pgDir: string;
}

// Runs in a child process: starts both servers, reports them, then waits to be killed or exits.
const CHILD = `
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { startNats, startPostgres } from '@parley/testing';

async function main(): Promise<void> {
  const nats = await startNats();
  const pg = await startPostgres();
  const pgPid = Number(readFileSync(join(pg.dataDir, 'postmaster.pid'), 'utf8').split('\\n')[0]);
  process.send!({ natsPort: nats.port, natsDir: nats.storeDir, pgPid, pgDir: join(pg.dataDir, '..') });
  // Told to exit, it exits without stopping anything: the exit hook must clean up.
  process.on('message', () => process.exit(0));
  setInterval(() => undefined, 1000);
}
main().catch((err) => { console.error(err); process.exit(1); });
`;

const alive = processAlive;

// The int project's testTimeout is not applied per project by jest 29, so set it here.
jest.setTimeout(60_000);

describe('cleanup of child processes', () => {
  let dir: string;
  let file: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'parley-cleanup-'));
    file = join(dir, 'child.ts');
    await writeFile(file, CHILD);
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  async function portOpen(port: number): Promise<boolean> {
    const { connect } = await import('node:net');
    return new Promise((resolve) => {
      const socket = connect(port, '127.0.0.1');
      socket.once('connect', () => (socket.destroy(), resolve(true)));
      socket.once('error', () => resolve(false));
    });
  }

  it.each(['exit', 'sigkill'])('removes servers and dirs when the test process ends (%s)', async (how) => {
    const child = spawnTs(file, { args: [how] });
    const started = await child.message<Started>(() => true, 30_000);
    expect(alive(started.pgPid)).toBe(true);
    expect(await portOpen(started.natsPort)).toBe(true);
    if (how === 'sigkill') await child.kill('SIGKILL');
    else {
      child.child.send('exit');
      await child.exited;
    }

    await waitFor(async () => !alive(started.pgPid) && !(await portOpen(started.natsPort)), { timeoutMs: 15_000, description: 'servers gone' });
    await waitFor(() => !existsSync(started.natsDir) && !existsSync(started.pgDir), { timeoutMs: 15_000, description: 'dirs removed' });
  });

  it('freePort gives a bindable port', async () => {
    const port = await freePort();
    expect(port).toBeGreaterThan(0);
    expect(await portOpen(port)).toBe(false);
  });
});
