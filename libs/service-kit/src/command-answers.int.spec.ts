import { randomUUID } from 'node:crypto';
import { Controller, Inject } from '@nestjs/common';
import { Ctx, MessagePattern, NatsContext, Payload } from '@nestjs/microservices';
import { Client } from 'pg';
import { type NatsConnection, connect } from 'nats';
import { ParleyError, type RequestContext } from '@parley/contracts';
import type { Decider } from '@parley/eventsourcing';
import { CallerAssertions, NatsRpcClient, callerIdentity, identityEnvironments, identitySettings, int, readSettings, requestContextOf } from '@parley/messaging';
import { type NatsServerHandle, type PostgresHandle, startNats, startPostgres, waitFor } from '@parley/testing';
import { Aggregate } from './aggregate';
import { CommandAnswers } from './command-answers';
import { KIT, type Kit } from './kit';
import { type RunningService, defineService, startService } from './service';

/*
 * Idempotent commands on the kit (command-answers.ts), on a small service: a tally aggregate whose
 * commands answer from their outcome. Real NATS and PostgreSQL; two replicas where it matters.
 */
type TallyEvent = { type: 'Tallied'; schemaVersion: 1; data: { n: number } };
interface TallyState {
  version: number;
  total: number;
}
type TallyCommand = { n: number };
const tallyDecider: Decider<TallyCommand, TallyEvent, TallyState> = {
  initialState: () => ({ version: 0, total: 0 }),
  decide: (cmd) => {
    if (cmd.n < 0) throw new ParleyError('CONFLICT', `cannot take away ${-cmd.n}`);
    return cmd.n === 0 ? [] : [{ type: 'Tallied', schemaVersion: 1, data: { n: cmd.n } }];
  },
  evolve: (s, e) => ({ version: s.version + 1, total: s.total + e.data.n }),
};

const settings = { cacheSize: int('TXTEST_CACHE_SIZE', 100, 'tallies kept in memory') };
/** Holds an `add` with `hold: true` in its `before` step until the test lets it go. */
let gate: Promise<void> = Promise.resolve();
let handled = 0;
/** `before` steps undone (abandon): what a losing attempt did is undone. */
let abandoned = 0;

@Controller()
class TallyController {
  private readonly tallies: Aggregate<TallyCommand, TallyEvent, TallyState>;
  constructor(@Inject(KIT) kit: Kit<typeof settings>) {
    this.tallies = new Aggregate(kit, { context: 'tally', decider: tallyDecider, cacheSize: kit.settings.cacheSize, tooManyConflicts: () => new ParleyError('CONFLICT', 'busy') });
  }

  private add(id: string, n: number, nats: NatsContext, options: { expectedVersion?: number; hold?: boolean } = {}) {
    const ctx = requestContextOf(nats);
    handled++;
    return this.tallies.execute(
      ctx.actor.organizationId,
      id,
      { n },
      { correlationId: ctx.correlationId, causationId: ctx.causationId, userId: ctx.actor.userId, time: new Date().toISOString() },
      {
        expectedVersion: options.expectedVersion,
        before: async () => {
          if (options.hold) await gate;
        },
        abandon: async () => {
          abandoned++;
        },
        answer: ({ state }) => ({ tallyId: id, total: state.total, version: state.version }),
      },
    );
  }

  @MessagePattern('parley.txtest.cmd.add')
  async addTo(@Payload() b: { tallyId: string; n: number; expectedVersion?: number; hold?: boolean }, @Ctx() nats: NatsContext) {
    return (await this.add(b.tallyId, b.n, nats, b)).answer;
  }

  /** A new tally with a server-chosen id. */
  @MessagePattern('parley.txtest.cmd.open')
  async open(@Payload() b: { n: number }, @Ctx() nats: NatsContext) {
    return (await this.add(randomUUID(), b.n, nats)).answer;
  }

  /** A command that stores nothing: answers a fresh number each time it runs. */
  @MessagePattern('parley.txtest.cmd.draw')
  draw(): number {
    handled++;
    return Math.random();
  }

  @MessagePattern('parley.txtest.qry.draw')
  drawQuery(): number {
    return Math.random();
  }
}

const tallyService = defineService({ name: 'txtest', callers: ['client'], settings, eventStore: { projections: [] }, controllers: [TallyController] });

describe('idempotent commands (X-Auvious-TransactionId) on the kit', () => {
  let nats: NatsServerHandle;
  let pg: PostgresHandle;
  let databaseUrl: string;
  let nc: NatsConnection;
  let rpc: NatsRpcClient;
  const replicas: RunningService<typeof settings>[] = [];
  let now = Date.now();
  const clock = { now: () => now };
  const identities = identityEnvironments(['txtest', 'client']);
  const env = () => ({ PARLEY_MODE: 'development', NATS_URL: nats.url, DATABASE_URL: databaseUrl, LOG_LEVEL: 'error', TRANSACTION_RETENTION_MS: String(3600_000), ...identities.txtest });
  const as = (userId: string, transactionId?: string, organizationId = 'org-1'): RequestContext => ({
    actor: { userId, organizationId, roles: ['AGENT'] },
    correlationId: randomUUID(),
    causationId: randomUUID(),
    ...(transactionId !== undefined ? { transactionId } : {}),
  });
  const send = <T>(subject: string, body: unknown, ctx: RequestContext) => rpc.request<T>(subject, body, ctx, { timeoutMs: 5000 });
  const outcome = <T>(p: Promise<T>) => p.then((value) => ({ value }), (e: ParleyError) => ({ error: { code: e.code, message: e.message } }));
  const sql = async <R>(text: string, params: unknown[] = []) => {
    const client = new Client({ connectionString: databaseUrl });
    await client.connect();
    try {
      return (await client.query(text, params)).rows as R[];
    } finally {
      await client.end();
    }
  };
  const eventsOf = async (tallyId: string) => (await sql<{ event_id: string }>(`select event_id from events where stream_id like $1 order by stream_version`, [`tally/%/${tallyId}`])).map((r) => r.event_id);

  beforeAll(async () => {
    nats = await startNats();
    pg = await startPostgres();
    databaseUrl = await pg.createDatabase();
    nc = await connect({ servers: nats.url });
    // The client forwards transaction ids, as the gateway does.
    rpc = new NatsRpcClient(nc, new CallerAssertions(callerIdentity('client', readSettings(identitySettings, identities.client))), { forwardTransactionIds: true });
    replicas.push(await startService(tallyService, { env: env(), clock }));
  });
  afterAll(async () => {
    for (const r of replicas) await r.close();
    await nc?.close();
    await pg?.stop();
    await nats?.stop();
  });

  it('answers a retry with the first answer and appends nothing; event ids derive from the transaction id', async () => {
    const first = await send('parley.txtest.cmd.add', { tallyId: 't1', n: 2 }, as('u-1', 'tx-1'));
    const again = await send('parley.txtest.cmd.add', { n: 2, tallyId: 't1' }, as('u-1', 'tx-1')); // keys in another order: the same body
    expect(first).toEqual({ tallyId: 't1', total: 2, version: 1 });
    expect(again).toEqual(first);
    const ids = await eventsOf('t1');
    expect(ids).toHaveLength(1);
    // Without a transaction id every command runs: random ids, a new event each time.
    await send('parley.txtest.cmd.add', { tallyId: 't1', n: 2 }, as('u-1'));
    await send('parley.txtest.cmd.add', { tallyId: 't1', n: 2 }, as('u-1'));
    expect(await eventsOf('t1')).toHaveLength(3);
    // The same key decides the same ids: another database's run of tx-1 would write the same id.
    const [{ event_id }] = await sql<{ event_id: string }>(`select event_id from events where stream_id like 'tally/%/t1' and stream_version = 1`);
    expect(event_id).toBe(ids[0]);
    expect(event_id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-/); // a UUIDv5
  });

  it('refuses the same transaction id with another body or another command, and changes nothing', async () => {
    await send('parley.txtest.cmd.add', { tallyId: 't2', n: 1 }, as('u-1', 'tx-2'));
    await expect(send('parley.txtest.cmd.add', { tallyId: 't2', n: 5 }, as('u-1', 'tx-2'))).rejects.toMatchObject({ code: 'UNPROCESSABLE', message: /tx-2 was used for another request/ });
    await expect(send('parley.txtest.cmd.draw', {}, as('u-1', 'tx-2'))).rejects.toMatchObject({ code: 'UNPROCESSABLE' });
    expect(await eventsOf('t2')).toHaveLength(1);
  });

  it('keys answers by organization and caller: another caller with the same transaction id runs its own command', async () => {
    const mine = await send<{ total: number }>('parley.txtest.cmd.add', { tallyId: 't3', n: 1 }, as('u-1', 'tx-3'));
    const theirs = await send<{ total: number }>('parley.txtest.cmd.add', { tallyId: 't3', n: 1 }, as('u-2', 'tx-3'));
    const otherOrg = await send<{ total: number }>('parley.txtest.cmd.add', { tallyId: 't3', n: 1 }, as('u-1', 'tx-3', 'org-2'));
    expect([mine.total, theirs.total, otherOrg.total]).toEqual([1, 2, 1]);
    expect(await eventsOf('t3')).toHaveLength(3);
  });

  it('makes a concurrent retry wait for the first attempt and answer what it answered', async () => {
    let open!: () => void;
    gate = new Promise<void>((r) => (open = r));
    const before = handled;
    const attempts = [0, 1, 2, 3, 4].map(() => outcome(send('parley.txtest.cmd.add', { tallyId: 't4', n: 3, hold: true }, as('u-1', 'tx-4'))));
    await waitFor(() => handled > before, { description: 'the first attempt running' });
    open();
    const answers = await Promise.all(attempts);
    expect(handled - before).toBe(1); // the others never ran
    expect(new Set(answers.map((a) => JSON.stringify(a))).size).toBe(1);
    expect(answers[0]).toEqual({ value: { tallyId: 't4', total: 3, version: 1 } });
    expect(await eventsOf('t4')).toHaveLength(1);
  });

  it('a create with a server-chosen id answers the same id to a retry', async () => {
    const first = await send<{ tallyId: string }>('parley.txtest.cmd.open', { n: 4 }, as('u-1', 'tx-5'));
    expect(await send('parley.txtest.cmd.open', { n: 4 }, as('u-1', 'tx-5'))).toEqual(first);
    expect(await eventsOf(first.tallyId)).toHaveLength(1);
    expect(await sql(`select count(*)::int as n from events where stream_id like 'tally/%' and data->>'n' = '4'`)).toEqual([{ n: 1 }]);
  });

  it('keeps the answer of a command that stores nothing, and a refusal a retry would meet again; queries are not kept', async () => {
    const drawn = await send<number>('parley.txtest.cmd.draw', {}, as('u-1', 'tx-6'));
    expect(await send('parley.txtest.cmd.draw', {}, as('u-1', 'tx-6'))).toBe(drawn);
    const refused = await outcome(send('parley.txtest.cmd.add', { tallyId: 't6', n: -1 }, as('u-1', 'tx-7')));
    expect(refused).toEqual({ error: { code: 'CONFLICT', message: 'cannot take away 1' } });
    const before = handled;
    expect(await outcome(send('parley.txtest.cmd.add', { tallyId: 't6', n: -1 }, as('u-1', 'tx-7')))).toEqual(refused);
    expect(handled).toBe(before);
    const q = await send<number>('parley.txtest.qry.draw', {}, as('u-1', 'tx-8'));
    expect(await send<number>('parley.txtest.qry.draw', {}, as('u-1', 'tx-8'))).not.toBe(q);
  });

  it('a stale expected version is a 409 that changes nothing and is not retried', async () => {
    await send('parley.txtest.cmd.add', { tallyId: 't7', n: 1 }, as('u-1'));
    expect(await send('parley.txtest.cmd.add', { tallyId: 't7', n: 1, expectedVersion: 1 }, as('u-1'))).toMatchObject({ version: 2 });
    await expect(send('parley.txtest.cmd.add', { tallyId: 't7', n: 1, expectedVersion: 1 }, as('u-1'))).rejects.toMatchObject({
      code: 'CONFLICT',
      message: 'tally t7 is at version 2, not 1: it changed since it was read; read it again',
      details: { fields: ['version'], expectedVersion: 1, actualVersion: 2 },
    });
    expect(await eventsOf('t7')).toHaveLength(2);
    // Two commands that read version 2 at once: one is stored, the other is told.
    const both = await Promise.all([1, 2].map(() => outcome(send('parley.txtest.cmd.add', { tallyId: 't7', n: 1, expectedVersion: 2 }, as('u-1')))));
    expect(both.filter((o) => 'value' in o)).toHaveLength(1);
    expect(both.filter((o) => 'error' in o && o.error.code === 'CONFLICT')).toHaveLength(1);
    expect(await eventsOf('t7')).toHaveLength(3);
  });

  it('two replicas on one database: attempts of one transaction id store one event and all answer the same', async () => {
    replicas.push(await startService(tallyService, { env: env(), clock }));
    for (let round = 0; round < 5; round++) {
      const tx = `tx-replicas-${round}`;
      const answers = await Promise.all(Array.from({ length: 8 }, () => outcome(send('parley.txtest.cmd.add', { tallyId: `t8-${round}`, n: 1 }, as('u-1', tx)))));
      expect(new Set(answers.map((a) => JSON.stringify(a))).size).toBe(1);
      expect(answers[0]).toEqual({ value: { tallyId: `t8-${round}`, total: 1, version: 1 } });
      expect(await eventsOf(`t8-${round}`)).toHaveLength(1);
    }
    // Both replicas past their first check and their decision at once: the second append meets the
    // first's events under the same ids at the same versions (the store's idempotent append).
    let open!: () => void;
    gate = new Promise<void>((r) => (open = r));
    const before = handled;
    const abandonedBefore = abandoned;
    const attempts = Array.from({ length: 16 }, () => outcome(send('parley.txtest.cmd.add', { tallyId: 't8-raced', n: 1, hold: true }, as('u-1', 'tx-raced'))));
    await waitFor(() => handled - before === 2, { description: 'one attempt running in each replica' });
    open();
    const answers = await Promise.all(attempts);
    expect(handled - before).toBe(2);
    expect(new Set(answers.map((a) => JSON.stringify(a))).size).toBe(1);
    expect(answers[0]).toEqual({ value: { tallyId: 't8-raced', total: 1, version: 1 } });
    expect(await eventsOf('t8-raced')).toHaveLength(1);
    expect(abandoned - abandonedBefore).toBe(1); // the losing attempt's before step, undone
    await replicas.pop()!.close();
  });

  it('forgets an answer after TRANSACTION_RETENTION_MS: the id then names a new command, and the sweeper removes the old row', async () => {
    await send('parley.txtest.cmd.add', { tallyId: 't9', n: 1 }, as('u-1', 'tx-9'));
    now += 3600_000 + 1;
    expect(await send('parley.txtest.cmd.add', { tallyId: 't9', n: 1 }, as('u-1', 'tx-9'))).toMatchObject({ total: 2 });
    expect(await eventsOf('t9')).toHaveLength(2);
    // The rows older than the window go (the sweeper runs every tenth of it; here, asked directly).
    now += 3600_000 + 1;
    expect(await new CommandAnswers(replicas[0].kit.store, 3600_000, clock).sweep()).toBeGreaterThan(0);
    expect(await sql(`select count(*)::int as n from command_answers where answered_at <= $1`, [new Date(now - 3600_000).toISOString()])).toEqual([{ n: 0 }]);
  });
});
