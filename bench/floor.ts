/**
 * The transport floor: what the command path's shape costs on this machine with nothing of
 * Parley in it. A load generator (the bench's own fetch client) → an HTTP server (fastify, as the
 * gateway) → one NATS request → a service process → one single-row INSERT in PostgreSQL
 * (autocommit, fsync on) → the reply back the same way. No authentication, validation,
 * signatures, event store, relay, JetStream or projections: each of those only adds to it. The
 * INSERT baseline runs on the same cluster in the same run, so the two read as a ratio.
 *
 * `npm run bench` runs it in section 1 beside the INSERT baseline; on its own:
 *
 *   node -r ./scripts/register-ts.cjs bench/floor.ts          (FLOOR_REQUESTS, FLOOR_CONCURRENCY)
 *
 * The same file is the HTTP server (`http`) and the service (`service`) when started with a role.
 */
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import Fastify from 'fastify';
import { connect, JSONCodec } from 'nats';
import { Pool } from 'pg';
import { type TsChildHandle, freePort, spawnTs, startNats, startPostgres } from '@parley/testing';
import { cpuPer, cpuSample } from './cpu';
import { insertLoad, prepareBaseline } from './load';
import { type Samples, timedCalls } from './stats';

const SUBJECT = 'floor.cmd';
const json = JSONCodec();

async function service(natsUrl: string, databaseUrl: string): Promise<void> {
  const nc = await connect({ servers: natsUrl, noAsyncTraces: true });
  const pool = new Pool({ connectionString: databaseUrl, max: 32 });
  nc.subscribe(SUBJECT, {
    queue: 'floor',
    callback: (err, msg) => {
      if (err) return;
      const body = json.decode(msg.data) as { streamId: string; data: unknown };
      void pool.query('INSERT INTO bench_inserts (stream_id, data) VALUES ($1, $2) RETURNING id', [body.streamId, body.data]).then(
        ({ rows }) => msg.respond(json.encode({ id: rows[0].id })),
        (e: unknown) => msg.respond(json.encode({ error: String(e) })),
      );
    },
  });
  await nc.flush();
  process.send?.({ ready: 'service' });
}

async function http(natsUrl: string, port: number): Promise<void> {
  const nc = await connect({ servers: natsUrl, noAsyncTraces: true });
  const app = Fastify({ logger: false });
  app.post('/cmd', async (req) => json.decode((await nc.request(SUBJECT, json.encode(req.body), { timeout: 10_000 })).data));
  await app.listen({ host: '127.0.0.1', port });
  process.send?.({ ready: 'http' });
}

const load = (url: string, clients: number, total: number) =>
  timedCalls(clients, total, async (w) => {
    const body = { streamId: `conference-${randomUUID()}`, data: { type: 'ConferenceJoinedEvent', schemaVersion: 1, participant: { id: `ep-${w}`, userId: `user-${w}` }, at: new Date().toISOString() } };
    const res = await fetch(`${url}/cmd`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    const answer = (await res.json()) as { id?: string; error?: string };
    if (res.status !== 200 || !answer.id) throw new Error(`HTTP ${res.status}: ${JSON.stringify(answer)}`);
  });

export interface FloorResult {
  clients: number;
  requests: number;
  wallMs: number;
  latency: Samples;
  /** CPU µs a request took in each process (bench/cpu.ts). */
  cpuPerRequest: Record<string, number>;
}

/**
 * The floor at each concurrency, `requests[i]` requests at `clients[i]`, on a database of the
 * cluster at `databaseUrl` (its own table) and a nats-server of its own; PostgreSQL's CPU is
 * counted when its data directory is given.
 */
export async function floorLoad(databaseUrl: string, runs: { clients: number; requests: number }[], postgresDataDir?: string): Promise<FloorResult[]> {
  const nats = await startNats({ jetstream: false });
  await prepareBaseline(databaseUrl);
  const file = join(__dirname, 'floor.ts');
  const started: TsChildHandle[] = [];
  try {
    const svc = spawnTs(file, { args: ['service', nats.url, databaseUrl] });
    started.push(svc);
    await svc.message<{ ready?: string }>((m) => m?.ready === 'service', 60_000);
    const port = await freePort();
    const web = spawnTs(file, { args: ['http', nats.url, String(port)] });
    started.push(web);
    await web.message<{ ready?: string }>((m) => m?.ready === 'http', 60_000);
    const url = `http://127.0.0.1:${port}`;
    await load(url, 4, 500); // warm-up: JIT, connections
    const processes = { pids: { 'HTTP server': web.child.pid ?? 0, service: svc.child.pid ?? 0 }, natsPort: nats.port, postgresDataDir };
    const out: FloorResult[] = [];
    for (const { clients, requests } of runs) {
      const before = cpuSample(processes);
      const r = await load(url, clients, requests);
      out.push({ clients, requests: r.latency.count, wallMs: r.wallMs, latency: r.latency, cpuPerRequest: cpuPer(before, cpuSample(processes), r.latency.count) });
    }
    return out;
  } finally {
    for (const child of started.reverse()) await child.kill('SIGTERM').catch(() => undefined);
    await nats.stop();
  }
}

/** On its own: PostgreSQL of its own, then the floor and the INSERT baseline at each concurrency, as a markdown table. */
async function main(): Promise<void> {
  const requests = Number(process.env.FLOOR_REQUESTS ?? 3000);
  const concurrency = (process.env.FLOOR_CONCURRENCY ?? '1,8,32').split(',').map(Number);
  const pg = await startPostgres({ settings: { fsync: 'on', synchronous_commit: 'on', full_page_writes: 'on' } });
  try {
    const floor = await floorLoad(await pg.createDatabase('bench_floor'), concurrency.map((clients) => ({ clients, requests })), pg.dataDir);
    const baselineUrl = await pg.createDatabase('bench_baseline');
    await prepareBaseline(baselineUrl);
    console.log('| clients | floor requests/s | floor p50 / p99 ms | INSERTs/s | INSERT p50 / p99 ms | floor / INSERT |');
    console.log('| ---: | ---: | ---: | ---: | ---: | ---: |');
    for (const f of floor) {
      const inserts = await insertLoad(baselineUrl, f.clients, requests);
      const insertRate = inserts.inserts / (inserts.wallMs / 1000);
      const rate = f.requests / (f.wallMs / 1000);
      const ms = (n: number) => n.toFixed(2);
      console.log(
        `| ${f.clients} | ${rate.toFixed(0)} | ${ms(f.latency.percentile(50))} / ${ms(f.latency.percentile(99))} | ${insertRate.toFixed(0)} | ${ms(inserts.latency.percentile(50))} / ${ms(inserts.latency.percentile(99))} | ${((100 * rate) / insertRate).toFixed(0)} % |`,
      );
    }
  } finally {
    await pg.stop();
  }
}

if (require.main === module) {
  const [role, a, b] = process.argv.slice(2);
  const run = role === 'service' ? service(a, b) : role === 'http' ? http(a, Number(b)) : main().then(() => process.exit(0));
  run.catch((e: unknown) => {
    console.error(e);
    process.exit(1);
  });
}
