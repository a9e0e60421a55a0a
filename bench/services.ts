import { PARLEY_SERVICES } from '@parley/contracts';
import { join, resolve } from 'node:path';
import { makeSecrets, natsAuthorizationConfig, processSecretsEnv } from '@parley/service-kit';
import { type NatsServerHandle, freePort, sleep, spawnTs, startNats, type TsChildHandle } from '@parley/testing';

export const ROOT = resolve(__dirname, '..');

/** The bench's secrets, made as `npm start` makes them: its processes run as they do in a deployment (NATS users, signed callers). */
const SECRETS = makeSecrets();

/** A nats-server with Parley's NATS users, as deployed. */
export const startBenchNats = (): Promise<NatsServerHandle> => startNats({ authorization: { config: natsAuthorizationConfig(SECRETS), user: 'operator', pass: SECRETS.nats.operator } });

export interface ServicesOptions {
  natsUrl: string;
  /** PostgreSQL database for the conference service; without it the service embeds PGlite under dataDir. */
  databaseUrl?: string;
  /** PostgreSQL databases of other services by name (the others embed PGlite under dataDir). */
  databases?: Record<string, string>;
  /** DATA_DIR of the conference service (its PGlite lives in dataDir/conference). */
  dataDir: string;
  jwtSecret: string;
  /** The presence service too (embedded PGlite under dataDir/presence). */
  presence?: boolean;
  /** Write a V8 CPU profile of each process (`--cpu-prof`) into `<profileDir>/<service>/` when it exits. */
  profileDir?: string;
}

export interface RunningServices {
  /** The gateway, e.g. http://127.0.0.1:41234 */
  url: string;
  /** The gateway's process id (its memory is read from /proc). */
  gatewayPid: number;
  /** Each process's id by name (the gateway and each service), for its CPU time. */
  pids: Record<string, number>;
  stop(): Promise<void>;
}

/**
 * The bench measures speed, so the rate limits and quotas it would exceed by design (a client
 * sending thousands of commands a minute from one token, 1,000 endpoints in one conference,
 * conferences created and never ended) are lifted for it.
 */
const UNLIMITED: Record<string, string> = {
  RATE_LIMIT_PER_TOKEN: '1000000000',
  RATE_LIMIT_PER_ADDRESS: '1000000000',
  QUOTA_USER_ACTIVE_CONFERENCES: '1000000000',
  QUOTA_CONFERENCE_PARTICIPANTS: '1000000',
};

const alive = (h: TsChildHandle) => h.child.exitCode === null && h.child.signalCode === null;

/** Polls GET /health until the services the bench started say they are up (the SFU is not among them), failing early if the gateway exits. */
async function untilHealthy(url: string, gateway: TsChildHandle, services: string[], timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (!alive(gateway)) throw new Error(`the gateway exited while starting:\n${gateway.output()}`);
    try {
      const res = await fetch(`${url}/health`);
      const body = (await res.json()) as { services?: Record<string, { status: string }> };
      if (services.every((name) => body.services?.[name]?.status === 'ok')) return;
    } catch {
      // not listening yet
    }
    await sleep(100);
  }
  throw new Error(`the gateway did not answer ${url}/health within ${timeoutMs} ms:\n${gateway.output()}`);
}

/**
 * The conference service (and the presence service when asked) and the gateway as child processes, the way production runs
 * them (apps/<app>/src/main.ts with their environment variables), TypeScript compiled on load.
 * Both are registered with the harness's reaper, so they die with the bench even if it is killed.
 */
export async function startServices(options: ServicesOptions): Promise<RunningServices> {
  // Development mode, as the test harness runs them (docs/security.md): the bench measures speed, not a deployment's secrets.
  const common = { PARLEY_MODE: 'development', NATS_URL: options.natsUrl, JWT_SECRET: options.jwtSecret, LOG_LEVEL: 'warn', ...UNLIMITED };
  const nodeArgs = (name: string): string[] => (options.profileDir ? ['--cpu-prof', `--cpu-prof-dir=${join(options.profileDir, name)}`] : []);
  const started: TsChildHandle[] = [];
  const stop = async () => {
    // Gateway first, so it stops taking requests; SIGTERM lets each drain its NATS connection (SIGKILL after 5 s).
    for (const child of [...started].reverse()) await child.kill('SIGTERM').catch(() => undefined);
  };
  try {
    // The kit services of PARLEY_SERVICES, in its order (the presence service only when asked).
    const names: string[] = [];
    for (const service of PARLEY_SERVICES) {
      if (service.kind !== 'service' || service.needs?.includes('mediasoup-worker')) continue;
      if (service.name === 'presence' && !options.presence) continue;
      names.push(service.name);
      // An empty DATABASE_URL counts as unset: the service then uses PGlite under DATA_DIR. The bench gives PostgreSQL to the conference service (and to those `databases` names).
      const databaseUrl = service.name === 'conference' ? (options.databaseUrl ?? '') : (options.databases?.[service.name] ?? '');
      const child = spawnTs(join(ROOT, service.app, 'src/main.ts'), {
        env: { ...common, ...processSecretsEnv(SECRETS, service.name), DATABASE_URL: databaseUrl, DATA_DIR: options.dataDir },
        nodeArgs: nodeArgs(service.name),
      });
      started.push(child);
      await child.message<{ ready?: string }>((m) => m?.ready === service.name, 90_000);
    }

    const port = await freePort();
    // Its metrics listener on any free port.
    const gateway = spawnTs(join(ROOT, 'apps/gateway/src/main.ts'), {
      env: { ...common, ...processSecretsEnv(SECRETS, 'gateway'), HOST: '127.0.0.1', PORT: String(port), METRICS_PORT: '0' },
      nodeArgs: nodeArgs('gateway'),
    });
    started.push(gateway);
    const url = `http://127.0.0.1:${port}`;
    await untilHealthy(url, gateway, names, 90_000);
    const pids = Object.fromEntries([...names, 'gateway'].map((name, i) => [name, started[i].child.pid ?? 0]));
    return { url, gatewayPid: gateway.child.pid ?? 0, pids, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}
