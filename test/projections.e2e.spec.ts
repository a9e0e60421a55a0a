import type { NatsConnection } from 'nats';
import { type ProjectionStatus, type RunningService, askProjectionAdmin } from '@parley/service-kit';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { REPOSITORY_ROOT, waitFor } from '@parley/testing';
import { snapshotServiceFlows } from './support/images';
import { Stack } from './support/stack';
import { testOperator, testOperatorEnv } from './support/secrets';
import { settledEventCount } from './support/quiescence';

/**
 * Every projection of every service, rebuilt from the events on request (what `npm run -s
 * projections -- rebuild` asks), equals the table that was written live.
 */
const execFileAsync = promisify(execFile);

describe('projections rebuilt from the events equal the ones written live', () => {
  let stack: Stack;
  let nc: NatsConnection;

  beforeAll(async () => {
    stack = await Stack.start({ presence: {}, interaction: {}, snapshot: {} });
    nc = await stack.connectNats();
    const agent = await stack.api('agent-1', 'org-a', ['AGENT']);
    const customer = await stack.api('cust-1', 'org-a', ['CUSTOMER']);
    const other = await stack.api('agent-9', 'org-b', ['AGENT']);
    for (const [api, ep] of [[agent, 'ep-a'], [customer, 'ep-c'], [other, 'ep-b']] as const) {
      expect((await api.post('/users/endpoints/register', { userEndpointId: ep, keepAliveSeconds: 60 })).status).toBe(200);
    }
    await customer.post('/users/endpoints/register', { userEndpointId: 'ep-gone', keepAliveSeconds: 60 });
    await customer.post('/users/endpoints/unregister', { userEndpointId: 'ep-gone' });
    const a = (await agent.post('/conferences/create', { metadata: { topic: 'billing' } })).body.id;
    const b = (await agent.post('/conferences/create', {})).body.id;
    const c = (await other.post('/conferences/create', {})).body.id;
    await agent.post('/conferences/join', { conferenceId: a, userEndpointId: 'ep-a' });
    await customer.post('/conferences/join', { conferenceId: a, userEndpointId: 'ep-c' });
    await agent.post('/conferences/join', { conferenceId: b, userEndpointId: 'ep-a' });
    await agent.post('/conferences/updateMetadata', { conferenceId: a, userEndpointId: 'ep-a', operation: 'SET', key: 'stage', value: 'two' });
    await customer.post('/conferences/leave', { conferenceId: a, userEndpointId: 'ep-c' });
    await other.post('/conferences/join', { conferenceId: c, userEndpointId: 'ep-b' });
    await agent.post('/conferences/end', { conferenceId: b, userEndpointId: 'ep-a' });
    await agent.post('/interactions', { interactionId: 'int-1', type: 'video call', data: { queue: 'sales' } });
    await agent.post('/conferences/interaction', { conferenceId: a, interactionId: 'int-1' });
    await agent.request('PUT', '/rtc-api/interactions/int-1', { data: { queue: 'support', n: 2 } });
    await customer.post('/interactions', { type: 'chat' });
    await other.post('/interactions', { interactionId: 'int-1' });
    await customer.post('/ratings', { sessionType: 'CONFERENCE', sessionId: a, interactionId: 'int-1', rating: 5, comment: 'good' });
    await agent.post('/ratings', { sessionType: 'CALL', sessionId: 'call-1', rating: 2 });
    const session = (await agent.post('/chat-sessions', { participants: ['agent-1', 'cust-1'], room: a, title: 'Consultation' })).body.id;
    await agent.request('PATCH', `/rtc-api/chat-sessions/${session}`, { start: true, participants: ['agent-1', 'cust-1', 'nurse-1'] });
    await customer.request('PATCH', `/rtc-api/chat-sessions/${session}`, { accept: true });
    await other.post('/chat-sessions', { participants: ['agent-b'] });
    await snapshotServiceFlows(agent, customer, { agent: 'agent-1', customer: 'cust-1', agentEp: 'ep-a', customerEp: 'ep-c' }, await stack.api('admin-1', 'org-a', ['ADMIN']));
    await settledEventCount(stack, nc);
  });
  afterAll(async () => {
    await nc?.close();
    await stack?.stop();
  });

  /** As `npm run -s projections` asks: the operator's signed request. */
  const ask = (service: string, request: { action: string; name?: string }) => askProjectionAdmin(nc, testOperator(), service, request, 60_000);
  const dump = async (service: RunningService, table: string) =>
    (await service.kit.store.transaction((sql) => sql.query<Record<string, unknown>>(`select * from ${table} order by 1, 2, 3`))).rows;

  it.each([
    ['conference', 'conference_views'],
    ['presence', 'presence_endpoints'],
    ['presence', 'presence_participations'],
    ['interaction', 'interaction_views'],
    ['interaction', 'interaction_pairs'],
    ['interaction', 'rating_views'],
    ['interaction', 'interaction_conferences'],
    ['interaction', 'chat_session_views'],
    ['presence', 'presence_chat_sessions'],
    ['snapshot', 'snapshot_views'],
    ['snapshot', 'file_transfer_views'],
    ['snapshot', 'asset_views'],
  ])('%s: %s', async (serviceName, projection) => {
    const service = stack.services.get(serviceName)!;
    const listed = (await ask(serviceName, { action: 'list' })).projections as ProjectionStatus[];
    const status = listed.find((p) => p.name === projection)!;
    // Its table and its companions (<table>_<suffix>), each compared.
    const tables = (
      await service.kit.store.transaction((sql) =>
        sql.query<{ table_name: string }>(`select table_name from information_schema.tables where table_schema = 'public' and (table_name = $1 or starts_with(table_name, $1 || '_')) order by 1`, [status.table]),
      )
    ).rows.map((r) => r.table_name);
    const dumpAll = async () => Promise.all(tables.map((t) => dump(service, t)));
    const live = await dumpAll();
    expect(live[0].length).toBeGreaterThan(0);
    const answer = await ask(serviceName, { action: 'rebuild', name: projection });
    expect(answer).toMatchObject({ ok: true, name: projection });
    expect(answer.events).toBeGreaterThan(0);
    // The jetstream projection's consumer starts again after the swap; the table is whole at once.
    expect(await dumpAll()).toEqual(live);
    if (projection === 'interaction_pairs') expect(tables).toEqual([status.table, `${status.table}_hours`]);
    // And it goes on with new events.
    if (projection === 'presence_participations') {
      const agent = await stack.api('agent-1', 'org-a', ['AGENT']);
      const d = (await agent.post('/conferences/create', {})).body.id;
      await agent.post('/conferences/join', { conferenceId: d, userEndpointId: 'ep-a' });
      await waitFor(async () => (await dump(service, status.table)).some((r) => r.conference_id === d), { description: 'the new participation' });
    }
  });

  it('answers an unknown projection with an error naming those there are', async () => {
    expect(await ask('conference', { action: 'rebuild', name: 'nope' })).toEqual({ ok: false, error: 'no projection named nope (there are: conference_views)' });
  });

  it('the documented commands ask the same over NATS: npm run -s projections and npm run -s dead-letters', async () => {
    const run = (script: string, args: string[]) =>
      execFileAsync(process.execPath, ['-r', './scripts/register-ts.cjs', `libs/service-kit/src/cli/${script}.ts`, ...args], { cwd: REPOSITORY_ROOT, env: { ...process.env, NATS_URL: stack.nats.url, ...testOperatorEnv() } });
    const listed = JSON.parse((await run('projections', ['list', 'presence'])).stdout);
    expect(listed.projections.map((p: ProjectionStatus) => `${p.name} v${p.version} ${p.kind}`)).toEqual(['presence_endpoints v1 state', 'presence_participations v1 jetstream', 'presence_chat_sessions v1 jetstream']);
    const rebuilt = JSON.parse((await run('projections', ['rebuild', 'conference', 'conference_views'])).stdout);
    expect(rebuilt).toMatchObject({ ok: true, name: 'conference_views', events: expect.any(Number) });
    await expect(run('projections', ['rebuild', 'conference', 'nope'])).rejects.toMatchObject({ code: 1, stdout: expect.stringContaining('no projection named nope') });
    expect((await run('dead-letters', ['list'])).stdout).toBe(''); // nothing failed in this stack
    await expect(run('dead-letters', ['replay', 'x'])).rejects.toMatchObject({ code: 2 });
  });
});
