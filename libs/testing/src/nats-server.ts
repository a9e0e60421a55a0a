import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect } from 'nats';
import { exitOf, OutputTail, terminate } from './child-output';
import { freePort } from './free-port';
import { trackResource, untrackResource, updateResource } from './process-registry';

export interface StartNatsOptions {
  /** Enables JetStream with a temp store dir. Default true. */
  jetstream?: boolean;
  /** The nats-server binary; default `$NATS_SERVER_BIN` or Debian's /usr/sbin/nats-server. */
  binary?: string;
  /** How long to wait for the server to accept connections. Default 15 s. */
  startTimeoutMs?: number;
  /** More command-line arguments (a cluster's name, routes and server name: see startNatsCluster). */
  extraArgs?: string[];
  /**
   * Users and permissions: the server's `authorization` block (renderNatsAuthorization), and the
   * user that checks the server is up (and that `handle.connectOptions` connects as).
   */
  authorization?: { config: string; user: string; pass: string };
}

export interface NatsServerHandle {
  /** nats://127.0.0.1:PORT */
  readonly url: string;
  readonly port: number;
  /** The JetStream store dir (exists even without JetStream; removed by stop()). */
  readonly storeDir: string;
  /** What a client passes to connect() besides the servers: the credentials, when the server has users. */
  readonly credentials: { user?: string; pass?: string };
  /** Graceful shutdown (SIGTERM, SIGKILL after 5 s), then removes the store dir. Idempotent. */
  stop(): Promise<void>;
  /** SIGKILL, as a crash would. The store dir stays so that restart() finds its data. */
  kill(): Promise<void>;
  /** Stops the server if it runs (gracefully) and starts it again on the same port and store dir. */
  restart(): Promise<void>;
}

const BIND_RETRIES = 3;

function natsArgs(port: number, storeDir: string, jetstream: boolean, configFile?: string): string[] {
  const args = ['-a', '127.0.0.1', '-p', String(port)];
  if (jetstream) args.push('-js', '-sd', storeDir);
  if (configFile) args.push('-c', configFile);
  return args;
}

/** Resolves once a client can connect (and, with JetStream, talk to the JetStream API). */
async function waitUntilReady(child: ChildProcess, url: string, jetstream: boolean, tail: OutputTail, timeoutMs: number, credentials: { user?: string; pass?: string }): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`nats-server exited during start-up (${child.exitCode ?? child.signalCode}):\n${tail}`);
    }
    try {
      const nc = await connect({ servers: url, reconnect: false, timeout: 1000, ...credentials });
      try {
        // The JetStream API can lag the client listener; an account-info round trip proves it is up.
        if (jetstream) await (await nc.jetstreamManager()).getAccountInfo();
      } finally {
        await nc.close();
      }
      return;
    } catch (err) {
      lastError = err;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
  throw new Error(`nats-server at ${url} not ready after ${timeoutMs} ms: ${String(lastError)}\n${tail}`);
}

export async function startNats(options: StartNatsOptions = {}): Promise<NatsServerHandle> {
  const jetstream = options.jetstream ?? true;
  const binary = options.binary ?? process.env.NATS_SERVER_BIN ?? '/usr/sbin/nats-server';
  const startTimeoutMs = options.startTimeoutMs ?? 15_000;
  const storeDir = await mkdtemp(join(tmpdir(), 'parley-nats-'));
  const resourceId = trackResource({ signal: 'SIGKILL', dir: storeDir });
  const auth = options.authorization;
  const credentials = auth ? { user: auth.user, pass: auth.pass } : {};
  const configFile = auth ? join(storeDir, 'authorization.conf') : undefined;
  if (auth && configFile) await writeFile(configFile, auth.config, { mode: 0o600 });

  let child: ChildProcess | undefined;
  let port = 0;

  const launch = async (onPort: number): Promise<void> => {
    const tail = new OutputTail();
    const proc = spawn(binary, [...natsArgs(onPort, storeDir, jetstream, configFile), ...(options.extraArgs ?? [])], { stdio: ['ignore', 'pipe', 'pipe'] });
    proc.on('error', () => undefined); // surfaced by waitUntilReady as an early exit
    tail.attach(proc);
    child = proc;
    updateResource(resourceId, { pid: proc.pid });
    try {
      await waitUntilReady(proc, `nats://127.0.0.1:${onPort}`, jetstream, tail, startTimeoutMs, credentials);
    } catch (err) {
      await terminate(proc, 'SIGKILL', 0);
      throw err;
    }
  };

  try {
    for (let attempt = 1; ; attempt++) {
      port = await freePort();
      try {
        await launch(port);
        break;
      } catch (err) {
        // Someone took the port between freePort() and the bind: try another one.
        const raced = String(err).includes('address already in use');
        if (!raced || attempt >= BIND_RETRIES) throw err;
      }
    }
  } catch (err) {
    await rm(storeDir, { recursive: true, force: true });
    untrackResource(resourceId);
    throw err;
  }

  let stopping: Promise<void> | undefined;
  const handle: NatsServerHandle = {
    url: `nats://127.0.0.1:${port}`,
    port,
    storeDir,
    credentials,
    stop() {
      stopping ??= (async () => {
        if (child) await terminate(child, 'SIGTERM', 5000);
        await rm(storeDir, { recursive: true, force: true });
        untrackResource(resourceId);
      })();
      return stopping;
    },
    async kill() {
      if (stopping) return stopping;
      if (child) {
        child.kill('SIGKILL');
        await exitOf(child);
      }
    },
    async restart() {
      if (stopping) throw new Error('nats-server was stopped; start a new one');
      if (child) await terminate(child, 'SIGTERM', 5000);
      await launch(port);
    },
  };
  return handle;
}

export interface NatsClusterHandle {
  /** Every server's URL, comma-separated (what NATS_URL takes). */
  readonly url: string;
  readonly servers: NatsServerHandle[];
  stop(): Promise<void>;
}

/**
 * A JetStream cluster of `size` nats-servers on free ports (routes between all of them), so that
 * streams can have replicas. The servers start together; it is ready once every one has joined
 * the JetStream cluster (untilEveryPeerJoined).
 */
export async function startNatsCluster(size = 3, options: Omit<StartNatsOptions, 'extraArgs'> = {}): Promise<NatsClusterHandle> {
  const clusterPorts = await Promise.all(Array.from({ length: size }, () => freePort()));
  const routes = clusterPorts.map((p) => `nats://127.0.0.1:${p}`).join(',');
  const settled = await Promise.allSettled(
    clusterPorts.map((clusterPort, i) =>
      startNats({
        ...options,
        startTimeoutMs: options.startTimeoutMs ?? 30_000,
        extraArgs: ['--name', `parley-test-${i + 1}`, '--cluster_name', 'parley-test', '--cluster', `nats://127.0.0.1:${clusterPort}`, '--routes', routes],
      }),
    ),
  );
  const servers = settled.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
  const failed = settled.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) {
    await Promise.all(servers.map((s) => s.stop()));
    throw failed.reason;
  }
  const handle = {
    url: servers.map((s) => s.url).join(','),
    servers,
    stop: async () => void (await Promise.all(servers.map((s) => s.stop()))),
  };
  try {
    await untilEveryPeerJoined(handle, size, options.startTimeoutMs ?? 30_000);
  } catch (err) {
    await handle.stop();
    throw err;
  }
  return handle;
}

/**
 * A majority answers JetStream requests before the last server has joined the cluster's meta
 * group, and a stream of `size` replicas cannot be placed until it has ("no suitable peers for
 * placement"): ready is when one can, tried with a probe stream.
 */
async function untilEveryPeerJoined(cluster: NatsClusterHandle, size: number, timeoutMs: number): Promise<void> {
  const nc = await connect({ servers: cluster.url.split(','), ...cluster.servers[0].credentials });
  const deadline = Date.now() + timeoutMs;
  try {
    const jsm = await nc.jetstreamManager();
    for (;;) {
      try {
        await jsm.streams.add({ name: 'PARLEY_TEST_CLUSTER_PROBE', subjects: ['parley.test.cluster.probe'], num_replicas: size });
        await jsm.streams.delete('PARLEY_TEST_CLUSTER_PROBE');
        return;
      } catch (err) {
        if (Date.now() > deadline) throw new Error(`the ${size} nats-servers did not all join the JetStream cluster within ${timeoutMs} ms: ${String(err)}`);
        await new Promise((r) => setTimeout(r, 100));
      }
    }
  } finally {
    await nc.close();
  }
}
