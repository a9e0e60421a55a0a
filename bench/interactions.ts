/**
 * Interactions (issue 13): the range query of GET /interactions over a large organization, and
 * the rate of POST /interactions beside the INSERT baseline.
 *
 * The interaction service runs on PostgreSQL (fsync on). Its read model `interaction_views` is
 * filled with `rows` interactions of one organization by one INSERT … SELECT generate_series
 * (what a million API calls would leave there, without waiting for them: a page query reads the
 * read model only), spread over the last `spreadDays` days, three types, twenty queues in the
 * data; `interaction_pairs` and its hours as the projection would write them); then VACUUM ANALYZE. Each query is sent `samples` times, one at a time, over HTTP through the
 * gateway, and timed from the request to the end of its body.
 */
import { randomUUID } from 'node:crypto';
import { Client } from 'pg';
import { call } from './load';
import { Samples, timedCalls } from './stats';

export interface InteractionQueryResult {
  name: string;
  query: string;
  totalElements: number;
  latency: Samples;
}

export interface InteractionCreateResult {
  clients: number;
  creates: number;
  wallMs: number;
  latency: Samples;
}

export interface InteractionsResult {
  rows: number;
  seedMs: number;
  queries: InteractionQueryResult[];
  creates: InteractionCreateResult[];
}

export interface InteractionsOptions {
  baseUrl: string;
  /** The interaction service's database. */
  databaseUrl: string;
  organizationId: string;
  tokens: string[];
  rows: number;
  samples: number;
  concurrency: number[];
  createsPerPhase: number;
  log: (msg: string) => void;
}

const SPREAD_DAYS = 30;

async function seed(databaseUrl: string, organizationId: string, rows: number): Promise<number> {
  const pg = new Client({ connectionString: databaseUrl });
  await pg.connect();
  try {
    const started = performance.now();
    await pg.query(
      `insert into interaction_views_v1 (organization_id, interaction_id, created_by, created_at, type, data, version)
       select $1, 'seed-' || g, 'bench-agent-' || (g % 50), now() - make_interval(secs => g * $3::float8 / $2),
              (array['video call', 'chat', 'email'])[1 + g % 3], jsonb_build_object('queue', 'q' || (g % 20), 'n', g), 1
       from generate_series(1, $2::int) g`,
      [organizationId, rows, SPREAD_DAYS * 86_400],
    );
    // interaction_pairs and its hours as the projection would have written them: each interaction's own row (the empty key) and
    // its one string pair (queue), keyed as pairKey keys it (JSON.stringify(['queue', 'q7']) is '["queue","q7"]': plain letters and digits).
    await pg.query(
      `insert into interaction_pairs_v3 (organization_id, pair, created_at, interaction_id)
       select organization_id, k.pair, created_at, interaction_id
       from interaction_views_v1, lateral (values (''::bytea), (substring(sha256(convert_to('["queue","' || (data->>'queue') || '"]', 'UTF8')) from 1 for 16))) k(pair)
       where organization_id = $1`,
      [organizationId],
    );
    await pg.query(
      `insert into interaction_pairs_v3_hours as h (organization_id, pair, hour, n)
       select organization_id, pair, floor(extract(epoch from created_at) / 3600), count(*) from interaction_pairs_v3 where organization_id = $1 group by 1, 2, 3
       on conflict (organization_id, pair, hour) do update set n = h.n + excluded.n`,
      [organizationId],
    );
    await pg.query('vacuum analyze interaction_views_v1');
    await pg.query('vacuum analyze interaction_pairs_v3');
    await pg.query('analyze interaction_pairs_v3_hours');
    return performance.now() - started;
  } finally {
    await pg.end();
  }
}

export async function interactionsBench(o: InteractionsOptions): Promise<InteractionsResult> {
  o.log(`seeding ${o.rows} interactions of ${o.organizationId}`);
  const seedMs = await seed(o.databaseUrl, o.organizationId, o.rows);
  o.log(`seeded in ${(seedMs / 1000).toFixed(1)} s`);

  const end = new Date(Date.now() + 60_000).toISOString();
  const monthAgo = new Date(Date.now() - (SPREAD_DAYS + 1) * 86_400_000).toISOString();
  const dayAgo = new Date(Date.now() - 86_400_000).toISOString();
  const range = (start: string) => `start=${encodeURIComponent(start)}&end=${encodeURIComponent(end)}`;
  const kinds = [
    { name: 'every interaction (30 days), newest first', query: `${range(monthAgo)}&size=20&sort=createdAt,desc` },
    { name: 'every interaction, params queue=q7 (1 in 20)', query: `${range(monthAgo)}&params=queue,q7&size=20&sort=createdAt,desc` },
    { name: 'the last day, newest first', query: `${range(dayAgo)}&size=20&sort=createdAt,desc` },
    { name: 'the last day, params queue=q7', query: `${range(dayAgo)}&params=queue,q7&size=20&sort=createdAt,desc` },
    { name: 'every interaction, page 100', query: `${range(monthAgo)}&page=100&size=20&sort=createdAt,desc` },
  ];
  const queries: InteractionQueryResult[] = [];
  for (const k of kinds) {
    const latency = new Samples();
    let totalElements = 0;
    for (let i = 0; i < o.samples + 5; i++) {
      const sent = performance.now();
      const r = await call(o.baseUrl, o.tokens[0], 'GET', `/interactions?${k.query}`);
      if (r.status !== 200) throw new Error(`GET /interactions?${k.query}: HTTP ${r.status} ${JSON.stringify(r.body)}`);
      if (r.body.content.length !== 20) throw new Error(`GET /interactions?${k.query}: ${r.body.content.length} items, expected a full page of 20`);
      totalElements = r.body.totalElements;
      if (i >= 5) latency.add(r.at - sent); // the first five warm the plan and the caches
    }
    o.log(`${k.name}: ${totalElements} match; p50 ${latency.percentile(50).toFixed(2)} p99 ${latency.percentile(99).toFixed(2)} ms`);
    queries.push({ ...k, totalElements, latency });
  }

  const creates: InteractionCreateResult[] = [];
  for (const clients of o.concurrency) {
    const { wallMs, latency } = await timedCalls(clients, o.createsPerPhase, async (w) => {
      const r = await call(o.baseUrl, o.tokens[w % o.tokens.length], 'POST', '/interactions', { interactionId: `bench-${randomUUID()}`, type: 'video call', data: { queue: `q${w % 20}` } });
      if (r.status !== 200) throw new Error(`POST /interactions: HTTP ${r.status} ${JSON.stringify(r.body)}`);
    });
    o.log(`POST /interactions, C=${clients}: ${latency.count} in ${(wallMs / 1000).toFixed(1)} s = ${(latency.count / (wallMs / 1000)).toFixed(0)}/s; p50 ${latency.percentile(50).toFixed(1)} p99 ${latency.percentile(99).toFixed(1)} ms`);
    creates.push({ clients, creates: latency.count, wallMs, latency });
  }
  return { rows: o.rows, seedMs, queries, creates };
}
