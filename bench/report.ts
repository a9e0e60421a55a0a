import { existsSync, readFileSync } from 'node:fs';
import type { InsertResult, LoadResult, LongPollResult } from './load';
import type { MachineInfo } from './machine';
import { fmtMs, fmtPair, fmtRate, markdownTable } from './stats';

export const MARKER = '<!-- `npm run bench` regenerates everything below this line; edit only the introduction above it. -->';

const DEFAULT_INTRO = `# Benchmarks

Figures from \`npm run bench\` (scripts/bench.mjs → bench/main.ts) on one machine, in one run.
They describe this machine and this code at the date shown, not a capacity promise: the load
generator, the gateway, the conference service, nats-server and PostgreSQL all share the same
CPUs, so every process takes cycles from the others. Rerun the bench after a change to compare.
On the 2-vCPU VM where the bench was written, two consecutive runs differed by up to about
40 % in commands/s at the same concurrency: compare a few runs before reading much into one.
`;

/** The hand-written introduction of an existing BENCHMARKS.md (everything above the marker), or a default one. */
export function readIntro(file: string): string {
  if (!existsSync(file)) return DEFAULT_INTRO;
  const text = readFileSync(file, 'utf8');
  const at = text.indexOf(MARKER);
  return at < 0 ? DEFAULT_INTRO : text.slice(0, at).trimEnd() + '\n';
}

export interface Scenario {
  /** "PostgreSQL" or "PGlite (embedded)". */
  store: string;
  loads: LoadResult[];
  longPoll?: LongPollResult;
}

export interface BenchResults {
  machine: MachineInfo;
  settings: { concurrency: number[]; iterationsPerPhase: number; phaseSeconds: number; longPollSamples: number; parkMs: number; warmupIterations: number };
  scenarios: Scenario[];
  baseline: InsertResult[];
  durationMs: number;
}

export function machineSection(m: MachineInfo, durationMs: number): string {
  const pgSettings = Object.entries(m.postgresSettings)
    .map(([k, v]) => `\`${k}=${v}\``)
    .join(', ');
  return [
    '## Machine',
    '',
    `- CPU: ${m.cpuModel}, ${m.cpuCount} logical CPUs`,
    `- Memory: ${m.totalMemGiB.toFixed(1)} GiB`,
    `- Kernel: ${m.kernel}`,
    `- Node.js: ${m.node}`,
    `- nats-server: ${m.natsServer} (JetStream, file storage in a temp dir)`,
    `- PostgreSQL: ${m.postgres}`,
    `  - bench cluster settings: ${pgSettings} (durable commits: the harness's fsync=off default is overridden)`,
    `- PGlite: ${m.pglite}`,
    `- Disk: fdatasync after an 8 KiB write in the temp dir: p50 ${fmtMs(m.fdatasync.percentile(50))} ms, p99 ${fmtMs(m.fdatasync.percentile(99))} ms (${m.fdatasync.count} samples)`,
    `- Date: ${m.date}; the whole run took ${(durationMs / 1000).toFixed(0)} s`,
  ].join('\n');
}

export function methodSection(r: BenchResults): string {
  const s = r.settings;
  return [
    '## Method',
    '',
    `nats-server (JetStream) and a throw-away PostgreSQL cluster are started by the test harness (\`@parley/testing\`) on free ports; ` +
      `the conference service and the gateway run as two child processes from \`apps/<app>/src/main.ts\` with \`LOG_LEVEL=warn\`, as in production. ` +
      `The scenario runs twice: the conference service on that PostgreSQL (\`DATABASE_URL\`), then on embedded PGlite (no \`DATABASE_URL\`, a temp \`DATA_DIR\`), each with a fresh nats-server. ` +
      `Tokens are minted with \`TokenIssuer\` and the services' \`JWT_SECRET\`.`,
    '',
    `**Commands.** C concurrent clients (Node's \`fetch\`, keep-alive connections) each loop create → join → leave on a new conference of their own. ` +
      `A phase runs ${s.iterationsPerPhase} iterations in all (⌈${s.iterationsPerPhase}/C⌉ per client) or stops starting new ones after ${s.phaseSeconds} s; ` +
      `${s.warmupIterations} warm-up iterations run first and are not counted. A command's latency is from just before \`fetch()\` to the end of its response body; ` +
      `commands/s is successful commands over the phase's wall time. The load generator shares the ${r.machine.cpuCount} CPUs with everything else.`,
    '',
    `**Baseline.** The same number of single-row INSERTs as the PostgreSQL run's commands at that C, into a table \`(id bigserial, stream_id text, data jsonb, created_at timestamptz)\` ` +
      `on the same cluster, through a node-postgres \`Pool\` of C connections with C callers; each INSERT is its own autocommit transaction. ` +
      `A command does more than one such insert: it reads the stream, appends its event and updates the read model in one transaction, and the relay then reads it and publishes it to JetStream. ` +
      `The conference service's own pool is node-postgres's default of 10 connections.`,
    '',
    `**Long poll.** A waiter sends \`GET /rtc-api/conferences/{id}/events?v=N\` (N = the current version), waits ${s.parkMs} ms so the request is parked in the gateway, ` +
      `then another client commits the next event (alternately a join and a leave). "From sent" is the poll's response time − the instant the command was sent (an upper bound of commit → delivery); ` +
      `"from command response" is the poll's response time − the command's response time (the commit happened before it; negative when the poll answered first). ` +
      `Up to ${s.longPollSamples} samples, one at a time, on an otherwise idle stack (the command is then slower than in the C = 1 load: the delivery of its event to the waiter runs on the same two CPUs at the same moment).`,
  ].join('\n');
}

function loadTable(loads: LoadResult[]): string {
  return markdownTable(
    ['clients', 'iterations', 'commands', 'errors', 'wall s', 'commands/s', 'create p50 / p99 ms', 'join p50 / p99 ms', 'leave p50 / p99 ms'],
    loads.map((l) => [
      String(l.clients),
      String(l.iterations),
      String(l.commands),
      String(l.errors),
      (l.wallMs / 1000).toFixed(1),
      fmtRate(l.commands / (l.wallMs / 1000)),
      fmtPair(l.latency.create),
      fmtPair(l.latency.join),
      fmtPair(l.latency.leave),
    ]),
  );
}

function baselineTable(rows: InsertResult[]): string {
  return markdownTable(
    ['clients (pool size)', 'inserts', 'wall s', 'inserts/s', 'p50 ms', 'p99 ms'],
    rows.map((b) => [String(b.clients), String(b.inserts), (b.wallMs / 1000).toFixed(1), fmtRate(b.inserts / (b.wallMs / 1000)), fmtMs(b.latency.percentile(50)), fmtMs(b.latency.percentile(99))]),
  );
}

function summaryTable(r: BenchResults): string {
  const rate = (l?: { wallMs: number }, n?: number) => (l && n !== undefined ? fmtRate(n / (l.wallMs / 1000)) : '–');
  return markdownTable(
    ['clients', ...r.scenarios.map((s) => `commands/s, ${s.store}`), 'INSERTs/s, node-postgres'],
    r.settings.concurrency.map((c) => {
      const b = r.baseline.find((x) => x.clients === c);
      return [String(c), ...r.scenarios.map((s) => {
        const l = s.loads.find((x) => x.clients === c);
        return rate(l, l?.commands);
      }), rate(b, b?.inserts)];
    }),
  );
}

function longPollTable(r: BenchResults): string {
  const rows = r.scenarios.filter((s) => s.longPoll).map((s) => {
    const lp = s.longPoll as LongPollResult;
    return [
      s.store,
      String(lp.samples),
      fmtMs(lp.fromSent.percentile(50)),
      fmtMs(lp.fromSent.percentile(99)),
      fmtMs(lp.fromSent.max),
      fmtMs(lp.fromCommandResponse.percentile(50)),
      fmtMs(lp.fromCommandResponse.percentile(99)),
      fmtPair(lp.command),
      `${lp.pollFirst}/${lp.samples}`,
    ];
  });
  return markdownTable(
    ['store', 'samples', 'from sent p50 ms', 'p99 ms', 'max ms', 'from command response p50 ms', 'p99 ms', 'command p50 / p99 ms', 'poll answered first'],
    rows,
    ['l'],
  );
}

/** The tables alone (for stdout). */
export function tables(r: BenchResults): string {
  const parts: string[] = ['## 1. Conference commands over HTTP (create → join → leave)', ''];
  for (const s of r.scenarios) parts.push(`### Conference service on ${s.store}`, '', loadTable(s.loads), '');
  const pg = r.machine.postgresSettings;
  parts.push(
    `### Baseline: single-row INSERTs with node-postgres (same cluster, fsync=${pg.fsync}, synchronous_commit=${pg.synchronous_commit}, full_page_writes=${pg.full_page_writes})`,
    '',
    baselineTable(r.baseline),
    '',
    '### Throughput side by side',
    '',
    summaryTable(r),
    '',
    '## 2. Long-poll delivery latency (commit → waiting client)',
    '',
    longPollTable(r),
  );
  return parts.join('\n');
}

export function renderMarkdown(intro: string, r: BenchResults): string {
  return [intro.trimEnd(), '', MARKER, '', machineSection(r.machine, r.durationMs), '', methodSection(r), '', tables(r), ''].join('\n');
}
