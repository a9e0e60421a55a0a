import { Controller, Inject } from '@nestjs/common';
import { MessagePattern, Payload } from '@nestjs/microservices';
import { Client } from 'pg';
import { type NatsConnection, connect } from 'nats';
import { DEAD_LETTER_STREAM, EVENTS_SUBJECT_ROOT, type RequestContext, type ServiceHealth } from '@parley/contracts';
import type { Decider, SqlExecutor } from '@parley/eventsourcing';
import { CallerAssertions, NatsRpcClient, callerIdentity, identityEnvironments, identitySettings, listDeadLetters, readSettings, replayDeadLetter } from '@parley/messaging';
import { type NatsServerHandle, type PostgresHandle, startNats, startPostgres, waitFor } from '@parley/testing';
import { Aggregate } from './aggregate';
import { eventConsumer, skip } from './consumers';
import { KIT, type Kit } from './kit';
import { type StateProjection, companionOf, eventProjection, jetStreamProjection, stateProjection, tableOf } from './projections';
import { askProjectionAdmin } from './projection-admin';
import { type RunningService, type ServiceDefinition, defineService, startService } from './service';
import { int } from '@parley/messaging';

/*
 * A small service on the kit, as the next services will be written: a counter aggregate, its
 * state projection, a consumer of its own events. Real NATS and PostgreSQL.
 */
type CounterEvent = { type: 'CounterAdded'; schemaVersion: 1; data: { counterId: string; organizationId: string; n: number } } | { type: 'CounterReset'; schemaVersion: 1; data: { counterId: string; organizationId: string } };
interface CounterState {
  version: number;
  counterId: string;
  organizationId: string;
  total: number;
}
type CounterCommand = { kind: 'add'; counterId: string; organizationId: string; n: number };

const counterDecider: Decider<CounterCommand, CounterEvent, CounterState> = {
  initialState: () => ({ version: 0, counterId: '', organizationId: '', total: 0 }),
  decide: (cmd) => [{ type: 'CounterAdded', schemaVersion: 1, data: { counterId: cmd.counterId, organizationId: cmd.organizationId, n: cmd.n } }],
  evolve: (s, e) => ({ version: s.version + 1, counterId: e.data.counterId, organizationId: e.data.organizationId, total: e.type === 'CounterAdded' ? s.total + e.data.n : 0 }),
};

const settings = { cacheSize: int('KITTEST_CACHE_SIZE', 100, 'counters kept in memory') };
type TestKit = Kit<typeof settings>;

/** Version 1 keeps the total; version 2 also the number of additions (a new column: a new table, built beside). */
const countersV1 = stateProjection<CounterState>({
  name: 'kittest_counters',
  version: 1,
  context: 'counter',
  schema: (t) => [`create table ${t} (organization_id text, counter_id text, total int not null, version int not null, primary key (organization_id, counter_id))`],
  initialState: counterDecider.initialState,
  evolve: (s, e) => counterDecider.evolve(s, e as CounterEvent),
  save: async (sql: SqlExecutor, t: string, s: CounterState) => {
    await sql.query(
      `insert into ${t} values ($1, $2, $3, $4) on conflict (organization_id, counter_id) do update set total = excluded.total, version = excluded.version where ${t}.version < excluded.version`,
      [s.organizationId, s.counterId, s.total, s.version],
    );
  },
});
/** Version 2 adds a column, and a companion table: each organization's number of counters. */
const countersV2 = (beforeEachRow: () => Promise<void>): StateProjection<CounterState> => ({
  ...countersV1,
  version: 2,
  companions: ['orgs'],
  schema: (t) => [
    `create table ${t} (organization_id text, counter_id text, total int not null, additions int not null, version int not null, primary key (organization_id, counter_id))`,
    `create table ${companionOf(t, 'orgs')} (organization_id text primary key, counters int not null)`,
  ],
  save: async (sql, t, s) => {
    await beforeEachRow();
    const { rows } = await sql.query(
      `insert into ${t} values ($1, $2, $3, $4, $5) on conflict (organization_id, counter_id) do update set total = excluded.total, additions = excluded.additions, version = excluded.version where ${t}.version < excluded.version
       returning (xmax = 0) as created`,
      [s.organizationId, s.counterId, s.total, s.version, s.version],
    );
    if ((rows[0] as { created?: boolean } | undefined)?.created) {
      await sql.query(`insert into ${companionOf(t, 'orgs')} as o values ($1, 1) on conflict (organization_id) do update set counters = o.counters + 1`, [s.organizationId]);
    }
  },
});

/** An after-commit projection: a log of the additions, written by its projector after each commit. */
const additions = eventProjection({
  name: 'kittest_additions',
  version: 1,
  mode: 'after-commit',
  eventTypes: ['CounterAdded'],
  schema: (t) => [`create table ${t} (event_id uuid primary key, counter_id text not null, n int not null)`],
  apply: async (sql, t, e) => {
    const d = e.data as { counterId: string; n: number };
    await sql.query(`insert into ${t} values ($1, $2, $3)`, [e.eventId, d.counterId, d.n]);
  },
});

/** A jetstream projection of the counters' own events (standing for another service's), and what its `then` saw. */
const tallied: string[] = [];
/** A counter whose event the tally fails to apply, once (a transient failure: a lock timeout, a lost connection). */
let tallyFailsOnce: string | undefined;
const tally = jetStreamProjection<string>({
  name: 'kittest_tally',
  version: 1,
  subject: `${EVENTS_SUBJECT_ROOT}.counter.>`,
  eventTypes: ['CounterAdded'],
  schema: (t) => [`create table ${t} (seq serial primary key, event_id uuid not null, counter_id text not null)`],
  apply: async (sql, t, e) => {
    const { counterId } = e.data as { counterId: string };
    if (counterId === tallyFailsOnce) {
      tallyFailsOnce = undefined;
      throw new Error(`the tally failed on ${counterId}, once`);
    }
    await sql.query(`insert into ${t} (event_id, counter_id) values ($1, $2)`, [e.eventId, counterId]);
    return e.eventId;
  },
  then: async (_e, eventId) => void tallied.push(eventId),
});

const handled: string[] = [];
let consumerBroken = false;

@Controller()
class CounterController {
  private readonly counters: Aggregate<CounterCommand, CounterEvent, CounterState>;
  constructor(@Inject(KIT) kit: TestKit) {
    this.counters = new Aggregate(kit, { context: 'counter', decider: counterDecider, cacheSize: kit.settings.cacheSize, tooManyConflicts: () => new Error('conflict') });
  }

  @MessagePattern('parley.kittest.cmd.add')
  async add(@Payload() cmd: CounterCommand): Promise<number> {
    const { state } = await this.counters.execute(cmd.organizationId, cmd.counterId, cmd, { correlationId: 'c', causationId: 'c', userId: 'u', time: new Date().toISOString() });
    return state.total;
  }
}

const counterService = (projection: StateProjection<CounterState>, retired?: string[]): ServiceDefinition<typeof settings> =>
  defineService({
    name: 'kittest',
    // The client here stands for the gateway: the one whose signed callers this service takes.
    callers: ['client'],
    settings,
    eventStore: { projections: [projection, additions, tally], ...(retired ? { retired } : {}) },
    controllers: [CounterController],
    consumers: () => [
      eventConsumer<CounterEvent>({
        name: 'kittest-audit',
        subject: `${EVENTS_SUBJECT_ROOT}.counter.>`,
        maxDeliver: 2,
        backoffMs: [10],
        handlers: {
          CounterAdded: async (e) => {
            if (consumerBroken && e.data.n === 13) throw new Error(`unlucky ${e.data.counterId}`);
            handled.push(`${e.data.counterId}+${e.data.n}`);
          },
          CounterReset: skip,
        },
      }),
    ],
  });

describe('a service on the kit', () => {
  let nats: NatsServerHandle;
  let pg: PostgresHandle;
  let databaseUrl: string;
  let nc: NatsConnection;
  let service: RunningService<typeof settings> | undefined;
  // The service's key, and a client's it trusts (as the gateway's is trusted): requests carry a signed caller.
  const identities = identityEnvironments(['kittest', 'client', 'operator']);
  const operator = new CallerAssertions(callerIdentity('operator', readSettings(identitySettings, identities.operator), []));
  let rpc: NatsRpcClient;
  const caller: RequestContext = { actor: { userId: 'u-1', organizationId: 'org-1', roles: ['AGENT'] }, correlationId: 'c', causationId: 'c' };
  const env = () => ({ PARLEY_MODE: 'development', NATS_URL: nats.url, DATABASE_URL: databaseUrl, LOG_LEVEL: 'error', RELAY_POLL_MS: '50', ...identities.kittest });
  const add = (counterId: string, n: number) => rpc.request<number>('parley.kittest.cmd.add', { kind: 'add', counterId, organizationId: 'org-1', n }, caller, { timeoutMs: 5000 });
  const query = async <R>(text: string) => {
    const client = new Client({ connectionString: databaseUrl });
    await client.connect();
    try {
      return (await client.query(text)).rows as R[];
    } finally {
      await client.end();
    }
  };
  const publicTables = async () => (await query<{ table_name: string }>(`select table_name from information_schema.tables where table_schema = 'public' and table_name like 'kittest_counters%' order by 1`)).map((r) => r.table_name);

  beforeAll(async () => {
    nats = await startNats();
    pg = await startPostgres();
    databaseUrl = await pg.createDatabase();
    nc = await connect({ servers: nats.url });
    rpc = new NatsRpcClient(nc, new CallerAssertions(callerIdentity('client', readSettings(identitySettings, identities.client))));
  });
  afterAll(async () => {
    await service?.close();
    await nc?.close();
    await pg?.stop();
    await nats?.stop();
  });

  it('writes its state projection with each command, and a new version is built beside the live table and swapped in whole', async () => {
    service = await startService(counterService(countersV1), { env: env() });
    expect(await add('a', 2)).toBe(2);
    expect(await add('a', 3)).toBe(5);
    expect(await add('b', 7)).toBe(7);
    expect(await query(`select counter_id, total from ${tableOf(countersV1)} order by 1`)).toEqual([
      { counter_id: 'a', total: 5 },
      { counter_id: 'b', total: 7 },
    ]);
    await service.close();

    // A companion its schema does not create stops the start, naming it; v1 stays live.
    const forgetful = countersV2(async () => undefined);
    await expect(startService(counterService({ ...forgetful, schema: (t) => forgetful.schema(t).slice(0, 1) }), { env: env() })).rejects.toThrow(
      /projection kittest_counters: its schema\(\) does not create kittest_counters_v2_orgs/,
    );
    expect(await publicTables()).toEqual(['kittest_counters_v1']);

    // Version 2: its build is held half way; meanwhile v1 is the live table and v2 is not served.
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    let rowsBuilt = 0;
    const starting = startService(
      counterService(
        countersV2(async () => {
          if (++rowsBuilt === 2) await held;
        }),
      ),
      { env: env() },
    );
    await waitFor(() => rowsBuilt === 2, { description: 'the v2 build half way' });
    expect(await publicTables()).toEqual(['kittest_counters_v1']);
    expect(await query(`select count(*)::int as n from parley_build.kittest_counters_v2`)).toEqual([{ n: 0 }]); // its first page is not committed yet
    release();
    service = await starting;
    // The table and its companion are swapped in together, v1 dropped.
    expect(await publicTables()).toEqual(['kittest_counters_v2', 'kittest_counters_v2_orgs']);
    expect(await query(`select organization_id, counters from kittest_counters_v2_orgs`)).toEqual([{ organization_id: 'org-1', counters: 2 }]);
    expect(await query(`select counter_id, total, additions from kittest_counters_v2 order by 1`)).toEqual([
      { counter_id: 'a', total: 5, additions: 2 },
      { counter_id: 'b', total: 7, additions: 1 },
    ]);
    expect(await query(`select name, version, table_name from projections where name = 'kittest_counters'`)).toEqual([{ name: 'kittest_counters', version: 2, table_name: 'kittest_counters_v2' }]);
    expect(await add('b', 1)).toBe(8);
    expect(await add('c', 1)).toBe(1);
    expect(await query(`select total, additions from kittest_counters_v2 where counter_id = 'b'`)).toEqual([{ total: 8, additions: 2 }]);
    expect(await query(`select counters from kittest_counters_v2_orgs`)).toEqual([{ counters: 3 }]);
    // A companion that is missing makes the next start build both again; a retired projection's tables and registry row go.
    await service.close();
    await query('drop table kittest_counters_v2_orgs');
    await query(`create table kittest_gone_v3 (n int); create table kittest_gone_v3_hours (n int); insert into projections (name, version, table_name) values ('kittest_gone', 3, 'kittest_gone_v3')`);
    await expect(startService(counterService(countersV2(async () => undefined), ['kittest_counters']), { env: env() })).rejects.toThrow(/kittest_counters is retired, and its tables' names take in a live projection's/);
    service = await startService(counterService(countersV2(async () => undefined), ['kittest_gone']), { env: env() });
    expect(await query(`select table_name from information_schema.tables where table_name like 'kittest_gone%'`)).toEqual([]);
    expect(await query(`select name from projections where name = 'kittest_gone'`)).toEqual([]);
    expect(await publicTables()).toEqual(['kittest_counters_v2', 'kittest_counters_v2_orgs']);
    expect(await query(`select counters from kittest_counters_v2_orgs`)).toEqual([{ counters: 3 }]);
  });

  it('keeps an after-commit projection current from its own checkpoint, and its rebuild equals it', async () => {
    await add('e', 4);
    await add('e', 6);
    const log = () => query<{ counter_id: string; n: number }>(`select counter_id, n from kittest_additions_v1 order by counter_id, n`);
    await waitFor(async () => (await log()).filter((r) => r.counter_id === 'e').length === 2, { description: 'the additions of e' });
    const live = await query(`select * from kittest_additions_v1 order by event_id`);
    expect(live).toHaveLength(7); // a+2, a+3, b+7, b+1, c+1, e+4, e+6
    const ask = (request: { action: string; name?: string }, signer: CallerAssertions = operator) => askProjectionAdmin(nc, signer, 'kittest', request, 30_000);
    // Only the operator: a rebuild asked by anyone else is refused and done by nobody.
    expect(await ask({ action: 'list' }, new CallerAssertions(callerIdentity('client', readSettings(identitySettings, identities.client), [])))).toEqual({
      ok: false,
      error: expect.stringMatching(/client does not call kittest/),
    });
    expect(await ask({ action: 'rebuild', name: 'kittest_additions' })).toMatchObject({ ok: true, events: 7 });
    expect(await query(`select * from kittest_additions_v1 order by event_id`)).toEqual(live);
    await add('e', 1);
    await waitFor(async () => (await log()).length === 8, { description: 'the projector going on after the rebuild' });
  });

  it('applies a burst of another stream\'s events to a jetstream projection each once, in stream order, with its checkpoint at the last; then runs once for each, in the same order', async () => {
    const burst = Array.from({ length: 40 }, (_, i) => `burst-${i}`);
    await Promise.all(burst.map((id) => add(id, 1)));
    const rows = () => query<{ event_id: string; counter_id: string }>(`select event_id, counter_id from kittest_tally_v1 where counter_id like 'burst-%' order by seq`);
    await waitFor(async () => (await rows()).length >= burst.length, { description: 'the burst in the tally' });
    const applied = await rows();
    expect(applied.map((r) => r.counter_id).sort()).toEqual([...burst].sort());
    const jsm = await nc.jetstreamManager();
    const { state } = await jsm.streams.info('PARLEY_EVENTS', { subjects_filter: `${EVENTS_SUBJECT_ROOT}.counter.>` });
    // In stream order: the JetStream sequence of each event, as the tally applied them, rises.
    const sequences = await Promise.all(applied.map(async (r) => (await jsm.streams.getMessage('PARLEY_EVENTS', { last_by_subj: `${EVENTS_SUBJECT_ROOT}.counter.org-1.${r.counter_id}.CounterAdded` })).seq));
    expect(sequences).toEqual([...sequences].sort((a, b) => a - b));
    await waitFor(async () => Number((await query<{ stream_sequence: string }>(`select stream_sequence from projections where name = 'kittest_tally'`))[0].stream_sequence) === state.last_seq, { description: 'the checkpoint at the last event' });
    expect(tallied.filter((id) => applied.some((r) => r.event_id === id))).toEqual(applied.map((r) => r.event_id));
  });

  it('a jetstream projection that fails once on an event applies it when it comes again, before the events after it: none is skipped, the order kept', async () => {
    tallyFailsOnce = 'flaky-2';
    const ids = Array.from({ length: 6 }, (_, i) => `flaky-${i}`);
    for (const id of ids) await add(id, 1);
    const rows = () => query<{ counter_id: string }>(`select counter_id from kittest_tally_v1 where counter_id like 'flaky-%' order by seq`);
    await waitFor(async () => (await rows()).length === ids.length, { description: 'every event in the tally', timeoutMs: 15_000 });
    expect(tallyFailsOnce).toBeUndefined(); // it did fail
    expect((await rows()).map((r) => r.counter_id)).toEqual(ids);
  });

  it('dead-letters an event its consumer keeps failing on, with the error, and a replay delivers it once the handler is fixed', async () => {
    consumerBroken = true;
    await add('c', 13);
    await add('c', 1);
    await waitFor(async () => (await listDeadLetters(nc, { consumer: 'kittest-audit' })).length === 1, { description: 'the dead letter' });
    const [dead] = await listDeadLetters(nc, { consumer: 'kittest-audit' });
    expect(dead).toMatchObject({ consumer: 'kittest-audit', subject: expect.stringMatching(/^parley\.evt\.counter\.org-1\.c\.CounterAdded$/), deliveries: 2, error: 'unlucky c' });
    await waitFor(() => handled.includes('c+1'), { description: 'the event after it' });
    expect(handled).not.toContain('c+13');

    expect(await replayDeadLetter(nc, operator, dead.sequence)).toEqual({ ok: false, error: 'unlucky c' });
    expect(await listDeadLetters(nc)).toHaveLength(1); // still kept
    consumerBroken = false;
    expect(await replayDeadLetter(nc, operator, dead.sequence)).toEqual({ ok: true });
    expect(handled.filter((h) => h === 'c+13')).toEqual(['c+13']);
    expect((await (await nc.jetstreamManager()).streams.info(DEAD_LETTER_STREAM)).state.messages).toBe(0);
  });

  it('dead-letters at once an event of a type its consumer does not know (a newer producer)', async () => {
    const js = nc.jetstream();
    const unknown = { globalPosition: '1', transactionId: '1', streamId: 'counter/org-1/d', streamVersion: 1, eventId: '7f0c7a8e-8d0f-4d52-9f35-2b0c6f1f9a11', type: 'CounterRenamed', schemaVersion: 1, data: {}, metadata: { correlationId: 'c', causationId: 'c', userId: 'u', organizationId: 'org-1', time: new Date().toISOString() }, createdAt: new Date().toISOString() };
    await js.publish(`${EVENTS_SUBJECT_ROOT}.counter.org-1.d.CounterRenamed`, JSON.stringify(unknown));
    await waitFor(async () => (await listDeadLetters(nc, { consumer: 'kittest-audit' })).length === 1, { description: 'the dead letter' });
    expect((await listDeadLetters(nc, { consumer: 'kittest-audit' }))[0]).toMatchObject({ deliveries: 1, error: 'consumer kittest-audit has no handler for CounterRenamed (schema version 1)' });
  });

  it('answers its health with its database, its relay and its lag', async () => {
    const health = await rpc.request<ServiceHealth>('parley.kittest.qry.health', {}, caller, { timeoutMs: 5000 });
    expect(health).toMatchObject({ status: 'ok', service: 'kittest', database: { status: 'up' }, relay: { status: 'up', deadLetters: 0 } });
    expect(typeof health.relay?.lag).toBe('number');
  });
});
