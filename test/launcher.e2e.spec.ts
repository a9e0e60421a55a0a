import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { connect } from 'nats';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { TokenIssuer, authConfigFromEnv } from '@parley/auth';
import { freePort, processAlive, waitFor } from '@parley/testing';
import { relayCandidates } from './support/coturn';
import { Api } from './support/stack';

const ROOT = resolve(__dirname, '..');
const JWT_SECRET = 'launcher-test-secret-0123456789abcdef';

/**
 * `npm start` (scripts/start.mjs) as a person runs it, on free ports and a fresh data directory:
 * a service that crashes is started again after a back-off, and the others go on meanwhile.
 */
describe('npm start', () => {
  let launcher: ChildProcess;
  let output = '';
  const dataDir = mkdtempSync(join(tmpdir(), 'parley-launcher-'));
  const pids = () => [...output.matchAll(/\[parley\] (\w+) started \(pid (\d+)\)/g)].map((m) => ({ name: m[1], pid: Number(m[2]) }));
  const alive = processAlive;

  afterAll(async () => {
    if (launcher && launcher.exitCode === null) {
      launcher.kill('SIGTERM');
      await new Promise((r) => launcher.once('exit', r));
    }
    for (const { pid } of pids()) if (alive(pid)) process.kill(pid, 'SIGKILL');
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('starts everything, restarts a service killed by SIGKILL with back-off while the rest serve, and stops everything on SIGTERM', async () => {
    const [port, natsPort, turnPort] = [await freePort(), await freePort(), await freePort()];
    const { NATS_URL: _ignored, ...env } = process.env;
    launcher = spawn(process.execPath, ['scripts/start.mjs'], {
      cwd: ROOT,
      env: { ...env, PORT: String(port), PARLEY_NATS_PORT: String(natsPort), PARLEY_TURN_PORT: String(turnPort), DATA_DIR: dataDir, LOG_LEVEL: 'warn', JWT_SECRET },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let lastHealth: unknown;
    // A failure says what /health and the launcher said last.
    const explain = async <T>(step: Promise<T>) => {
      try {
        return await step;
      } catch (e) {
        throw new Error(`${(e as Error).message}\nlast /health: ${JSON.stringify(lastHealth)}\nlauncher output (end):\n${output.slice(-4000)}`);
      }
    };
    launcher.stdout!.on('data', (d) => (output += String(d)));
    launcher.stderr!.on('data', (d) => (output += String(d)));
    await explain(waitFor(() => /Parley is running: (http:\/\/\S+)/.exec(output), { timeoutMs: 180_000, description: 'Parley is running' }));
    const token = (await new TokenIssuer(authConfigFromEnv({ JWT_SECRET })).issue({ userId: 'agent-1', organizationId: 'org-1', roles: ['AGENT'] })).access_token;
    const api = new Api(`http://127.0.0.1:${port}`, token);
    const healthy = async () => {
      lastHealth = (await api.request('GET', '/health')).body;
      return (lastHealth as { status?: string })?.status === 'ok';
    };
    await explain(waitFor(healthy, { timeoutMs: 60_000, description: '/health ok' }));
    // Its own coturn, with a secret of this run: the credentials it hands out get a TURN allocation.
    const ice = await api.get('/iceServers/v2');
    expect(ice.status).toBe(200);
    expect(ice.body.turn).toMatch(/^turn:127\.0\.0\.1:\d+\?transport=udp,turn:127\.0\.0\.1:\d+\?transport=tcp$/);
    expect(await relayCandidates({ urls: ice.body.turn.split(',')[0], username: ice.body.turnUsername, credential: ice.body.turnPassword })).not.toEqual([]);

    // Its NATS has users: nobody connects without one, and the secrets it made are its owner's only.
    await expect(connect({ servers: `nats://127.0.0.1:${natsPort}`, reconnect: false })).rejects.toThrow(/Authorization Violation/);
    expect(statSync(join(dataDir, 'secrets.json')).mode & 0o777).toBe(0o600);
    // The operator's CLI finds the operator's password there.
    const listed = spawnSync(process.execPath, ['-r', './scripts/register-ts.cjs', 'libs/service-kit/src/cli/projections.ts', 'list', 'conference'], {
      cwd: ROOT,
      env: { ...env, NATS_URL: `nats://127.0.0.1:${natsPort}`, DATA_DIR: dataDir },
      encoding: 'utf8',
    });
    expect({ status: listed.status, stderr: listed.stderr }).toEqual({ status: 0, stderr: '' });
    expect(JSON.parse(listed.stdout)).toMatchObject({ ok: true });

    const first = pids().find((p) => p.name === 'conference')!;
    const others = pids().filter((p) => p.name !== 'conference');
    expect(others.map((p) => p.name).sort()).toEqual(['coturn', 'gateway', 'interaction', 'media', 'nats', 'presence', 'snapshot']);
    process.kill(first.pid, 'SIGKILL');

    await explain(waitFor(() => /\[parley\] conference exited \(SIGKILL\); starting it again in 1 s/.test(output), { timeoutMs: 10_000, description: 'the restart announced' }));
    // Meanwhile the rest serves: the gateway answers, and says the conference service is away.
    const during = await api.request('GET', '/health');
    expect(during.status).toBe(503);
    expect(during.body.down).toEqual(['conference']);
    await explain(waitFor(() => pids().filter((p) => p.name === 'conference').length === 2, { timeoutMs: 10_000, description: 'a new conference process' }));
    await explain(waitFor(healthy, { timeoutMs: 60_000, description: '/health ok again' }));
    expect((await api.post('/conferences/create', {})).status).toBe(200);
    for (const p of others) expect({ ...p, alive: alive(p.pid) }).toEqual({ ...p, alive: true });

    launcher.kill('SIGTERM');
    const code = await new Promise<number | null>((r) => launcher.once('exit', (c) => r(c)));
    expect(code).toBe(0);
    for (const p of pids()) expect({ ...p, alive: alive(p.pid) }).toEqual({ ...p, alive: false });
  }, 300_000);
});
