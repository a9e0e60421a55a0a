import { AckPolicy, DeliverPolicy, type NatsConnection } from 'nats';
import { Client } from 'pg';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { waitFor } from '@parley/testing';
import { Api, Stack } from './support/stack';
import { spawnService } from './support/service-process';

/**
 * What survives a crash: the conference service runs in its own process on a real database;
 * the tests kill it and start a new one.
 */
describe('conference service durability', () => {
  let stack: Stack;
  let agent: Api;
  // A second agent (staff may join with an endpoint nobody registered).
  let colleague: Api;

  beforeAll(async () => {
    stack = await Stack.start({ postgres: true, conference: false, presence: {}, gateway: { rpcTimeoutMs: 3000 } });
    agent = await stack.api('agent-1', 'org-a', ['AGENT']);
    colleague = await stack.api('agent-2', 'org-a', ['AGENT']);
  });
  // Whatever a failed test left running must not answer the next test's requests.
  const children: { kill(signal?: NodeJS.Signals): Promise<void> }[] = [];
  afterEach(async () => {
    await Promise.all(children.splice(0).map((c) => c.kill('SIGKILL')));
  });
  afterAll(() => stack?.stop());

  const env = async () => ({ NATS_URL: stack.nats.url, DATABASE_URL: (await stack.envOf('conference')).DATABASE_URL });

  it('a new process on the same PostgreSQL database serves an identical conference after a SIGKILL, and rebuilds a lost read model', async () => {
    const first = await spawnService('conference', await env());
    children.push(first);
    const { body: created } = await agent.post('/conferences/create', { creatorEndpoint: 'ep-a', interactionId: 'int-1', metadata: { topic: 'billing', lang: 'en' } });
    const id = created.id;
    await agent.post('/conferences/join', { conferenceId: id, userEndpointId: 'ep-a', metadata: { role: 'agent' } });
    await colleague.post('/conferences/join', { conferenceId: id, userEndpointId: 'ep-c' });
    await colleague.post('/conferences/updateParticipantMetadata', { conferenceId: id, userEndpointId: 'ep-c', newMetadata: { name: 'Ann' } });
    await agent.post('/conferences/updateMetadata', { conferenceId: id, userEndpointId: 'ep-a', operation: 'REMOVE', key: 'lang' });
    const before = await agent.get(`/conferences/${id}`);
    const simpleBefore = await agent.get(`/conferences/${id}/simpleView`);
    const eventsBefore = await agent.get(`/conferences/${id}/events?v=0`);
    expect(before.body.version).toBe(5);
    await first.kill('SIGKILL');
    // Lose the read model's table too: the new process finds it missing and rebuilds it from the events.
    const db = new Client({ connectionString: (await stack.envOf('conference')).DATABASE_URL });
    await db.connect();
    // Whatever version of the read model is live (its table is conference_views_v<N>).
    const { rows } = await db.query<{ table_name: string }>(`select table_name from information_schema.tables where table_schema = 'public' and table_name like 'conference_views_v%'`);
    expect(rows).toHaveLength(1);
    await db.query(`drop table ${rows[0].table_name}`);
    await db.end();

    const second = await spawnService('conference', await env());
    children.push(second);
    try {
      expect((await agent.get(`/conferences/${id}`)).body).toEqual(before.body);
      expect((await agent.get(`/conferences/${id}/simpleView`)).body).toEqual(simpleBefore.body);
      expect((await agent.get(`/conferences/${id}/events?v=0`)).body).toEqual(eventsBefore.body);
      expect((await agent.get('/conferences/active')).body.find((c: { id: string }) => c.id === id)).toEqual(before.body);
    } finally {
      await second.kill('SIGTERM');
    }
  });

  it('a new process on the same embedded PGlite directory serves an identical conference', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'parley-pglite-'));
    const pgliteEnv = { NATS_URL: stack.nats.url, DATA_DIR: dir };
    try {
      const first = await spawnService('conference', pgliteEnv);
      children.push(first);
      const { body: created } = await agent.post('/conferences/create', { metadata: { topic: 'x' } });
      await colleague.post('/conferences/join', { conferenceId: created.id, userEndpointId: 'ep-c', metadata: { n: 1 } });
      const before = await agent.get(`/conferences/${created.id}`);
      await first.kill('SIGTERM');
      const second = await spawnService('conference', pgliteEnv);
      children.push(second);
      try {
        expect((await agent.get(`/conferences/${created.id}`)).body).toEqual(before.body);
      } finally {
        await second.kill('SIGTERM');
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a durable JetStream consumer receives every conference event exactly once, in order per conference, across a kill and restart', async () => {
    const nc: NatsConnection = await stack.connectNats();
    const durable = `it-${Date.now()}`;
    let service = await spawnService('conference', await env());
    children.push(service);
    try {
      const jsm = await nc.jetstreamManager();
      await jsm.consumers.add('PARLEY_EVENTS', { durable_name: durable, ack_policy: AckPolicy.Explicit, deliver_policy: DeliverPolicy.New, filter_subject: 'parley.evt.conference.>' });
      const consumer = await nc.jetstream().consumers.get('PARLEY_EVENTS', durable);
      const received: { id: string; conferenceId: string; version: number }[] = [];
      const messages = await consumer.consume();
      const loop = (async () => {
        for await (const m of messages) {
          const e = m.json<{ eventId: string; streamId: string; streamVersion: number }>();
          received.push({ id: e.eventId, conferenceId: e.streamId.split('/')[2], version: e.streamVersion });
          m.ack();
        }
      })();

      // Several conferences, many concurrent commands; the service is killed in the middle.
      const ids: string[] = [];
      for (let i = 0; i < 4; i++) ids.push((await agent.post('/conferences/create', {})).body.id);
      const acknowledged: string[] = [];
      const burst = async (tag: string) =>
        Promise.all(
          ids.flatMap((id) =>
            Array.from({ length: 8 }, async (_, k) => {
              const res = await colleague.post('/conferences/join', { conferenceId: id, userEndpointId: `ep-${tag}-${k}` });
              if (res.status === 200) acknowledged.push(`${id}/ep-${tag}-${k}`);
            }),
          ),
        );
      const during = burst('a');
      await new Promise((r) => setTimeout(r, 30));
      await service.kill('SIGKILL');
      await during;
      service = await spawnService('conference', await env());
      children.push(service);
      await burst('b');

      // Every event in the store, per conference, from the feed.
      const stored = new Map<string, { id: string; conferenceVersion: number; userEndpointId?: string }[]>();
      for (const id of ids) stored.set(id, (await agent.get(`/conferences/${id}/events?v=0`)).body);
      const total = [...stored.values()].reduce((n, evs) => n + evs.length, 0);
      await waitFor(() => received.length >= total, { timeoutMs: 20_000, description: `${total} events on the consumer` });
      await new Promise((r) => setTimeout(r, 300)); // any duplicate would arrive in this window
      messages.stop();
      await loop;

      expect(new Set(received.map((r) => r.id)).size).toBe(received.length); // exactly once
      expect(received.length).toBe(total);
      for (const id of ids) {
        const versions = received.filter((r) => r.conferenceId === id).map((r) => r.version);
        expect(versions).toEqual(stored.get(id)!.map((e) => e.conferenceVersion)); // in order, nothing missing
        expect(versions).toEqual(Array.from({ length: versions.length }, (_, i) => i + 1));
      }
      // Every acknowledged join is in the store.
      for (const key of acknowledged) {
        const [id, ep] = key.split('/');
        expect(stored.get(id)!.some((e) => e.userEndpointId === ep)).toBe(true);
      }
      expect(acknowledged.length).toBeGreaterThanOrEqual(32);
    } finally {
      await service.kill('SIGTERM');
      await nc.drain();
    }
  });
});
