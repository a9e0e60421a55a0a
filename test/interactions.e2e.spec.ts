import { request } from 'node:http';
import type { NatsConnection } from 'nats';
import { type Api, Stack } from './support/stack';
import { settledEventCount } from './support/quiescence';

/** Interactions and ratings through the gateway: the spec's shapes, optimistic locking, the range query and its 400s, who sees which rating. */
describe('interactions and ratings', () => {
  let stack: Stack;
  let agent: Api;
  let customer: Api;
  let outsider: Api;
  let nc: NatsConnection;
  const put = (api: Api, id: string, body: unknown) => api.request('PUT', `/rtc-api/interactions/${id}`, body);

  beforeAll(async () => {
    stack = await Stack.start({ postgres: true, presence: {}, interaction: { env: { TALKDESK_INTEGRATIONS: 'org-i:acct-1:talkdesk-key-0123456789,org-other:acct-2:another-key-0123456789' } } });
    nc = await stack.connectNats();
    agent = await stack.api('in-agent', 'org-i', ['AGENT']);
    customer = await stack.api('in-customer', 'org-i', ['CUSTOMER']);
    outsider = await stack.api('in-agent', 'org-other', ['ADMIN']);
  });
  afterAll(async () => {
    await nc?.close();
    await stack?.stop();
  });

  it('creates with an integration\'s id (409 when it exists) or a server-made one, and answers the Interaction shape', async () => {
    const created = await agent.post('/interactions', { interactionId: 'genesys-conv-1', type: 'video call', data: { queue: 'sales', n: 1 } });
    expect(created.status).toBe(200);
    expect(created.body).toEqual({ interactionId: 'genesys-conv-1', version: 1 });
    expect((await agent.post('/interactions', { interactionId: 'genesys-conv-1' })).status).toBe(409);

    const made = await agent.post('/interactions', {});
    expect(made.body.interactionId).toMatch(/^[A-Za-z0-9_-]{22}$/);

    const got = await agent.get('/interactions/genesys-conv-1');
    expect(got.status).toBe(200);
    expect(got.body).toEqual({ id: 'genesys-conv-1', organizationId: 'org-i', createdBy: 'in-agent', createdAt: expect.any(String), type: 'video call', data: { queue: 'sales', n: 1 }, version: 1 });
    expect(Date.parse(got.body.createdAt)).toBeGreaterThan(Date.now() - 60_000);
    // Another organization's is not there, for a customer one it did not create neither.
    expect((await outsider.get('/interactions/genesys-conv-1')).status).toBe(404);
    expect((await customer.get('/interactions/genesys-conv-1')).status).toBe(404);
  });

  it('updates: an omitted type or data stays, data given replaces all of it, a stale version is 409 and changes nothing', async () => {
    await agent.post('/interactions', { interactionId: 'upd-1', type: 'chat', data: { a: 1, b: 2 } });
    expect((await put(agent, 'upd-1', { type: 'video call' })).status).toBe(204);
    expect((await agent.get('/interactions/upd-1')).body).toMatchObject({ type: 'video call', data: { a: 1, b: 2 }, version: 2 });
    expect((await put(agent, 'upd-1', { data: { c: 3 }, version: 2 })).status).toBe(204);
    expect((await agent.get('/interactions/upd-1')).body).toMatchObject({ type: 'video call', data: { c: 3 }, version: 3 });

    const stale = await put(agent, 'upd-1', { type: 'email', version: 2 });
    expect(stale.status).toBe(409);
    expect(JSON.stringify(stale.body)).toMatch(/version/);
    expect((await agent.get('/interactions/upd-1')).body).toMatchObject({ type: 'video call', version: 3 });
    // Another organization's caller learns nothing, not even of a stale version.
    expect((await put(outsider, 'upd-1', { type: 'x', version: 1 })).status).toBe(404);
    expect((await put(agent, 'upd-1', { data: [1] })).status).toBe(400);
    // A null field is one not given: the data stays.
    expect((await put(agent, 'upd-1', { data: null, type: null })).status).toBe(204);
    expect((await agent.get('/interactions/upd-1')).body).toMatchObject({ type: 'video call', data: { c: 3 }, version: 4 });
    expect((await customer.post('/interactions', { interactionId: null, type: null })).status).toBe(200);
  });

  it('a PUT retried with its X-Auvious-TransactionId answers the same and updates once; a create retried answers the same id', async () => {
    await agent.post('/interactions', { interactionId: 'retry-1' });
    const headers = { 'X-Auvious-TransactionId': 'tx-put-1' };
    const first = await agent.request('PUT', '/rtc-api/interactions/retry-1', { type: 'chat', version: 1 }, headers);
    const again = await agent.request('PUT', '/rtc-api/interactions/retry-1', { type: 'chat', version: 1 }, headers);
    expect([first.status, again.status]).toEqual([204, 204]);
    expect((await agent.get('/interactions/retry-1')).body.version).toBe(2);
    // Without the id, the same request is a new one: its version is stale now.
    expect((await put(agent, 'retry-1', { type: 'chat', version: 1 })).status).toBe(409);

    const made = await agent.post('/interactions', { type: 'web' }, { 'X-Auvious-TransactionId': 'tx-create-1' });
    const remade = await agent.post('/interactions', { type: 'web' }, { 'X-Auvious-TransactionId': 'tx-create-1' });
    expect(remade.body).toEqual(made.body);
  });

  it('two concurrent PUTs with the same version: exactly one succeeds, the other is 409, nothing lost', async () => {
    await agent.post('/interactions', { interactionId: 'race-1', data: {} });
    const [a, b] = await Promise.all([put(agent, 'race-1', { data: { by: 'a' }, version: 1 }), put(agent, 'race-1', { data: { by: 'b' }, version: 1 })]);
    expect([a.status, b.status].sort()).toEqual([204, 409]);
    const winner = a.status === 204 ? 'a' : 'b';
    expect((await agent.get('/interactions/race-1')).body).toMatchObject({ data: { by: winner }, version: 2 });
  });

  it('pages the organization\'s interactions in [start, end), filtered by params and sorted, in the spec\'s PageInteraction shape', async () => {
    const org = await stack.api('pg-agent', 'org-page', ['AGENT']);
    const start = new Date().toISOString();
    for (let i = 0; i < 5; i++) await org.post('/interactions', { interactionId: `p-${i}`, type: i % 2 === 0 ? 'even' : 'odd', data: { queue: i < 3 ? 'sales' : 'support', i } });
    const end = new Date(Date.now() + 1000).toISOString();
    const q = (extra: string) => org.get(`/interactions?start=${encodeURIComponent(start)}&end=${encodeURIComponent(end)}${extra}`);

    const first = await q('&size=2&sort=id,asc');
    expect(first.status).toBe(200);
    const sortObject = { direction: 'ASC', nullHandling: 'NATIVE', ascending: true, property: 'id', ignoreCase: false };
    expect(first.body).toEqual({
      totalPages: 3,
      totalElements: 5,
      first: true,
      last: false,
      size: 2,
      content: [expect.objectContaining({ id: 'p-0', organizationId: 'org-page', createdBy: 'pg-agent', type: 'even', version: 1 }), expect.objectContaining({ id: 'p-1' })],
      number: 0,
      sort: [sortObject],
      numberOfElements: 2,
      pageable: { offset: 0, sort: [sortObject], pageSize: 2, paged: true, pageNumber: 0, unpaged: false },
      empty: false,
    });
    const last = await q('&size=2&page=2&sort=id,asc');
    expect(last.body).toMatchObject({ first: false, last: true, number: 2, numberOfElements: 1, content: [expect.objectContaining({ id: 'p-4' })] });

    // Default order: newest first.
    expect((await q('')).body.content.map((i: { id: string }) => i.id)).toEqual(['p-4', 'p-3', 'p-2', 'p-1', 'p-0']);
    // params: every pair must equal the data's (string) values.
    expect((await q('&params=queue,sales&sort=id,desc')).body.content.map((i: { id: string }) => i.id)).toEqual(['p-2', 'p-1', 'p-0']);
    expect((await q('&params=queue,support,missing,x')).body).toMatchObject({ totalElements: 0, empty: true, content: [] });
    expect((await q('&sort=type,asc&sort=id,desc')).body.content.map((i: { id: string }) => i.id)).toEqual(['p-4', 'p-2', 'p-0', 'p-3', 'p-1']);
    // Counted by whole hours over a long range, exactly as over a short one.
    expect((await org.get(`/interactions?start=2000-01-01T00:00:00Z&end=2100-01-01T00:00:00Z&size=1`)).body).toMatchObject({ totalElements: 5, totalPages: 5 });
    expect((await org.get(`/interactions?start=2000-01-01T00:00:00Z&end=2100-01-01T00:00:00Z&params=queue,sales`)).body.totalElements).toBe(3);
    // Outside the range, and another organization's: nothing.
    expect((await org.get(`/interactions?start=2000-01-01T00:00:00Z&end=${encodeURIComponent(start)}`)).body.totalElements).toBe(0);
    expect((await outsider.get(`/interactions?start=${encodeURIComponent(start)}&end=${encodeURIComponent(end)}`)).body.totalElements).toBe(0);
    // Listing is for staff: a customer is refused.
    expect((await customer.get(`/interactions?start=${encodeURIComponent(start)}&end=${encodeURIComponent(end)}`)).status).toBe(403);
  });

  it('filters by params in createdAt order, with several pairs, after updates, on string values only, whatever their length', async () => {
    const org = await stack.api('pr-agent', 'org-pairs', ['AGENT']);
    const start = new Date().toISOString();
    const long = 'v'.repeat(10_000);
    for (let i = 0; i < 6; i++) await org.post('/interactions', { interactionId: `pr-${i}`, data: { queue: i < 4 ? 'sales' : 'support', lang: i % 2 === 0 ? 'en' : 'el', n: '1', long } });
    await org.post('/interactions', { interactionId: 'pr-num', data: { queue: 'sales', n: 1 } });
    const end = new Date(Date.now() + 1000).toISOString();
    const ids = async (extra: string) => {
      const { body } = await org.get(`/interactions?start=${encodeURIComponent(start)}&end=${encodeURIComponent(end)}${extra}`);
      return { total: body.totalElements, ids: body.content.map((i: { id: string }) => i.id) };
    };
    expect(await ids('&params=queue,sales')).toEqual({ total: 5, ids: ['pr-num', 'pr-3', 'pr-2', 'pr-1', 'pr-0'] });
    expect(await ids('&params=queue,sales&sort=createdAt,asc&size=2&page=1')).toEqual({ total: 5, ids: ['pr-2', 'pr-3'] });
    expect(await ids('&params=queue,sales,lang,en')).toEqual({ total: 2, ids: ['pr-2', 'pr-0'] });
    expect(await ids('&params=lang,el,queue,support')).toEqual({ total: 1, ids: ['pr-5'] });
    // A string "1" is not the number 1; a value of 10,000 characters is found as any other.
    expect(await ids('&params=n,1')).toEqual({ total: 6, ids: ['pr-5', 'pr-4', 'pr-3', 'pr-2', 'pr-1', 'pr-0'] });
    expect((await ids(`&params=long,${long}&size=1`)).total).toBe(6);
    // An update's data replaces the pairs it is found by.
    expect((await org.request('PUT', '/rtc-api/interactions/pr-0', { data: { queue: 'support' } })).status).toBe(204);
    expect(await ids('&params=queue,sales,lang,en')).toEqual({ total: 1, ids: ['pr-2'] });
    expect(await ids('&params=queue,support')).toEqual({ total: 3, ids: ['pr-5', 'pr-4', 'pr-0'] });
    expect((await org.request('PUT', '/rtc-api/interactions/pr-0', { type: 'chat' })).status).toBe(204);
    expect((await ids('&params=queue,support')).total).toBe(3);
    // Over a long range, whole hours are counted by pair and hour: the updates moved those counts too.
    const overYears = async (params: string) => (await org.get(`/interactions?start=2000-01-01T00:00:00Z&end=2100-01-01T00:00:00Z&size=1&params=${params}`)).body.totalElements;
    expect([await overYears('queue,support'), await overYears('queue,sales'), await overYears('lang,en'), await overYears('queue,sales,lang,el')]).toEqual([3, 4, 2, 2]);
  });

  it.each([
    ['start missing', '?end=2026-01-01T00:00:00Z', 'start'],
    ['start malformed', '?start=yesterday&end=2026-01-01T00:00:00Z', 'start'],
    ['end before start', '?start=2026-01-02T00:00:00Z&end=2026-01-01T00:00:00Z', 'end'],
    ['an odd number of params items', '?start=2026-01-01T00:00:00Z&end=2026-01-02T00:00:00Z&params=a,b,c', 'params'],
    ['an unknown sort property', '?start=2026-01-01T00:00:00Z&end=2026-01-02T00:00:00Z&sort=color,asc', 'sort'],
    ['a size over 1000', '?start=2026-01-01T00:00:00Z&end=2026-01-02T00:00:00Z&size=1001', 'size'],
    ['a page past 100,000 interactions', '?start=2026-01-01T00:00:00Z&end=2026-01-02T00:00:00Z&size=1000&page=101', 'page'],
  ])('answers 400 naming the field for %s', async (_what, query, field) => {
    const res = await agent.get(`/interactions${query}`);
    expect(res.status).toBe(400);
    expect(JSON.stringify(res.body)).toContain(field);
  });

  describe('conferences that name an interaction', () => {
    it('are listed by the interaction, newest first, and let a customer that joined one read it (not change it)', async () => {
      const joiner = await stack.api('in-joiner', 'org-i', ['CUSTOMER']);
      const stranger = await stack.api('in-stranger', 'org-i', ['CUSTOMER']);
      await agent.post('/interactions', { interactionId: 'link-1', type: 'video call' });
      const first = (await agent.post('/conferences/create', { interactionId: 'link-1' })).body.id;
      const second = (await agent.post('/conferences/create', {})).body.id;
      expect((await agent.post('/conferences/interaction', { conferenceId: second, interactionId: 'link-1' })).status).toBe(204);
      await joiner.post('/users/endpoints/register', { userEndpointId: 'ep-joiner', keepAliveSeconds: 600 });
      expect((await joiner.post('/conferences/join', { conferenceId: first, userEndpointId: 'ep-joiner' })).status).toBe(200);
      await settledEventCount(stack, nc);

      const listed = await agent.get('/interactions/link-1/conferences');
      expect(listed.status).toBe(200);
      expect(new Set(listed.body)).toEqual(new Set([first, second]));
      expect(listed.body).toHaveLength(2);
      expect((await joiner.get('/interactions/link-1')).status).toBe(200);
      expect((await joiner.get('/interactions/link-1/conferences')).status).toBe(200);
      expect((await put(joiner, 'link-1', { type: 'x' })).status).toBe(403);
      expect((await stranger.get('/interactions/link-1')).status).toBe(404);
      expect((await outsider.get('/interactions/link-1/conferences')).status).toBe(404);
      // An interaction no conference named lists none.
      await agent.post('/interactions', { interactionId: 'link-none' });
      expect((await agent.get('/interactions/link-none/conferences')).body).toEqual([]);
    });
  });

  /** A POST as the agent with a Host header of our choosing. */
  function postWithHost(path: string, body: unknown, host: string): Promise<{ status: number; body: any }> {
    const url = new URL(path, stack.gateway.url);
    const payload = JSON.stringify(body);
    return new Promise((resolve, reject) => {
      const req = request(
        { host: url.hostname, port: url.port, path: url.pathname, method: 'POST', headers: { host, authorization: `Bearer ${agent.token}`, 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) } },
        (res) => {
          let text = '';
          res.setEncoding('utf8');
          res.on('data', (c: string) => (text += c));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) }));
        },
      );
      req.on('error', reject);
      req.end(payload);
    });
  }

  describe('the Talkdesk integration', () => {
    it("creates a contact's interaction once and finds it after; its activity lists the contact's interactions with urls back to them", async () => {
      const created = await agent.post('/talkdesk-integration/create', { data: { contact_id: 'td-42' } });
      expect(created.status).toBe(200);
      expect(created.body).toEqual({ message: 'created', contact_external_id: 'talkdesk-td-42' });
      expect((await agent.post('/talkdesk-integration/create', { data: { contact_id: 'td-42' } })).body).toEqual({ message: 'found', contact_external_id: 'talkdesk-td-42' });
      expect((await agent.get('/interactions/talkdesk-td-42')).body).toMatchObject({ type: 'talkdesk', data: { talkdeskContactId: 'td-42' }, version: 1 });
      // Another interaction of the contact, of another type, with a subject and status of its own.
      await agent.post('/interactions', { interactionId: 'td-42-call', type: 'video call', data: { talkdeskContactId: 'td-42', subject: 'Claim 7', status: 'closed' } });

      // fetch cannot set Host: node:http can, as a proxy in front of Parley would.
      const activity = await postWithHost('/rtc-api/talkdesk-integration/activity', { meta: { interaction_types: [] }, data: { contact_id: 'td-42' } }, 'parley.example.org:8443');
      expect(activity.status).toBe(200);
      expect(activity.body).toEqual([
        { id: 'td-42-call', subject: 'Claim 7', description: 'video call td-42-call, created by in-agent', date: expect.any(String), url: 'http://parley.example.org:8443/rtc-api/interactions/td-42-call', type: 'video call', priority: 'normal', status: 'closed' },
        { id: 'talkdesk-td-42', subject: 'talkdesk', description: 'talkdesk talkdesk-td-42, created by in-agent', date: expect.any(String), url: 'http://parley.example.org:8443/rtc-api/interactions/talkdesk-td-42', type: 'talkdesk', priority: 'normal', status: 'open' },
      ]);
      const onlyCalls = await agent.post('/talkdesk-integration/activity', { meta: { interaction_types: ['video call'] }, data: { contact_id: 'td-42' } });
      expect(onlyCalls.body.map((i: { id: string }) => i.id)).toEqual(['td-42-call']);
      expect((await outsider.post('/talkdesk-integration/activity', { data: { contact_id: 'td-42' } })).body).toEqual([]);
      expect((await customer.post('/talkdesk-integration/create', { data: { contact_id: 'td-43' } })).status).toBe(403);
      expect((await agent.post('/talkdesk-integration/create', { data: { contact_id: 'not a valid id' } })).status).toBe(400);
      expect((await agent.post('/talkdesk-integration/create', {})).status).toBe(400);
      expect((await postWithHost('/rtc-api/talkdesk-integration/activity', { data: { contact_id: 'td-42' } }, 'evil.example/path?x=')).status).toBe(400);
    });

    it("validates an integration's credentials against the accounts configured for the caller's organization, else 401", async () => {
      const admin = await stack.api('in-admin', 'org-i', ['ADMIN']);
      const valid = await admin.post('/talkdesk-integration/authorization-validator', { account_id: 'acct-1', api_key: 'talkdesk-key-0123456789' });
      expect(valid.status).toBe(200);
      expect(valid.body).toEqual({ account_id: 'acct-1', organization_id: 'org-i', valid: 'true' });
      expect((await admin.post('/talkdesk-integration/authorization-validator', { account_id: 'acct-1', api_key: 'talkdesk-key-wrong-000000' })).status).toBe(401);
      // Another organization's account is not this organization's.
      expect((await admin.post('/talkdesk-integration/authorization-validator', { account_id: 'acct-2', api_key: 'another-key-0123456789' })).status).toBe(401);
      expect((await admin.post('/talkdesk-integration/authorization-validator', { account_id: 'acct-1' })).status).toBe(400);
      expect((await agent.post('/talkdesk-integration/authorization-validator', { account_id: 'acct-1', api_key: 'talkdesk-key-0123456789' })).status).toBe(403);
    });
  });

  describe('ratings', () => {
    it('rates a conference (1..5, once per user), and lists its ratings newest first: all for staff, its own for a customer', async () => {
      const other = await stack.api('in-customer-2', 'org-i', ['CUSTOMER']);
      const first = await customer.post('/ratings', { sessionType: 'CONFERENCE', sessionId: 'conf-r', interactionId: 'int-r', userEndpointId: 'ep-c', rating: 4, comment: 'clear' });
      expect(first.status).toBe(200);
      expect(first.body).toEqual({ id: expect.stringMatching(/^[A-Za-z0-9_-]{22}$/) });
      expect((await customer.post('/ratings', { sessionType: 'CONFERENCE', sessionId: 'conf-r', rating: 1 })).status).toBe(409);
      const second = await other.post('/ratings', { sessionType: 'CONFERENCE', sessionId: 'conf-r', rating: 2 });
      expect(second.status).toBe(200);

      const byStaff = await agent.get('/ratings/conferences/conf-r');
      expect(byStaff.status).toBe(200);
      expect(byStaff.body).toEqual([
        { id: second.body.id, userId: 'in-customer-2', organizationId: 'org-i', sessionType: 'CONFERENCE', sessionId: 'conf-r', score: 2, createdAt: expect.any(String) },
        { id: first.body.id, userId: 'in-customer', userEndpointId: 'ep-c', organizationId: 'org-i', interactionId: 'int-r', sessionType: 'CONFERENCE', sessionId: 'conf-r', score: 4, comment: 'clear', createdAt: expect.any(String) },
      ]);
      expect((await customer.get('/ratings/conferences/conf-r')).body.map((r: { id: string }) => r.id)).toEqual([first.body.id]);
      expect((await agent.get('/ratings/interactions/int-r')).body.map((r: { id: string }) => r.id)).toEqual([first.body.id]);
      expect((await outsider.get('/ratings/conferences/conf-r')).body).toEqual([]);
      // A call's ratings are not the conference's.
      await agent.post('/ratings', { sessionType: 'CALL', sessionId: 'conf-r', rating: 3 });
      expect((await agent.get('/ratings/conferences/conf-r')).body).toHaveLength(2);
    });

    it.each([
      ['sessionType UNKNOWN', { sessionType: 'UNKNOWN', sessionId: 's', rating: 3 }, 'sessionType'],
      ['a rating of 0', { sessionType: 'CALL', sessionId: 's', rating: 0 }, 'rating'],
      ['a rating of 6', { sessionType: 'CALL', sessionId: 's', rating: 6 }, 'rating'],
      ['a rating of 4.5', { sessionType: 'CALL', sessionId: 's', rating: 4.5 }, 'rating'],
      ['no sessionId', { sessionType: 'CALL', rating: 3 }, 'sessionId'],
      ['a comment over 2000 characters', { sessionType: 'CALL', sessionId: 's', rating: 3, comment: 'x'.repeat(2001) }, 'comment'],
    ])('answers 400 naming the field for %s, and stores nothing', async (_what, body, field) => {
      const res = await agent.post('/ratings', body);
      expect(res.status).toBe(400);
      expect(res.body.details?.fields ?? []).toContain(field);
      expect((await agent.get('/ratings/conferences/s')).body).toEqual([]);
    });
  });
});
