import { randomUUID } from 'node:crypto';
import { Client } from 'pg';
import { ConferenceCommands } from '@parley/contracts';
import { type Api, Stack } from './support/stack';
import { spawnService } from './support/service-process';

const TX = 'X-Auvious-TransactionId';
const tx = (id: string) => ({ [TX]: id });

/** Safe retries through the gateway: X-Auvious-TransactionId on the conference service's commands. */
describe('retried commands (X-Auvious-TransactionId)', () => {
  let stack: Stack;
  let agent: Api;
  let colleague: Api;

  beforeAll(async () => {
    stack = await Stack.start({ presence: {} });
    agent = await stack.api('rt-agent', 'org-a', ['AGENT']);
    colleague = await stack.api('rt-agent-2', 'org-a', ['AGENT']);
  });
  afterAll(() => stack?.stop());

  const joinEvents = async (conferenceId: string) => (await agent.get(`/conferences/${conferenceId}/events?v=0`)).body.filter((e: { type: string }) => e.type === 'ConferenceJoinedEvent');

  it('a join sent twice with one transaction id, one after the other: one event, identical answers', async () => {
    const { body: conference } = await agent.post('/conferences/create', {});
    const join = { conferenceId: conference.id, userEndpointId: 'ep-1' };
    const id = randomUUID();
    const first = await agent.post('/conferences/join', join, tx(id));
    const second = await agent.post('/conferences/join', join, tx(id));
    expect(first.status).toBe(200);
    expect(first.body).toEqual({ id: conference.id, version: 2, mode: 'ROUTER' });
    expect({ status: second.status, body: second.body }).toEqual({ status: first.status, body: first.body });
    expect(await joinEvents(conference.id)).toHaveLength(1);
    // Without the header a second join is what it always was: the endpoint is joined already.
    expect((await agent.post('/conferences/join', join)).status).toBe(422);
  });

  it('a join sent several times at once with one transaction id: one event, identical answers', async () => {
    const { body: conference } = await agent.post('/conferences/create', {});
    const id = randomUUID();
    const answers = await Promise.all([1, 2, 3, 4, 5].map(() => agent.post('/conferences/join', { conferenceId: conference.id, userEndpointId: 'ep-1' }, tx(id))));
    expect(answers.map((a) => [a.status, a.body])).toEqual(answers.map(() => [200, { id: conference.id, version: 2, mode: 'ROUTER' }]));
    expect(await joinEvents(conference.id)).toHaveLength(1);
  });

  it('the same transaction id with another body, or on another route, is refused with 422 and changes nothing', async () => {
    const { body: conference } = await agent.post('/conferences/create', {});
    const id = randomUUID();
    expect((await agent.post('/conferences/join', { conferenceId: conference.id, userEndpointId: 'ep-1' }, tx(id))).status).toBe(200);
    const other = await agent.post('/conferences/join', { conferenceId: conference.id, userEndpointId: 'ep-2' }, tx(id));
    expect(other.status).toBe(422);
    expect(other.body.message).toBe(`${TX} ${id} was used for another request; a new request needs a new transaction id`);
    const elsewhere = await agent.post('/conferences/leave', { conferenceId: conference.id, userEndpointId: 'ep-1' }, tx(id));
    expect(elsewhere.status).toBe(422);
    expect((await agent.get(`/conferences/${conference.id}`)).body.version).toBe(2);
  });

  it('a create with a server-chosen id answers a retry with the same conference, and makes one', async () => {
    const id = randomUUID();
    const first = await agent.post('/conferences/create', { metadata: { topic: 'retry' } }, tx(id));
    const second = await agent.post('/conferences/create', { metadata: { topic: 'retry' } }, tx(id));
    expect(first.status).toBe(200);
    expect(second.body).toEqual(first.body);
    const mine = (await agent.get('/conferences/active')).body.filter((c: { metadata: { topic?: { value: string } } }) => c.metadata.topic?.value === 'retry');
    expect(mine.map((c: { id: string }) => c.id)).toEqual([first.body.id]);
  });

  it("another caller's transaction id is theirs: the same id answers each caller its own command", async () => {
    const id = randomUUID();
    const mine = await agent.post('/conferences/create', {}, tx(id));
    const theirs = await colleague.post('/conferences/create', {}, tx(id));
    const elsewhere = await (await stack.api('rt-agent', 'org-b', ['AGENT'])).post('/conferences/create', {}, tx(id));
    expect([mine.status, theirs.status, elsewhere.status]).toEqual([200, 200, 200]);
    expect(new Set([mine.body.id, theirs.body.id, elsewhere.body.id]).size).toBe(3);
    // And a refusal is kept as the answer too: the retry meets it again without a second try.
    const ended = await agent.post('/conferences/end', { conferenceId: mine.body.id, userEndpointId: 'ep-x' });
    expect(ended.status).toBe(204);
    const refusedId = randomUUID();
    const refused = await agent.post('/conferences/join', { conferenceId: mine.body.id, userEndpointId: 'ep-1' }, tx(refusedId));
    expect(refused.status).toBe(409);
    expect(await agent.post('/conferences/join', { conferenceId: mine.body.id, userEndpointId: 'ep-1' }, tx(refusedId))).toMatchObject({ status: 409, body: refused.body });
  });

  it('a malformed transaction id is 400 naming the header, before anything is sent', async () => {
    const { body: conference } = await agent.post('/conferences/create', {});
    for (const bad of ['a b', 'x'.repeat(129), '\u00e9']) {
      const res = await agent.post('/conferences/join', { conferenceId: conference.id, userEndpointId: 'ep-1' }, tx(bad));
      expect(res.status).toBe(400);
      expect(res.body.message).toMatch(/X-Auvious-TransactionId must be/);
    }
    expect((await agent.get(`/conferences/${conference.id}`)).body.version).toBe(1);
  });

  it('every command route documents the header; no query does', async () => {
    const doc = (await stack.anonymous().request('GET', '/rtc-api/docs/openapi.json')).body as { paths: Record<string, Record<string, { parameters?: { name: string; in: string }[]; 'x-parley-public'?: boolean }>> };
    const withHeader: string[] = [];
    const without: string[] = [];
    for (const [path, ops] of Object.entries(doc.paths)) {
      for (const [method, op] of Object.entries(ops)) {
        if (op['x-parley-public']) continue;
        (op.parameters?.some((p) => p.in === 'header' && p.name === TX) ? withHeader : without).push(`${method.toUpperCase()} ${path}`);
      }
    }
    expect(withHeader.length).toBeGreaterThanOrEqual(21);
    expect(withHeader.filter((o) => !/^(POST|PUT|PATCH|DELETE) /.test(o))).toEqual([]);
    expect(withHeader).toContain('PATCH /rtc-api/chat-sessions/{id}');
    // The spec's signedUrl routes are POSTs that read (they store nothing): queries.
    expect(without.filter((o) => !o.startsWith('GET ') && !o.endsWith('/signedUrl'))).toEqual([]);
  });
});

/**
 * The conference service killed between the append and the answer (it kills itself with SIGKILL
 * right after the commit: FAULT_CRASH_AFTER_COMMIT), then started again: the retry gets the
 * first attempt's answer, and the store holds the command's events once.
 */
describe('a retry after the conference service died between its commit and its answer', () => {
  let stack: Stack;
  let agent: Api;
  const children: { kill(signal?: NodeJS.Signals): Promise<void> }[] = [];

  beforeAll(async () => {
    stack = await Stack.start({ postgres: true, conference: false, presence: {}, gateway: { rpcTimeoutMs: 3000 } });
    agent = await stack.api('crash-agent', 'org-a', ['AGENT']);
  });
  afterEach(async () => {
    await Promise.all(children.splice(0).map((c) => c.kill('SIGKILL')));
  });
  afterAll(() => stack?.stop());

  const env = async (extra: Record<string, string> = {}) => ({ NATS_URL: stack.nats.url, DATABASE_URL: (await stack.envOf('conference')).DATABASE_URL, ...extra });
  const storedEvents = async (type: string, by: string) => {
    const db = new Client({ connectionString: (await stack.envOf('conference')).DATABASE_URL });
    await db.connect();
    try {
      return (await db.query<{ stream_id: string }>(`select stream_id from events where type = $1 and metadata->>'userId' = $2`, [type, by])).rows;
    } finally {
      await db.end();
    }
  };
  /** Runs `command` against a service that dies right after committing `subject`. */
  const crashOn = async (subject: string, command: () => Promise<{ status: number }>) => {
    const doomed = await spawnService('conference', await env({ FAULT_CRASH_AFTER_COMMIT: subject }));
    children.push(doomed);
    const lost = await command();
    expect(lost.status).toBeGreaterThanOrEqual(500); // the client never heard the answer
    expect(await doomed.exited).toEqual({ code: null, signal: 'SIGKILL' });
  };
  const restart = async () => children.push(await spawnService('conference', await env()));

  it('a join: one event, and the answer of the attempt that died', async () => {
    children.push(await spawnService('conference', await env()));
    const { body: conference } = await agent.post('/conferences/create', {});
    await children.pop()!.kill('SIGTERM');
    const id = randomUUID();
    const join = () => agent.post('/conferences/join', { conferenceId: conference.id, userEndpointId: 'ep-crash' }, tx(id));
    await crashOn(ConferenceCommands.join, join);
    expect(await storedEvents('ConferenceJoinedEvent', 'crash-agent')).toHaveLength(1); // it died after its commit
    await restart();
    const retry = await join();
    expect({ status: retry.status, body: retry.body }).toEqual({ status: 200, body: { id: conference.id, version: 2, mode: 'ROUTER' } });
    expect(await storedEvents('ConferenceJoinedEvent', 'crash-agent')).toHaveLength(1);
  });

  it('a create with a server-chosen id: one conference, and the retry names it', async () => {
    const id = randomUUID();
    const create = () => agent.post('/conferences/create', { metadata: { topic: 'crash' } }, tx(id));
    const before = await storedEvents('ConferenceCreatedEvent', 'crash-agent');
    await crashOn(ConferenceCommands.create, create);
    const committed = await storedEvents('ConferenceCreatedEvent', 'crash-agent');
    expect(committed).toHaveLength(before.length + 1); // it died after its commit
    await restart();
    const retry = await create();
    expect(retry.status).toBe(200);
    expect(await storedEvents('ConferenceCreatedEvent', 'crash-agent')).toEqual(committed);
    expect(committed.map((r) => r.stream_id)).toContain(`conference/org-a/${retry.body.id}`);
    expect((await agent.get(`/conferences/${retry.body.id}`)).body).toMatchObject({ id: retry.body.id, version: 1, metadata: { topic: { value: 'crash' } } });
  });
});
