import { type RunningService, startService } from '@parley/service-kit';
import { conferenceService } from '../apps/conference/src';
import { Stack } from './support/stack';

describe('concurrent writers', () => {
  let stack: Stack;
  let replica: RunningService;

  beforeAll(async () => {
    // Two conference service replicas (one queue group) on one PostgreSQL database: joins to
    // the same conference race across processes' worth of state, and only optimistic
    // concurrency with retry keeps them all.
    // The presence service too: a join asks it whose endpoint it is.
    stack = await Stack.start({ postgres: true, presence: {} });
    replica = await startService(conferenceService, { env: await stack.envOf('conference') });
  });
  afterAll(async () => {
    await replica?.close();
    await stack?.stop();
  });

  it('50 concurrent joins of distinct endpoints all succeed, with versions 1..51 and no gap', async () => {
    const agent = await stack.api('agent-1', 'org-a', ['AGENT']);
    const { body } = await agent.post('/conferences/create', {});
    const users = await Promise.all(Array.from({ length: 50 }, (_, i) => stack.api(`user-${i}`, 'org-a', ['AGENT'])));
    const results = await Promise.all(users.map((api, i) => api.post('/conferences/join', { conferenceId: body.id, userEndpointId: `ep-${i}` })));
    expect(results.map((r) => r.status)).toEqual(Array(50).fill(200));
    expect(new Set(results.map((r) => r.body.version)).size).toBe(50);

    const conf = (await agent.get(`/conferences/${body.id}`)).body;
    expect(conf.participants).toHaveLength(50);
    expect(new Set(conf.participants.map((p: { id: string }) => p.id)).size).toBe(50);
    expect(conf.version).toBe(51);
    const events = (await agent.get(`/conferences/${body.id}/events?v=0`)).body;
    expect(events.map((e: { conferenceVersion: number }) => e.conferenceVersion)).toEqual(Array.from({ length: 51 }, (_, i) => i + 1));
  });
});
