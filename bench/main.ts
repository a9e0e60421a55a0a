/**
 * `npm run bench`: conference commands end to end over HTTP (on PostgreSQL and on PGlite),
 * a raw node-postgres INSERT baseline, long-poll delivery latency, and the SFU's fan-out of one
 * video stream to N WebRTC viewers. Prints the tables and
 * rewrites BENCHMARKS.md (keeping its hand-written introduction). Run through
 * scripts/register-ts.cjs: `node -r ./scripts/register-ts.cjs bench/main.ts`.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { TokenIssuer, authConfigFromEnv } from '@parley/auth';
import { type PostgresHandle, startPostgres } from '@parley/testing';
import { type ProcessSet, cpuPer, cpuSample } from './cpu';
import { resetStatements, writeStatements } from './profile';
import { type LoadResult, type InsertResult, conferenceLoad, insertLoad, longPollLatency, prepareBaseline, verifyConferences } from './load';
import { baseMachineInfo, type MachineInfo, natsServerVersion, pgliteVersion, postgresVersion } from './machine';
import { type BenchResults, type Scenario, readIntro, renderMarkdown, tables } from './report';
import { ROOT, startBenchNats, startServices } from './services';
import { type FloorResult, floorLoad } from './floor';
import { type InteractionsResult, interactionsBench } from './interactions';
import { type PresenceResult, presenceFanout } from './presence';
import { type SfuResult, sfuFanout } from './sfu';

const JWT_SECRET = `bench-${Math.random().toString(36).slice(2)}-0123456789abcdef0123456789`;
/** The harness turns durability off for test speed; a benchmark of commits needs it on. */
const DURABLE = { fsync: 'on', synchronous_commit: 'on', full_page_writes: 'on' };

function intList(name: string, dflt: number[]): number[] {
  const raw = process.env[name];
  if (!raw) return dflt;
  const list = raw.split(',').map((s) => Number(s.trim()));
  if (list.some((n) => !Number.isInteger(n) || n <= 0)) throw new Error(`${name} must be positive integers separated by commas, got "${raw}"`);
  return list;
}
const int = (name: string, dflt: number) => intList(name, [dflt])[0];

const SECTIONS = ['conference', 'sfu', 'presence', 'interactions'] as const;
function sections(): Set<string> {
  const raw = (process.env.BENCH_SECTIONS ?? SECTIONS.join(',')).split(',').map((x) => x.trim());
  const unknown = raw.filter((x) => !(SECTIONS as readonly string[]).includes(x));
  if (unknown.length > 0) throw new Error(`BENCH_SECTIONS: unknown ${unknown.join(', ')} (known: ${SECTIONS.join(', ')})`);
  return new Set(raw);
}

function size(name: string, dflt: string): { width: number; height: number } {
  const raw = process.env[name] ?? dflt;
  const m = /^(\d+)x(\d+)$/.exec(raw);
  if (!m) throw new Error(`${name} must be WIDTHxHEIGHT, got "${raw}"`);
  return { width: Number(m[1]), height: Number(m[2]) };
}

const settings = {
  sections: [...sections()],
  concurrency: intList('BENCH_CONCURRENCY', [1, 8, 32]),
  iterationsPerPhase: int('BENCH_ITERATIONS', 1500),
  phaseSeconds: int('BENCH_PHASE_SECONDS', 30),
  longPollSamples: int('BENCH_LONGPOLL_SAMPLES', 250),
  parkMs: int('BENCH_LONGPOLL_PARK_MS', 50),
  warmupIterations: int('BENCH_WARMUP_ITERATIONS', 40),
  /** `off` leaves out the load with X-Auvious-TransactionId (it runs after each store's plain load). */
  transactionIds: process.env.BENCH_TRANSACTION_IDS !== 'off',
  sfuViewers: intList('BENCH_SFU_VIEWERS', [1, 10, 25, 50, 100, 150, 200, 300, 400]),
  sfuSeconds: int('BENCH_SFU_SECONDS', 5),
  sfuVideo: size('BENCH_SFU_VIDEO', '160x120'),
  sfuFps: int('BENCH_SFU_FPS', 15),
  sfuBitrate: int('BENCH_SFU_BITRATE', 300_000),
  presenceEndpoints: int('BENCH_PRESENCE_ENDPOINTS', 1000),
  presenceConferenceSizes: intList('BENCH_PRESENCE_CONFERENCE_SIZES', [1000, 10]),
  presenceRounds: int('BENCH_PRESENCE_ROUNDS', 20),
  interactionRows: int('BENCH_INTERACTION_ROWS', 1_000_000),
  interactionSamples: int('BENCH_INTERACTION_SAMPLES', 200),
  /** A directory: each process's V8 CPU profile and PostgreSQL's pg_stat_statements go there (docs in BENCHMARKS.md, "Profile"). */
  profileDir: process.env.BENCH_PROFILE_DIR ? resolve(process.env.BENCH_PROFILE_DIR) : undefined,
};
const OUTPUT = process.env.BENCH_OUTPUT ?? join(ROOT, 'BENCHMARKS.md');

const log = (msg: string) => process.stdout.write(`[bench] ${msg}\n`);

/** Undo actions, run last-in first-out on success, failure or a signal. */
const cleanups: { name: string; run: () => Promise<void> }[] = [];
function onCleanup(name: string, run: () => Promise<void>): () => Promise<void> {
  const entry = { name, run };
  cleanups.push(entry);
  return async () => {
    const i = cleanups.indexOf(entry);
    if (i >= 0) cleanups.splice(i, 1);
    await run();
  };
}
async function cleanupAll(): Promise<void> {
  while (cleanups.length > 0) {
    const { name, run } = cleanups.pop()!;
    await run().catch((e) => log(`cleanup of ${name} failed: ${String(e)}`));
  }
}

let interrupted = false;
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    if (interrupted) return;
    interrupted = true;
    log(`${signal}: stopping and cleaning up`);
    void cleanupAll().finally(() => process.exit(130));
  });
}

const tempDir = (prefix: string) => {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, release: onCleanup(dir, async () => rmSync(dir, { recursive: true, force: true })) };
};

const perClient = (c: number) => Math.max(1, Math.ceil(settings.iterationsPerPhase / c));

function describeLoad(l: LoadResult): string {
  const rate = l.commands / (l.wallMs / 1000);
  const p = (k: keyof LoadResult['latency']) => `${k} p50 ${l.latency[k].percentile(50).toFixed(1)} p99 ${l.latency[k].percentile(99).toFixed(1)} ms`;
  return `C=${l.clients}: ${l.commands} commands in ${(l.wallMs / 1000).toFixed(1)} s = ${rate.toFixed(0)}/s; ${p('create')}; ${p('join')}; ${p('leave')}${l.errors ? `; ${l.errors} errors, first: ${l.firstError}` : ''}`;
}

/** Tokens of `n` agents of the bench's organization, bench-agent-0… (one per client of a load). */
const agentTokens = (issuer: TokenIssuer, n: number): Promise<string[]> =>
  Promise.all(Array.from({ length: n }, async (_, i) => (await issuer.issue({ userId: `bench-agent-${i}`, organizationId: 'bench-org', roles: ['AGENT'] })).access_token));

/** The stack on a fresh nats-server: warm-up, each concurrency, then long-poll latency. */
async function scenario(store: string, pg: PostgresHandle | undefined, issuer: TokenIssuer): Promise<Scenario> {
  log(`— conference service on ${store}`);
  const nats = await startBenchNats();
  const releaseNats = onCleanup('nats-server', () => nats.stop());
  const data = tempDir('parley-bench-data-');
  const databaseUrl = pg ? await pg.createDatabase() : undefined;
  const started = performance.now();
  // The presence service too: a join asks it whose endpoint it is (and is 503 without it).
  const profileDir = settings.profileDir && join(settings.profileDir, store.startsWith('PGlite') ? 'pglite' : 'postgres');
  const services = await startServices({ natsUrl: nats.url, databaseUrl, dataDir: data.dir, jwtSecret: JWT_SECRET, presence: true, profileDir });
  const releaseServices = onCleanup('services', () => services.stop());
  if (pg && profileDir) await resetStatements(pg.url);
  log(`stack up in ${((performance.now() - started) / 1000).toFixed(1)} s: gateway ${services.url}, nats ${nats.url}`);

  const maxC = Math.max(...settings.concurrency, 4);
  const tokens = await agentTokens(issuer, maxC);

  const warm = await conferenceLoad({ baseUrl: services.url, tokens: tokens.slice(0, 4), iterationsPerClient: Math.ceil(settings.warmupIterations / 4), deadline: performance.now() + 30_000 });
  if (warm.errors > 0) throw new Error(`warm-up failed: ${warm.firstError}`);
  log(`warm-up: ${warm.iterations} iterations`);

  const processes: ProcessSet = { pids: services.pids, natsPort: nats.port, postgresDataDir: pg?.dataDir };
  const loads: LoadResult[] = [];
  for (const c of settings.concurrency) {
    const before = cpuSample(processes);
    const l = await conferenceLoad({ baseUrl: services.url, tokens: tokens.slice(0, c), iterationsPerClient: perClient(c), deadline: performance.now() + settings.phaseSeconds * 1000 });
    l.cpuPerCommand = cpuPer(before, cpuSample(processes), l.commands);
    log(describeLoad(l));
    log(`CPU µs a command: ${Object.entries(l.cpuPerCommand).map(([k, v]) => `${k} ${v.toFixed(0)}`).join(', ')}`);
    loads.push(l);
  }

  // The same load with a transaction id on every command: what storing each answer for retries costs.
  const transactionLoads: LoadResult[] = [];
  for (const c of settings.transactionIds ? settings.concurrency : []) {
    const l = await conferenceLoad({ baseUrl: services.url, tokens: tokens.slice(0, c), iterationsPerClient: perClient(c), deadline: performance.now() + settings.phaseSeconds * 1000, transactionIds: true });
    log(`with X-Auvious-TransactionId: ${describeLoad(l)}`);
    transactionLoads.push(l);
  }

  // Nothing lost or reordered: every conference of every phase, read back from its feed.
  const answered = new Map([...loads, ...transactionLoads, warm].flatMap((l) => [...l.answered]));
  const verified = await verifyConferences(services.url, answered);
  if (verified.problems.length > 0) throw new Error(`the store lost or reordered events of ${verified.problems.length} conferences, e.g. ${verified.problems.slice(0, 5).join('; ')}`);
  log(`verified ${verified.checked} conferences: ${verified.events} events, versions contiguous, every answered command's event stored`);

  const longPoll = await longPollLatency(services.url, tokens[1], tokens[0], settings.longPollSamples, settings.parkMs, performance.now() + 60_000);
  log(`long poll: ${longPoll.samples} samples, from sent p50 ${longPoll.fromSent.percentile(50).toFixed(2)} p99 ${longPoll.fromSent.percentile(99).toFixed(2)} ms; from command response p50 ${longPoll.fromCommandResponse.percentile(50).toFixed(2)} p99 ${longPoll.fromCommandResponse.percentile(99).toFixed(2)} ms`);

  if (pg && profileDir) await writeStatements(pg.url, join(profileDir, 'pg_stat_statements.md'));
  await releaseServices();
  await releaseNats();
  await data.release();
  if (profileDir) log(`profiles of the ${store} run in ${profileDir}: summarize with node -r ./scripts/register-ts.cjs bench/profile.ts ${profileDir}`);
  return { store, loads, transactionLoads, longPoll };
}

async function main(): Promise<void> {
  const t0 = performance.now();
  log(`settings: ${JSON.stringify(settings)}`);
  const base = baseMachineInfo();
  const issuer = new TokenIssuer(authConfigFromEnv({ JWT_SECRET }));

  // pg_stat_statements counts every statement's calls and time when profiling (loaded at the server's start).
  const pg = await startPostgres({ settings: settings.profileDir ? { ...DURABLE, shared_preload_libraries: 'pg_stat_statements', 'pg_stat_statements.track': 'all' } : DURABLE });
  onCleanup('PostgreSQL', () => pg.stop());
  const pgInfo = await postgresVersion(pg.url);
  const machine: MachineInfo = { ...base, natsServer: await natsServerVersion(), postgres: pgInfo.version, postgresSettings: pgInfo.settings, pglite: await pgliteVersion() };
  log(`PostgreSQL: ${pgInfo.version}; ${JSON.stringify(pgInfo.settings)}`);

  const scenarios: Scenario[] = [];
  const baseline: InsertResult[] = [];
  let floor: FloorResult[] = [];
  if (settings.sections.includes('conference')) {
    scenarios.push(await scenario('PostgreSQL', pg, issuer));

    log('— baseline: single-row INSERTs with node-postgres');
    const baselineUrl = await pg.createDatabase('bench_baseline');
    await prepareBaseline(baselineUrl);
    for (const load of scenarios[0].loads) {
      const b = await insertLoad(baselineUrl, load.clients, load.commands);
      log(`C=${b.clients}: ${b.inserts} inserts in ${(b.wallMs / 1000).toFixed(1)} s = ${(b.inserts / (b.wallMs / 1000)).toFixed(0)}/s; p50 ${b.latency.percentile(50).toFixed(2)} p99 ${b.latency.percentile(99).toFixed(2)} ms`);
      baseline.push(b);
    }

    log('— transport floor: HTTP → NATS → a service → one INSERT, nothing of Parley');
    floor = await floorLoad(await pg.createDatabase('bench_floor'), scenarios[0].loads.map((l) => ({ clients: l.clients, requests: l.commands })), pg.dataDir);
    for (const f of floor) log(`C=${f.clients}: ${f.requests} requests in ${(f.wallMs / 1000).toFixed(1)} s = ${(f.requests / (f.wallMs / 1000)).toFixed(0)}/s; p50 ${f.latency.percentile(50).toFixed(2)} p99 ${f.latency.percentile(99).toFixed(2)} ms`);

    scenarios.push(await scenario('PGlite (embedded)', undefined, issuer));
  }

  let sfu: SfuResult | undefined;
  if (settings.sections.includes('sfu')) {
    log('— SFU fan-out: one video stream, N WebRTC viewers');
    sfu = await sfuFanout({
      steps: settings.sfuViewers,
      seconds: settings.sfuSeconds,
      ...settings.sfuVideo,
      fps: settings.sfuFps,
      bitrate: settings.sfuBitrate,
      deadline: performance.now() + 10 * 60_000,
      log,
    });
    log(sfu.stoppedBecause);
  }

  const presence: PresenceResult[] = [];
  for (const conferenceSize of settings.sections.includes('presence') ? settings.presenceConferenceSizes : []) {
    log(`— presence: ${settings.presenceEndpoints} WebSocket endpoints on one gateway, conferences of ${conferenceSize}`);
    const nats = await startBenchNats();
    const releaseNats = onCleanup('nats-server (presence)', () => nats.stop());
    const data = tempDir('parley-bench-presence-');
    const services = await startServices({ natsUrl: nats.url, dataDir: data.dir, jwtSecret: JWT_SECRET, presence: true });
    const releaseServices = onCleanup('services (presence)', () => services.stop());
    presence.push(
      await presenceFanout({
        baseUrl: services.url,
        gatewayPid: services.gatewayPid,
        issuer,
        endpoints: settings.presenceEndpoints,
        conferenceSize,
        rounds: settings.presenceRounds,
        deadline: performance.now() + 5 * 60_000,
        log,
      }),
    );
    await releaseServices();
    await releaseNats();
    await data.release();
  }

  let interactions: (InteractionsResult & { baseline: InsertResult[] }) | undefined;
  if (settings.sections.includes('interactions')) {
    log(`— interactions: the range query over ${settings.interactionRows} interactions, and POST /interactions`);
    const nats = await startBenchNats();
    const releaseNats = onCleanup('nats-server (interactions)', () => nats.stop());
    const data = tempDir('parley-bench-interactions-');
    const databaseUrl = await pg.createDatabase('bench_interactions');
    const services = await startServices({ natsUrl: nats.url, dataDir: data.dir, jwtSecret: JWT_SECRET, databases: { interaction: databaseUrl } });
    const releaseServices = onCleanup('services (interactions)', () => services.stop());
    const maxC = Math.max(...settings.concurrency);
    const tokens = await agentTokens(issuer, maxC);
    const result = await interactionsBench({
      baseUrl: services.url,
      databaseUrl,
      organizationId: 'bench-org',
      tokens,
      rows: settings.interactionRows,
      samples: settings.interactionSamples,
      concurrency: settings.concurrency,
      createsPerPhase: settings.iterationsPerPhase,
      log,
    });
    await releaseServices();
    await releaseNats();
    await data.release();
    const baselineUrl = await pg.createDatabase('bench_baseline_interactions');
    await prepareBaseline(baselineUrl);
    const inserts: InsertResult[] = [];
    for (const c of result.creates) inserts.push(await insertLoad(baselineUrl, c.clients, c.creates));
    interactions = { ...result, baseline: inserts };
  }

  await cleanupAll();
  const results: BenchResults = { machine, settings, scenarios, baseline, floor, sfu, presence, interactions, durationMs: performance.now() - t0 };
  const markdown = renderMarkdown(readIntro(OUTPUT), results);
  writeFileSync(OUTPUT, markdown);
  process.stdout.write(`\n${tables(results)}\n\n`);
  log(`wrote ${OUTPUT} (${(results.durationMs / 1000).toFixed(0)} s)`);
}

main().then(
  () => process.exit(0),
  async (err) => {
    if (interrupted) return;
    console.error(err);
    await cleanupAll();
    process.exit(1);
  },
);
