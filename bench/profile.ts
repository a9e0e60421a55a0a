/**
 * The bench's profile (BENCH_PROFILE_DIR): PostgreSQL's pg_stat_statements around a scenario, and
 * a summary of the V8 CPU profiles the services wrote (`--cpu-prof`), by where the time went.
 *
 *   node -r ./scripts/register-ts.cjs bench/profile.ts <dir> [commands]
 *
 * prints, for each process's profile under <dir>, its CPU time by category (our files, each npm
 * package, Node's internals, the garbage collector), by stage of a command (HTTP, validation,
 * bearer token, NATS, caller assertions, store, read models, relay, checkpoint, logging…) and its
 * hottest functions; with `commands`
 * (how many commands the profiled run answered), the CPU time per command too.
 */
import { mkdirSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { Client } from 'pg';

const withClient = async <T>(url: string, fn: (c: Client) => Promise<T>): Promise<T> => {
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
};

/** Starts counting anew (the extension is created in the cluster's first database; it counts for every database). */
export const resetStatements = (url: string): Promise<void> =>
  withClient(url, async (c) => {
    await c.query('CREATE EXTENSION IF NOT EXISTS pg_stat_statements');
    await c.query('SELECT pg_stat_statements_reset()');
  });

/** The statements by total time since the reset, as a markdown table. */
export const writeStatements = (url: string, file: string): Promise<void> =>
  withClient(url, async (c) => {
    const { rows } = await c.query<{ calls: string; total: number; mean: number; rows: string; wal: string; query: string }>(
      `SELECT calls::text, total_exec_time AS total, mean_exec_time AS mean, rows::text, wal_bytes::text AS wal, query
       FROM pg_stat_statements ORDER BY total_exec_time DESC LIMIT 30`,
    );
    const lines = ['| calls | total ms | mean ms | rows | WAL bytes | statement |', '| ---: | ---: | ---: | ---: | ---: | --- |'];
    for (const r of rows) lines.push(`| ${r.calls} | ${r.total.toFixed(0)} | ${r.mean.toFixed(3)} | ${r.rows} | ${r.wal} | \`${r.query.replace(/\s+/g, ' ').slice(0, 160).replace(/\|/g, '\\|')}\` |`);
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, `${lines.join('\n')}\n`);
  });

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

const ROOT = join(__dirname, '..');

/** Where a frame's code lives: one of our files, an npm package, a part of Node, or V8's own bucket. */
function categoryOf(frame: ProfileNode['callFrame']): string {
  const url = frame.url.replace(/^file:\/\//, '');
  if (!url) return frame.functionName.startsWith('(') ? frame.functionName : '(native)';
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(url);
  if (pkg) return pkg[1];
  if (url.startsWith('node:')) return `node:${url.slice(5).replace(/^internal\//, '').split('/')[0]}`;
  if (url.startsWith(ROOT)) return relative(ROOT, url);
  return url;
}

/**
 * The stage of a command a frame's time belongs to (the stages of BENCHMARKS.md): our own files
 * by what they do, then libraries by what they are for. Time in a library that several stages use
 * (the database drivers, node:crypto, V8's natives) goes to the stage of the nearest of our files
 * that called it.
 */
/** Drivers and PGlite: their calls are mostly asynchronous, so the profile seldom shows which of our files made them. */
const DATABASE = 'database (pg, PGlite: any caller)';
const OUR_STAGES: Array<[RegExp, string]> = [
  [/libs\/eventsourcing\/src\/relay/, 'relay'],
  [/libs\/eventsourcing\/src\/checkpoints/, 'checkpoint'],
  [/libs\/eventsourcing\/src\/(sql-event-store|postgres-event-store|pglite-event-store|sql-driver|row-mapping)/, 'store: append and load'],
  [/libs\/eventsourcing\/src\/aggregate-repository|libs\/service-kit\/src\/(aggregate|command-answers)/, 'store: append and load'],
  [/libs\/service-kit\/src\/projection|apps\/[^/]+\/src\/infra\//, 'read models and projections'],
  [/libs\/messaging\/src\/caller-assertion/, 'caller assertions (Ed25519)'],
  [/libs\/auth\//, 'bearer token'],
  [/libs\/messaging\/src\/validation-pipe|apps\/gateway\/src\/http-input/, 'validation and body parsing'],
  [/libs\/messaging\/src\/(rpc-|nats-|durable-consumer|endpoint-delivery)/, 'NATS'],
  [/apps\/[^/]+\/src\/domain\//, 'domain (decide, evolve)'],
  [/apps\/gateway\/src\//, 'HTTP'],
];
const PACKAGE_STAGES: Array<[RegExp, string]> = [
  [/^(class-validator|class-transformer|secure-json-parse)$/, 'validation and body parsing'],
  [/^jose$/, 'bearer token'],
  [/^(fastify|@fastify\/.*|find-my-way|avvio|light-my-request|fast-json-stringify|helmet|node:_http_.*|node:http)$/, 'HTTP'],
  [/^(pino.*|@pinojs\/.*|nestjs-pino|sonic-boom|thread-stream)$/, 'logging'],
  [/^(nats|@nestjs\/microservices)$/, 'NATS'],
  [/^(@nestjs\/core|@nestjs\/common|rxjs|reflect-metadata)$/, 'Nest'],
  [/^(pg|pg-protocol|pg-pool|pg-types|@electric-sql\/pglite|wasm:.*)$/, DATABASE],
  [/^\(garbage collector\)$/, 'garbage collector'],
];

function stageOfCategory(category: string): string | undefined {
  for (const [re, stage] of OUR_STAGES) if (re.test(category)) return stage;
  for (const [re, stage] of PACKAGE_STAGES) if (re.test(category)) return stage;
  return undefined;
}

/** The database's time goes to the stage of our code that called it, when the stack shows it (the relay's reads, a projection's writes, the checkpoint). */
const REFINED_BY_CALLER = new Set([DATABASE, undefined]);

export interface ProfileSummary {
  file: string;
  totalMs: number;
  idleMs: number;
  categories: Array<[string, number]>;
  functions: Array<[string, number]>;
  stages: Array<[string, number]>;
}

export function summarize(file: string): ProfileSummary {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const self = new Map<number, number>();
  profile.samples.forEach((id, i) => self.set(id, (self.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0)));
  const categories = new Map<string, number>();
  const functions = new Map<string, number>();
  const stages = new Map<string, number>();
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  /** The stage of a node: its own, or, for shared code, that of the nearest of our files above it. */
  const stageOf = (id: number): string => {
    const own = stageOfCategory(categoryOf(byId.get(id)!.callFrame));
    if (!REFINED_BY_CALLER.has(own)) return own!;
    for (let up = parent.get(id); up !== undefined; up = parent.get(up)) {
      const category = categoryOf(byId.get(up)!.callFrame);
      if (!category.startsWith('apps/') && !category.startsWith('libs/')) continue;
      const caller = stageOfCategory(category);
      if (caller) return caller;
    }
    return own ?? 'other (native: socket I/O, timers; Node internals)';
  };
  let totalUs = 0;
  let idleUs = 0;
  for (const [id, us] of self) {
    const { callFrame } = byId.get(id)!;
    if (callFrame.functionName === '(idle)') {
      idleUs += us;
      continue;
    }
    totalUs += us;
    const cat = categoryOf(callFrame);
    categories.set(cat, (categories.get(cat) ?? 0) + us);
    const fn = `${callFrame.functionName || '(anonymous)'} ${cat}:${callFrame.lineNumber + 1}`;
    functions.set(fn, (functions.get(fn) ?? 0) + us);
    const stage = stageOf(id);
    stages.set(stage, (stages.get(stage) ?? 0) + us);
  }
  const top = (m: Map<string, number>, n: number) =>
    [...m]
      .sort((a, b) => b[1] - a[1])
      .slice(0, n)
      .map(([k, us]) => [k, us / 1000] as [string, number]);
  return { file, totalMs: totalUs / 1000, idleMs: idleUs / 1000, categories: top(categories, 25), functions: top(functions, 25), stages: top(stages, 20) };
}

function profilesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return profilesUnder(path);
    return name.endsWith('.cpuprofile') ? [path] : [];
  });
}

if (require.main === module) {
  const [dir, commandsArg] = process.argv.slice(2);
  if (!dir) throw new Error('usage: bench/profile.ts <dir> [commands]');
  const commands = commandsArg ? Number(commandsArg) : undefined;
  for (const file of profilesUnder(dir)) {
    const s = summarize(file);
    const per = (ms: number) => (commands ? ` (${((ms * 1000) / commands).toFixed(0)} µs a command)` : '');
    process.stdout.write(`\n## ${relative(dir, file)}: ${s.totalMs.toFixed(0)} ms busy${per(s.totalMs)}, ${s.idleMs.toFixed(0)} ms idle\n\n| where | ms | % |\n| --- | ---: | ---: |\n`);
    for (const [k, ms] of s.categories) process.stdout.write(`| ${k} | ${ms.toFixed(0)} | ${((100 * ms) / s.totalMs).toFixed(1)} |\n`);
    process.stdout.write(`\nby stage (a library's time goes to the stage of our code that called it):\n\n| stage | ms | % |\n| --- | ---: | ---: |\n`);
    for (const [k, ms] of s.stages) process.stdout.write(`| ${k} | ${ms.toFixed(0)} | ${((100 * ms) / s.totalMs).toFixed(1)} |\n`);
    process.stdout.write(`\nhottest functions (self time):\n\n`);
    for (const [k, ms] of s.functions) process.stdout.write(`- ${ms.toFixed(0)} ms ${k}\n`);
  }
}
