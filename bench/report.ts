import { existsSync, readFileSync } from 'node:fs';
import type { InsertResult, LoadResult, LongPollResult } from './load';
import type { FloorResult } from './floor';
import type { InteractionsResult } from './interactions';
import type { MachineInfo } from './machine';
import type { PresenceResult } from './presence';
import { KEPT_UP, PUBLISHER_KEPT_UP, type SfuResult, keptUp } from './sfu';
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
  /** The same load, every command with a new X-Auvious-TransactionId. */
  transactionLoads?: LoadResult[];
  longPoll?: LongPollResult;
}

export interface BenchResults {
  machine: MachineInfo;
  settings: { sections: string[]; concurrency: number[]; iterationsPerPhase: number; phaseSeconds: number; longPollSamples: number; parkMs: number; warmupIterations: number };
  scenarios: Scenario[];
  baseline: InsertResult[];
  /** The transport floor (bench/floor.ts) at the concurrencies of section 1. */
  floor: FloorResult[];
  sfu?: SfuResult;
  presence: PresenceResult[];
  /** Section 5, with the INSERT baseline at each concurrency of its creates. */
  interactions?: InteractionsResult & { baseline: InsertResult[] };
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
  return [
    '## Method',
    '',
    ...(r.scenarios.length > 0 ? conferenceMethod(r) : []),
    ...(r.sfu ? ['', sfuMethod(r.sfu)] : []),
    ...(r.presence.length > 0 ? ['', presenceMethod(r.presence)] : []),
  ].join('\n');
}

/** mediasoup's own guidance, https://mediasoup.org/documentation/v3/scalability/ */
const MEDIASOUP_FIGURE = 'mediasoup\'s documentation: "Depending on the host CPU capabilities, a mediasoup C++ subprocess can typically handle over ~500 consumers in total" (https://mediasoup.org/documentation/v3/scalability/)';

function sfuMethod(f: SfuResult): string {
  const o = f.options;
  return (
    `**SFU fan-out.** The media service's \`Sfu\` class runs in the bench process with one mediasoup worker (3.12.16, built from Debian's libraries); NATS and the conference service are not on the media path and are left out. ` +
    `One @roamhq/wrtc peer, in a child process of its own (so the viewers' work cannot starve its frame timer), publishes a CAM stream: ${o.width}×${o.height} at ${o.fps} frames/s of a moving gradient under random grain (so the VP8 encoder spends its whole allowance), capped at ${fmtRate(o.bitrate / 1000)} kbit/s by \`setMaxIncomingBitrate\` on its transport (the API's videoBitrate). ` +
    `N wrtc peers in the bench process view it (one video m-section each, over 127.0.0.1), N stepped through ${o.steps.join(', ')}. ` +
    `At each step, once every viewer receives and 3 s have passed, a ${o.seconds} s window measures: the worker's CPU time over wall time (\`worker.getResourceUsage()\`, the worker's own getrusage; 1 = a whole core), the load generator's CPU the same way (the bench process with the viewers' decoders, plus the publisher's process with its encoder), ` +
    `bytes the publisher's transport received and the viewers' transports sent (mediasoup's transport counters, RTP + RTCP + ICE + DTLS), and the bytes each viewer's getStats counted. ` +
    `The SFU neither decodes nor cares about the picture size: what loads it is packets and bytes, so the picture is small and the bitrate a camera's, which keeps the viewers' decoders (on the same ${f.cpuCount} CPUs as the worker) cheap enough for many viewers. ` +
    `The stepping stops when the worker reaches 80 % of a core, or when the load generator no longer keeps up (the publisher sends under ${PUBLISHER_KEPT_UP * 100} % of its cap, or the median viewer receives under ${KEPT_UP * 100} % of what the publisher sends, or a new viewer receives nothing within a minute): past that the load generator, not the SFU, is what is measured. ` +
    `The N at 80 % is read between two steps when the worker got there, else extrapolated from a least-squares line through the steps the viewers kept up with. Beside it: ${MEDIASOUP_FIGURE}.`
  );
}

function conferenceMethod(r: BenchResults): string[] {
  const s = r.settings;
  return [
    `nats-server (JetStream, with Parley's NATS users) and a throw-away PostgreSQL cluster are started by the test harness (\`@parley/testing\`) on free ports; ` +
      `the conference service, the presence service (a join asks it whose endpoint it is; on PGlite) and the gateway run as child processes from \`apps/<app>/src/main.ts\` with \`LOG_LEVEL=warn\`, as in production: each connects as its own NATS user and signs the callers it sends (docs/security.md). ` +
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
    `**Transport floor.** What the command path's shape costs with nothing of Parley in it (bench/floor.ts): the same fetch client and concurrency, the same number of requests as the PostgreSQL run's commands, ` +
      `each a POST to an HTTP server (fastify, as the gateway) that makes one NATS request (nats.js, no JetStream) to a service process, which does one single-row INSERT like the baseline's (a node-postgres \`Pool\` on the same cluster) and answers; the HTTP server answers with that. ` +
      `No authentication, validation, signatures, event store, relay, JetStream or projections: a command's path holds all of this and adds to it, so commands/s above the floor's is not to be had on this machine with this shape. ` +
      `CPU per request is each process's user + system time over the phase (/proc), as in the command tables.`,
    '',
    `**Long poll.** A waiter sends \`GET /rtc-api/conferences/{id}/events?v=N\` (N = the current version), waits ${s.parkMs} ms so the request is parked in the gateway, ` +
      `then another client commits the next event (alternately a join and a leave). "From sent" is the poll's response time − the instant the command was sent (an upper bound of commit → delivery); ` +
      `"from command response" is the poll's response time − the command's response time (the commit happened before it; negative when the poll answered first). ` +
      `Up to ${s.longPollSamples} samples, one at a time, on an otherwise idle stack (the command is then slower than in the C = 1 load: the delivery of its event to the waiter runs on the same two CPUs at the same moment).`,
  ];
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

/** CPU µs per command by process: where the machine's time went in each phase. */
function cpuTable(loads: LoadResult[]): string {
  const names = [...new Set(loads.flatMap((l) => Object.keys(l.cpuPerCommand ?? {})))];
  return markdownTable(
    ['clients', ...names, 'all'],
    loads.map((l) => {
      const cpu = l.cpuPerCommand ?? {};
      return [String(l.clients), ...names.map((n) => (cpu[n] ?? 0).toFixed(0)), Object.values(cpu).reduce((a, b) => a + b, 0).toFixed(0)];
    }),
  );
}

function baselineTable(rows: InsertResult[]): string {
  return markdownTable(
    ['clients (pool size)', 'inserts', 'wall s', 'inserts/s', 'p50 ms', 'p99 ms'],
    rows.map((b) => [String(b.clients), String(b.inserts), (b.wallMs / 1000).toFixed(1), fmtRate(b.inserts / (b.wallMs / 1000)), fmtMs(b.latency.percentile(50)), fmtMs(b.latency.percentile(99))]),
  );
}

function floorTable(rows: FloorResult[]): string {
  const names = [...new Set(rows.flatMap((f) => Object.keys(f.cpuPerRequest)))];
  return markdownTable(
    ['clients', 'requests', 'wall s', 'requests/s', 'p50 ms', 'p99 ms', ...names.map((n) => `CPU µs, ${n}`)],
    rows.map((f) => [
      String(f.clients),
      String(f.requests),
      (f.wallMs / 1000).toFixed(1),
      fmtRate(f.requests / (f.wallMs / 1000)),
      fmtMs(f.latency.percentile(50)),
      fmtMs(f.latency.percentile(99)),
      ...names.map((n) => (f.cpuPerRequest[n] ?? 0).toFixed(0)),
    ]),
  );
}

function summaryTable(r: BenchResults): string {
  const rate = (l?: { wallMs: number }, n?: number) => (l && n !== undefined ? fmtRate(n / (l.wallMs / 1000)) : '–');
  const pgRate = (c: number) => {
    const l = r.scenarios[0]?.loads.find((x) => x.clients === c);
    return l ? l.commands / (l.wallMs / 1000) : undefined;
  };
  const share = (part: number | undefined, whole: number | undefined) => (part !== undefined && whole ? `${((100 * part) / whole).toFixed(1)} %` : '–');
  return markdownTable(
    ['clients', ...r.scenarios.map((s) => `commands/s, ${s.store}`), 'requests/s, transport floor', 'INSERTs/s, node-postgres', `${r.scenarios[0]?.store ?? 'commands'} / floor`, 'floor / INSERTs', `${r.scenarios[0]?.store ?? 'commands'} / INSERTs`],
    r.settings.concurrency.map((c) => {
      const b = r.baseline.find((x) => x.clients === c);
      const f = r.floor.find((x) => x.clients === c);
      const floorRate = f ? f.requests / (f.wallMs / 1000) : undefined;
      const insertRate = b ? b.inserts / (b.wallMs / 1000) : undefined;
      return [
        String(c),
        ...r.scenarios.map((s) => {
          const l = s.loads.find((x) => x.clients === c);
          return rate(l, l?.commands);
        }),
        rate(f, f?.requests),
        rate(b, b?.inserts),
        share(pgRate(c), floorRate),
        share(floorRate, insertRate),
        share(pgRate(c), insertRate),
      ];
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

const pct = (x: number) => `${(x * 100).toFixed(1)}`;
const kbps = (bps: number) => fmtRate(bps / 1000);

function sfuSection(f: SfuResult): string {
  const kept = (s: SfuResult['steps'][number]) => keptUp(s, f.options.bitrate);
  const table = markdownTable(
    ['viewers (N)', 'worker CPU, % of a core', 'load generator CPU, % of a core', 'publisher in, kbit/s', 'forwarded, Mbit/s', 'forwarded per viewer, kbit/s', 'received per viewer, median / lowest kbit/s', 'worker CPU per viewer, % of a core'],
    f.steps.map((s) => [
      `${s.viewers}${kept(s) ? '' : ' ¹'}`,
      pct(s.workerCpu),
      fmtRate(s.generatorCpu * 100),
      kbps(s.ingestBps),
      (s.forwardedBps / 1e6).toFixed(2),
      kbps(s.forwardedBps / s.viewers),
      `${kbps(s.viewerMedianBps)} / ${kbps(s.viewerMinBps)}`,
      (s.workerCpu * 100 / s.viewers).toFixed(3),
    ]),
  );
  const lines = ['## 3. SFU fan-out: one video stream to N WebRTC viewers (one mediasoup worker)', '', table, ''];
  if (f.steps.some((s) => !kept(s))) lines.push(`¹ The load generator no longer kept up (the publisher under ${PUBLISHER_KEPT_UP * 100} % of its cap, or the median viewer under ${KEPT_UP * 100} % of the publisher's rate); shown, but left out of the fit.`, '');
  lines.push(`Stopped: ${f.stoppedBecause}.`, '');
  if (f.fit) lines.push(`- Worker CPU ≈ ${pct(f.fit.base)} % + ${(f.fit.perViewer * 100).toFixed(3)} % of a core per viewer of this ${fmtRate(f.options.bitrate / 1000)} kbit/s stream (least squares over the steps the viewers kept up with).`);
  if (f.fitPerMbps && f.fitPerMbps.perViewer > 0) {
    const mbps = (0.8 - f.fitPerMbps.base) / f.fitPerMbps.perViewer;
    lines.push(`- Per forwarded Mbit/s: ${(f.fitPerMbps.perViewer * 100).toFixed(2)} % of a core, so 80 % of a core ≈ ${fmtRate(mbps)} Mbit/s forwarded: ≈ ${fmtRate(mbps)} viewers of a 1 Mbit/s camera, ≈ ${fmtRate(mbps / 0.3)} of a 300 kbit/s one (extrapolated).`);
  }
  if (f.at80) lines.push(`- **N at 80 % of a core: ${f.at80.viewers} viewers (${f.at80.how})** at this stream's rate, beside mediasoup's figure of about 500 consumers per worker.`);
  return lines.join('\n');
}

function presenceMethod(runs: PresenceResult[]): string {
  const p = runs[0];
  return (
    `**Pushed events.** The conference service, the presence service and one gateway run as child processes on PGlite and one nats-server, started afresh for each layout; the bench process holds ${p.options.endpoints} WebSocket clients (the \`ws\` package) of ${p.options.endpoints} users, each endpoint registered and joined to a conference (layouts: ${runs.map((r) => `${r.conferences} × ${r.options.conferenceSize}`).join(', ')}). ` +
    `Each round sends (a) one conference \`sendEvent\` (qos 0) to every conference at once, then (b) one \`updateMetadata\` to every conference at once, whose ConferenceMetadataUpdatedEvent goes store → relay → JetStream → the presence service's consumer → core NATS → the gateway → the sockets. ` +
    `Latency is from the moment a conference's request was sent to each socket's receipt (one clock), over ${p.options.rounds} rounds; it includes the HTTP request itself, and with many conferences, the requests queueing behind each other at the same gateway. ` +
    `Gateway memory is its RSS (/proc) after the registrations and after the sockets opened, over the number of sockets: the cost of one connection (socket, its NATS subscriptions, its JetStream consumer for qos 1). RSS moves with V8's heap growth, so runs differ.`
  );
}

function presenceSection(runs: PresenceResult[]): string {
  const rows = runs.flatMap((p) => {
    const layout = `${p.conferences} × ${p.options.conferenceSize}`;
    return [
      [layout, 'conference sendEvent → sockets', `${p.received.sendEvent} (${p.expected})`, fmtMs(p.sendEvent.percentile(50)), fmtMs(p.sendEvent.percentile(99)), fmtMs(p.sendEvent.max)],
      [layout, 'conference event → presence → sockets', `${p.received.conferenceEvent} (${p.expected})`, fmtMs(p.conferenceEvent.percentile(50)), fmtMs(p.conferenceEvent.percentile(99)), fmtMs(p.conferenceEvent.max)],
    ];
  });
  const table = markdownTable(['conferences × endpoints', 'path', 'deliveries (expected)', 'p50, ms', 'p99, ms', 'max, ms'], rows, ['l', 'l', 'r', 'r', 'r', 'r']);
  return [
    `## 4. Events pushed to ${runs[0].connected} WebSocket endpoints on one gateway`,
    '',
    table,
    '',
    ...runs.map(
      (p) =>
        `- ${p.conferences} × ${p.options.conferenceSize}: gateway RSS ${p.gatewayRssBeforeMiB.toFixed(1)} MiB before the sockets, ${p.gatewayRssAfterMiB.toFixed(1)} MiB with ${p.connected} open: **≈ ${p.gatewayKiBPerConnection.toFixed(0)} KiB per connection**; set-up (registrations, joins, sockets) ${p.setupSeconds.toFixed(0)} s.`,
    ),
  ].join('\n');
}

/** The tables alone (for stdout). */
export function tables(r: BenchResults): string {
  const parts: string[] = [];
  if (r.scenarios.length > 0) parts.push(...conferenceTables(r));
  if (r.sfu) parts.push('', sfuSection(r.sfu));
  if (r.presence.length > 0) parts.push('', presenceSection(r.presence));
  if (r.interactions) parts.push('', interactionsSection(r.interactions));
  return parts.join('\n').trim();
}

function interactionsSection(i: InteractionsResult & { baseline: InsertResult[] }): string {
  const rate = (n: number, ms: number) => n / (ms / 1000);
  return [
    `## 5. Interactions: the range query over ${i.rows.toLocaleString('en-US')} interactions, and POST /interactions`,
    '',
    `The interaction service on PostgreSQL; its read model holds ${i.rows.toLocaleString('en-US')} interactions of one organization over 30 days (three types, twenty queues in the data; written by one INSERT … SELECT in ${(i.seedMs / 1000).toFixed(1)} s with their \`interaction_pairs\` and its hours, then VACUUM ANALYZE). Each query is a page of 20 through the gateway, one at a time, timed from the request to the end of its body.`,
    '',
    markdownTable(
      ['query', 'matching', 'p50 ms', 'p99 ms', 'max ms'],
      i.queries.map((q) => [q.name, q.totalElements.toLocaleString('en-US'), fmtMs(q.latency.percentile(50)), fmtMs(q.latency.percentile(99)), fmtMs(q.latency.max)]),
    ),
    '',
    'POST /interactions (a new id each) beside single-row INSERTs through node-postgres on the same cluster:',
    '',
    markdownTable(
      ['clients', 'creates', 'creates/s', 'p50 / p99 ms', 'INSERTs/s', 'INSERT p50 / p99 ms', 'creates / INSERTs'],
      i.creates.map((c) => {
        const b = i.baseline.find((x) => x.clients === c.clients);
        const createRate = rate(c.creates, c.wallMs);
        const insertRate = b ? rate(b.inserts, b.wallMs) : NaN;
        return [
          String(c.clients),
          String(c.creates),
          fmtRate(createRate),
          `${fmtMs(c.latency.percentile(50))} / ${fmtMs(c.latency.percentile(99))}`,
          b ? fmtRate(insertRate) : '–',
          b ? `${fmtMs(b.latency.percentile(50))} / ${fmtMs(b.latency.percentile(99))}` : '–',
          b ? `${((100 * createRate) / insertRate).toFixed(1)} %` : '–',
        ];
      }),
    ),
  ].join('\n');
}

function conferenceTables(r: BenchResults): string[] {
  const parts: string[] = ['## 1. Conference commands over HTTP (create → join → leave)', ''];
  for (const s of r.scenarios) {
    parts.push(`### Conference service on ${s.store}`, '', loadTable(s.loads), '');
    if (s.loads.some((l) => l.cpuPerCommand)) parts.push(`CPU time per command by process, µs (user + system, /proc; the load generator is the bench process with its HTTP clients):`, '', cpuTable(s.loads), '');
    if (s.transactionLoads?.length) {
      parts.push(`With \`X-Auvious-TransactionId\` on every command (a new id each: the answer is looked up, then stored in the append's transaction):`, '', loadTable(s.transactionLoads), '');
    }
  }
  const pg = r.machine.postgresSettings;
  parts.push(
    `### Baseline: single-row INSERTs with node-postgres (same cluster, fsync=${pg.fsync}, synchronous_commit=${pg.synchronous_commit}, full_page_writes=${pg.full_page_writes})`,
    '',
    baselineTable(r.baseline),
    '',
    '### Transport floor: HTTP → NATS → a service → one INSERT, nothing of Parley (bench/floor.ts)',
    '',
    r.floor.length > 0 ? floorTable(r.floor) : 'Not run.',
    '',
    '### Throughput side by side',
    '',
    summaryTable(r),
    '',
    '## 2. Long-poll delivery latency (commit → waiting client)',
    '',
    longPollTable(r),
  );
  return parts;
}

export function renderMarkdown(intro: string, r: BenchResults): string {
  return [intro.trimEnd(), '', MARKER, '', machineSection(r.machine, r.durationMs), '', methodSection(r), '', tables(r), ''].join('\n');
}
