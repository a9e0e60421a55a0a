import { randomUUID } from 'node:crypto';
import { Pool } from 'pg';
import { sleep } from '@parley/testing';
import { Samples, timedCalls } from './stats';

export const COMMANDS = ['create', 'join', 'leave'] as const;
export type CommandKind = (typeof COMMANDS)[number];

export interface HttpResult {
  status: number;
  body: any;
  /** performance.now() when the whole response body had arrived. */
  at: number;
}

/** One request with Node's fetch (undici's global pool: keep-alive connections, reused). */
export async function call(baseUrl: string, token: string, method: 'GET' | 'POST', path: string, body?: unknown, headers: Record<string, string> = {}): Promise<HttpResult> {
  const res = await fetch(`${baseUrl}/rtc-api${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...headers },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  const at = performance.now();
  let parsed: unknown = text;
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch {
    /* not JSON */
  }
  return { status: res.status, body: parsed, at };
}

export interface LoadOptions {
  baseUrl: string;
  /** One token per client. */
  tokens: string[];
  /** Iterations (create → join → leave) each client runs at most. */
  iterationsPerClient: number;
  /** No client starts an iteration after this performance.now() instant. */
  deadline: number;
  /** Every command carries a new X-Auvious-TransactionId (its answer is stored for retries). */
  transactionIds?: boolean;
}

export interface LoadResult {
  clients: number;
  iterations: number;
  /** Successful commands. */
  commands: number;
  errors: number;
  firstError?: string;
  wallMs: number;
  latency: Record<CommandKind, Samples>;
  /** CPU µs a command took in each process over the phase (bench/cpu.ts), when measured. */
  cpuPerCommand?: Record<string, number>;
  /** Each conference the phase created: its creator's token, how many of its commands were answered, and the versions the answers named. */
  answered: Map<string, AnsweredConference>;
}

export interface AnsweredConference {
  token: string;
  commands: number;
  versions: number[];
}

/**
 * C clients, each looping create → join → leave on a conference of its own (a new one per
 * iteration), each command timed from just before fetch() to the end of the response body.
 */
export async function conferenceLoad(options: LoadOptions): Promise<LoadResult> {
  const latency = { create: new Samples(), join: new Samples(), leave: new Samples() };
  let iterations = 0;
  let commands = 0;
  let errors = 0;
  let firstError: string | undefined;
  const answered = new Map<string, AnsweredConference>();

  const timed = async (kind: CommandKind, token: string, body: unknown, expected: number): Promise<HttpResult | undefined> => {
    const sent = performance.now();
    try {
      const r = await call(options.baseUrl, token, 'POST', `/conferences/${kind}`, body, options.transactionIds ? { 'X-Auvious-TransactionId': randomUUID() } : {});
      if (r.status === expected) {
        latency[kind].add(r.at - sent);
        commands++;
        return r;
      }
      firstError ??= `${kind}: HTTP ${r.status} ${JSON.stringify(r.body)}`;
    } catch (e) {
      firstError ??= `${kind}: ${String(e)}`;
    }
    errors++;
    return undefined;
  };

  const client = async (index: number, token: string) => {
    const userEndpointId = `ep-${index}`;
    for (let i = 0; i < options.iterationsPerClient && performance.now() < options.deadline; i++) {
      const created = await timed('create', token, { creatorEndpoint: userEndpointId, metadata: { topic: 'bench' } }, 200);
      if (!created) continue;
      const conferenceId = created.body.id as string;
      const record: AnsweredConference = { token, commands: 1, versions: [created.body.version as number] };
      answered.set(conferenceId, record);
      const joined = await timed('join', token, { conferenceId, userEndpointId, metadata: { name: `client ${index}` } }, 200);
      if (joined) {
        record.commands++;
        record.versions.push(joined.body.version as number);
        if (await timed('leave', token, { conferenceId, userEndpointId, reason: 'bench' }, 204)) record.commands++;
      }
      iterations++;
    }
  };

  const start = performance.now();
  await Promise.all(options.tokens.map((t, i) => client(i, t)));
  return { clients: options.tokens.length, iterations, commands, errors, firstError, wallMs: performance.now() - start, latency, answered };
}

/**
 * Nothing lost or reordered: reads each conference's feed from its start and checks that its
 * versions run 1, 2, 3… without a gap or a repeat, that it holds an event for every answered
 * command (each command of the load appends one), and that every version an answer named is
 * there. Answers what is wrong, if anything (the bench then fails).
 */
export async function verifyConferences(baseUrl: string, answered: Map<string, AnsweredConference>, parallel = 16): Promise<{ checked: number; events: number; problems: string[] }> {
  const problems: string[] = [];
  const queue = [...answered];
  let events = 0;
  const worker = async () => {
    for (let next = queue.pop(); next; next = queue.pop()) {
      const [conferenceId, a] = next;
      const feed = await call(baseUrl, a.token, 'GET', `/conferences/${conferenceId}/events?v=0`);
      const versions = Array.isArray(feed.body) ? (feed.body as Array<{ conferenceVersion: number }>).map((e) => e.conferenceVersion) : [];
      events += versions.length;
      if (feed.status !== 200) problems.push(`${conferenceId}: feed answered HTTP ${feed.status}`);
      else if (versions.some((v, i) => v !== i + 1)) problems.push(`${conferenceId}: versions ${versions.join(',')} are not 1..${versions.length}`);
      else if (versions.length < a.commands) problems.push(`${conferenceId}: ${a.commands} commands answered, ${versions.length} events stored`);
      else if (a.versions.some((v) => !versions.includes(v))) problems.push(`${conferenceId}: answered versions ${a.versions.join(',')}, stored ${versions.join(',')}`);
    }
  };
  await Promise.all(Array.from({ length: parallel }, worker));
  return { checked: answered.size, events, problems };
}

export interface InsertResult {
  clients: number;
  inserts: number;
  wallMs: number;
  latency: Samples;
}

/** A table shaped like a small event store row: a text key and a jsonb payload. */
export async function prepareBaseline(url: string): Promise<void> {
  const pool = new Pool({ connectionString: url, max: 1 });
  try {
    await pool.query(`CREATE TABLE bench_inserts (
      id bigserial PRIMARY KEY,
      stream_id text NOT NULL,
      data jsonb NOT NULL,
      created_at timestamptz NOT NULL DEFAULT now()
    )`);
  } finally {
    await pool.end();
  }
}

/**
 * `total` single-row INSERTs through a node-postgres Pool of `clients` connections, `clients`
 * callers at a time, each INSERT its own autocommit transaction (one commit, one WAL flush).
 */
export async function insertLoad(url: string, clients: number, total: number): Promise<InsertResult> {
  const pool = new Pool({ connectionString: url, max: clients });
  try {
    // Open every connection first: the measurement is of inserts, not of connecting.
    await Promise.all(Array.from({ length: clients }, () => pool.query('SELECT 1')));
    const { wallMs, latency } = await timedCalls(clients, total, async (w) => {
      const data = { type: 'ConferenceJoinedEvent', schemaVersion: 1, participant: { id: `ep-${w}`, userId: `user-${w}`, metadata: { name: `client ${w}` } }, at: new Date().toISOString() };
      await pool.query('INSERT INTO bench_inserts (stream_id, data) VALUES ($1, $2)', [`conference-${randomUUID()}`, data]);
    });
    return { clients, inserts: latency.count, wallMs, latency };
  } finally {
    await pool.end();
  }
}

export interface LongPollResult {
  samples: number;
  /** Long-poll response arrived − command sent. */
  fromSent: Samples;
  /** Long-poll response arrived − command response arrived (negative when the poll answered first). */
  fromCommandResponse: Samples;
  /** The committing command's own round trip. */
  command: Samples;
  /** How often the long poll answered before the command's response arrived. */
  pollFirst: number;
}

/**
 * A waiter parks on GET /conferences/{id}/events?v=N (the conference's current version), then,
 * after `parkMs`, another client commits the next event (alternately a join and a leave of the
 * same endpoint, so the conference stays small). The poll must answer with version N+1.
 */
export async function longPollLatency(baseUrl: string, waiterToken: string, committerToken: string, samples: number, parkMs: number, deadline: number): Promise<LongPollResult> {
  const created = await call(baseUrl, committerToken, 'POST', '/conferences/create', { creatorEndpoint: 'ep-host', metadata: { topic: 'long-poll' } });
  if (created.status !== 200) throw new Error(`create failed: HTTP ${created.status} ${JSON.stringify(created.body)}`);
  const conferenceId = created.body.id as string;
  let version = created.body.version as number;
  const result: LongPollResult = { samples: 0, fromSent: new Samples(), fromCommandResponse: new Samples(), command: new Samples(), pollFirst: 0 };

  for (let i = 0; i < samples && performance.now() < deadline; i++) {
    const waiting = call(baseUrl, waiterToken, 'GET', `/conferences/${conferenceId}/events?v=${version}`);
    await sleep(parkMs); // the request is parked in the gateway
    const kind = i % 2 === 0 ? 'join' : 'leave';
    const sent = performance.now();
    const cmd = await call(baseUrl, committerToken, 'POST', `/conferences/${kind}`, { conferenceId, userEndpointId: 'ep-guest' });
    if (cmd.status !== (kind === 'join' ? 200 : 204)) throw new Error(`${kind} failed: HTTP ${cmd.status} ${JSON.stringify(cmd.body)}`);
    const poll = await waiting;
    const versions = Array.isArray(poll.body) ? poll.body.map((e: { conferenceVersion: number }) => e.conferenceVersion) : poll.body;
    if (poll.status !== 200 || JSON.stringify(versions) !== JSON.stringify([version + 1])) {
      throw new Error(`long poll ?v=${version} answered HTTP ${poll.status} ${JSON.stringify(versions)}, expected [${version + 1}]`);
    }
    version++;
    result.samples++;
    result.fromSent.add(poll.at - sent);
    result.fromCommandResponse.add(poll.at - cmd.at);
    result.command.add(cmd.at - sent);
    if (poll.at < cmd.at) result.pollFirst++;
  }
  return result;
}
