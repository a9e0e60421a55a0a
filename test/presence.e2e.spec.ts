import type { NatsConnection } from 'nats';
import { sleep, waitFor } from '@parley/testing';
import { startGateway, type RunningGateway } from '../apps/gateway/src';
import { EndpointSocket } from './support/endpoint-socket';
import { type Api, Stack, testGatewayConfig } from './support/stack';

/** The presence service's time: the tests move it, the scheduler reads it. */
const clock = { t: Date.now(), now() { return this.t; } };
const event = (type: string, extra: Record<string, unknown> = {}) => ({ type, timestamp: new Date().toISOString(), ...extra });

describe('presence: user endpoints, keepalive, delivery', () => {
  let stack: Stack;
  let agent: Api;
  let customer: Api;
  let service: Api;
  let outsider: Api;
  let nc: NatsConnection;

  beforeAll(async () => {
    stack = await Stack.start({ presence: { clock } });
    agent = await stack.api('agent-1', 'org-a', ['AGENT']);
    customer = await stack.api('cust-1', 'org-a', ['CUSTOMER']);
    service = await stack.api('crm', 'org-a', ['SERVICE']);
    outsider = await stack.api('agent-x', 'org-b', ['AGENT']);
    nc = await stack.connectNats();
  });
  afterAll(async () => {
    await nc?.drain();
    await stack?.stop();
  });

  /** Moves the presence clock and runs the scheduler once. */
  const advance = async (seconds: number) => {
    clock.t += seconds * 1000;
    await stack.tickPresence();
  };
  const register = async (api: Api, userEndpointId: string, keepAliveSeconds = 30, serverKeepAliveReminderOn = false) => {
    const r = await api.post('/users/endpoints/register', { userEndpointId, keepAliveSeconds, serverKeepAliveReminderOn });
    expect(r.status).toBe(200);
    return r.body.id as string;
  };
  const socket = async (api: Api, ep: string) => EndpointSocket.open(stack.gateway.url, api.token!, ep);
  /** Long-polls the endpoint until what arrived satisfies `done` (at most `rounds` polls); everything that arrived, in order. */
  const pollUntil = async (api: Api, ep: string, done: (all: any[]) => boolean, rounds = 5) => {
    const all: any[] = [];
    for (let i = 0; i < rounds && !done(all); i++) {
      const r = await api.get(`/users/endpoints/${ep}/events`);
      expect(r.status).toBe(200);
      all.push(...r.body);
    }
    return all;
  };
  const queued = async (ep: string) => {
    const jsm = await nc.jetstreamManager();
    return jsm.streams.getMessage('PARLEY_DELIVERY', { last_by_subj: `parley.deliverq.org-a.${ep}` }).then(
      () => true,
      () => false,
    );
  };
  const participant = async (conferenceId: string, ep: string) => {
    const r = await agent.get(`/conferences/${conferenceId}`);
    return (r.body.participants as { id: string; state: string }[]).find((p) => p.id === ep);
  };

  describe('registration', () => {
    it('POST /users/endpoints answers the id as a JSON string (server-made when absent); /register answers {id}', async () => {
      const made = await agent.post('/users/endpoints', { keepAliveSeconds: 30 });
      expect(made.status).toBe(200);
      expect(made.headers.get('content-type')).toMatch(/application\/json/);
      expect(typeof made.body).toBe('string');
      expect(made.body.length).toBeGreaterThan(8);
      const named = await agent.post('/users/endpoints', { userEndpointId: 'ep-named', keepAliveSeconds: 30 });
      expect(named.body).toBe('ep-named');
      const ios = await agent.post('/users/endpoints/register', { userEndpointId: 'ep-ios', keepAliveSeconds: 5, serverKeepAliveReminderOn: true });
      expect(ios.body).toEqual({ id: 'ep-ios' });
    });

    it('400 naming the field for a missing or out-of-range keepAliveSeconds, a bad id or a non-boolean reminder flag', async () => {
      for (const [body, field] of [
        [{}, 'keepAliveSeconds'],
        [{ keepAliveSeconds: 0 }, 'keepAliveSeconds'],
        [{ keepAliveSeconds: 3601 }, 'keepAliveSeconds'],
        [{ keepAliveSeconds: 1.5 }, 'keepAliveSeconds'],
        [{ keepAliveSeconds: 30, userEndpointId: 'a.b' }, 'userEndpointId'],
        [{ keepAliveSeconds: 30, serverKeepAliveReminderOn: 'yes' }, 'serverKeepAliveReminderOn'],
      ] as const) {
        const r = await agent.post('/users/endpoints', body);
        expect(r.status).toBe(400);
        expect(r.body.message).toContain(field);
      }
    });

    it("409 for an id another user registered; 404 for keepalive or unregister of someone else's endpoint", async () => {
      await register(agent, 'ep-owned');
      expect((await customer.post('/users/endpoints', { userEndpointId: 'ep-owned', keepAliveSeconds: 30 })).status).toBe(409);
      expect((await customer.post('/users/endpoints/keepalive', { userEndpointId: 'ep-owned' })).status).toBe(404);
      expect((await customer.post('/users/endpoints/unregister', { userEndpointId: 'ep-owned' })).status).toBe(404);
      expect((await agent.post('/users/endpoints/keepalive', { userEndpointId: 'ep-owned' })).status).toBe(204);
      expect((await agent.post('/users/endpoints/unregister', { userEndpointId: 'ep-owned', reason: 'logout' })).status).toBe(204);
      expect((await agent.post('/users/endpoints/keepalive', { userEndpointId: 'ep-owned' })).status).toBe(404);
    });
  });

  describe('keepalive, SICK and expiry (the test moves the clock)', () => {
    it('a missed deadline makes the participation SICK, a keepalive HEALTHY again; silence for 2k expires it and it leaves with reason "expired"', async () => {
      const conf = (await agent.post('/conferences/create', {})).body.id as string;
      await register(customer, 'ep-sick', 10);
      expect((await customer.post('/conferences/join', { conferenceId: conf, userEndpointId: 'ep-sick' })).status).toBe(200);
      await waitFor(async () => (await participant(conf, 'ep-sick'))?.state === 'HEALTHY', { description: 'joined' });

      await advance(9.9);
      expect((await participant(conf, 'ep-sick'))?.state).toBe('HEALTHY');
      await advance(0.2);
      await waitFor(async () => (await participant(conf, 'ep-sick'))?.state === 'SICK', { description: 'SICK after the deadline' });

      expect((await customer.post('/users/endpoints/keepalive', { userEndpointId: 'ep-sick' })).status).toBe(204);
      await waitFor(async () => (await participant(conf, 'ep-sick'))?.state === 'HEALTHY', { description: 'HEALTHY after a keepalive' });

      await advance(19.9);
      expect(await participant(conf, 'ep-sick')).toBeDefined();
      await advance(0.2);
      await waitFor(async () => (await participant(conf, 'ep-sick')) === undefined, { description: 'left on expiry' });
      const feed = await agent.get(`/conferences/${conf}/events?v=0`);
      expect(feed.body.find((e: { type: string }) => e.type === 'ConferenceLeftEvent')).toMatchObject({ userEndpointId: 'ep-sick', reason: 'expired' });
      expect((await customer.post('/users/endpoints/keepalive', { userEndpointId: 'ep-sick' })).status).toBe(404);
    });

    it('with serverKeepAliveReminderOn, the endpoint is reminded before its deadline', async () => {
      await register(customer, 'ep-remind', 30, true);
      const ws = await socket(customer, 'ep-remind');
      await advance(20);
      const reminder = await ws.next((d) => d.event.type === 'UserEndpointKeepAliveRequestedEvent', 0, 'the reminder');
      expect(reminder.event).toMatchObject({ userEndpointId: 'ep-remind', deadline: new Date(clock.t + 10_000).toISOString() });
      await ws.close();
    });

    it('a reminder waits for an endpoint without a session until its deadline: one that polls after it does not get it, one that polls before does', async () => {
      // The gateway judges a delivery's expiresAt by its own clock: the presence clock is put back in step with it.
      clock.t = Date.now();
      const t0 = clock.t;
      await register(customer, 'ep-remind-late', 2, true);
      await register(customer, 'ep-remind-soon', 60, true);

      await advance(1.4); // ep-remind-late's reminder (at 2/3 of 2 s), for its deadline t0 + 2 s
      await waitFor(() => queued('ep-remind-late'), { description: 'the reminder queued' });
      await sleep(Math.max(0, t0 + 2000 - Date.now()) + 50);
      await agent.post('/users/endpoints/sendEvent', { userId: 'cust-1', userEndpointId: 'ep-remind-late', event: event('NoteAddedEvent', { n: 'after-the-deadline' }) });
      const late = await pollUntil(customer, 'ep-remind-late', (all) => all.some((d) => d.event.n === 'after-the-deadline'));
      expect(late.filter((d) => d.event.type === 'UserEndpointKeepAliveRequestedEvent')).toEqual([]);

      await advance(40); // ep-remind-soon's reminder (at 2/3 of 60 s), for its deadline t0 + 60 s
      const soon = await pollUntil(customer, 'ep-remind-soon', (all) => all.some((d) => d.event.type === 'UserEndpointKeepAliveRequestedEvent'));
      const deadline = new Date(t0 + 60_000).toISOString();
      expect(soon).toEqual([expect.objectContaining({ qos: 0, expiresAt: deadline, event: expect.objectContaining({ type: 'UserEndpointKeepAliveRequestedEvent', userEndpointId: 'ep-remind-soon', deadline }) })]);
    });

    it('endpoint state survives a presence restart, and expiry happens on time afterwards', async () => {
      const conf = (await agent.post('/conferences/create', {})).body.id as string;
      await register(customer, 'ep-restart', 10);
      await register(agent, 'ep-stays', 40);
      await customer.post('/conferences/join', { conferenceId: conf, userEndpointId: 'ep-restart' });
      await agent.post('/conferences/join', { conferenceId: conf, userEndpointId: 'ep-stays' });
      await waitFor(async () => (await participant(conf, 'ep-stays')) !== undefined, { description: 'joined' });

      await stack.stopService('presence');
      clock.t += 25_000; // while it is down: ep-restart is overdue (2k = 20 s), ep-stays is fine (k = 40 s)
      await stack.startService('presence', { clock });
      await stack.tickPresence();
      await waitFor(async () => (await participant(conf, 'ep-restart')) === undefined, { description: 'ep-restart expired after the restart' });
      expect((await participant(conf, 'ep-stays'))?.state).toBe('HEALTHY');
      await advance(15.1);
      await waitFor(async () => (await participant(conf, 'ep-stays'))?.state === 'SICK', { description: 'ep-stays SICK at its deadline' });
    });
  });

  describe('delivery', () => {
    it('sendEvent reaches every endpoint of the user over its socket and answers the count; a named endpoint only it', async () => {
      await register(customer, 'ep-d1');
      await register(customer, 'ep-d2');
      const [a, b] = [await socket(customer, 'ep-d1'), await socket(customer, 'ep-d2')];
      const all = await agent.post('/users/endpoints/sendEvent', { userId: 'cust-1', event: event('AgentMessageSentEvent', { text: 'hello' }) });
      expect(all.status).toBe(200);
      expect(all.body).toBeGreaterThanOrEqual(2);
      await a.next((d) => d.event.text === 'hello');
      await b.next((d) => d.event.text === 'hello');
      const one = await agent.post('/users/endpoints/sendEvent', { userId: 'cust-1', userEndpointId: 'ep-d2', event: event('AgentMessageSentEvent', { text: 'only you' }) });
      expect(one.body).toBe(1);
      await b.next((d) => d.event.text === 'only you');
      expect(a.received.some((d) => d.event.text === 'only you')).toBe(false);
      await Promise.all([a.close(), b.close()]);
    });

    it('400 naming the problem for a bad event type, timestamp or mask; 404 for an endpoint the user does not have', async () => {
      const bad = async (body: Record<string, unknown>, pattern: RegExp) => {
        const r = await agent.post('/users/endpoints/sendEvent', { userId: 'cust-1', ...body });
        expect(r.status).toBe(400);
        expect(r.body.message).toMatch(pattern);
      };
      await bad({ event: { type: 'hello', timestamp: new Date().toISOString() } }, /event.type/);
      await bad({ event: { type: 'MessageEvent', timestamp: new Date().toISOString() } }, /event.type/);
      await bad({ event: { type: 'AgentMessageSentEvent', timestamp: '21/11/2026' } }, /event.timestamp/);
      await bad({ event: { type: 'AgentMessageSentEvent' } }, /event.timestamp/);
      await bad({ event: event('AgentMessageSentEvent'), masks: ['card.number'] }, /mask/);
      await bad({ event: 'text' }, /event/);
      expect((await agent.post('/users/endpoints/sendEvent', { userId: 'cust-1', userEndpointId: 'ep-nope', event: event('AgentMessageSentEvent') })).status).toBe(404);
      // A SERVICE names no organization: its own is meant, as for anyone.
      const own = await service.post('/users/endpoints/sendEvent', { userId: 'cust-1', event: event('AgentMessageSentEvent') });
      expect(own.status).toBe(200);
      expect(own.body).toEqual(expect.any(Number));
      // Parley's own event types are not a user's to send: a customer cannot tell an agent its call ended.
      await bad({ event: event('ConferenceEndedEvent') }, /event.type "ConferenceEndedEvent" is reserved/);
      const spoof = await customer.post('/users/endpoints/sendEvent', { userId: 'agent-1', event: event('ConferenceEndedEvent') });
      expect(spoof.status).toBe(400);
      expect(spoof.body.message).toMatch(/Parley's own events/);
    });

    it('qos 1 is delivered again after a reconnect until acknowledged; qos 0 is not', async () => {
      await register(customer, 'ep-q');
      let ws = await socket(customer, 'ep-q');
      await agent.post('/users/endpoints/sendEvent', { userId: 'cust-1', userEndpointId: 'ep-q', qos: 0, event: event('NoteAddedEvent', { n: 'best-effort' }) });
      await agent.post('/users/endpoints/sendEvent', { userId: 'cust-1', userEndpointId: 'ep-q', qos: 1, event: event('NoteAddedEvent', { n: 'at-least-once' }) });
      const first = await ws.next((d) => d.event.n === 'at-least-once');
      expect(first.qos).toBe(1);
      await ws.next((d) => d.event.n === 'best-effort');
      await ws.close(); // without acknowledging

      ws = await socket(customer, 'ep-q');
      const again = await ws.next((d) => d.event.n === 'at-least-once', 0, 'the qos 1 event again');
      expect(again.id).toBe(first.id);
      ws.ack(again.id);
      // A marker sent after the reconnect: by the time it arrives, a qos 0 redelivery would have too.
      await agent.post('/users/endpoints/sendEvent', { userId: 'cust-1', userEndpointId: 'ep-q', event: event('NoteAddedEvent', { n: 'marker-1' }) });
      await ws.next((d) => d.event.n === 'marker-1');
      expect(ws.received.filter((d) => d.event.n === 'best-effort')).toEqual([]);
      await ws.close();

      ws = await socket(customer, 'ep-q');
      await agent.post('/users/endpoints/sendEvent', { userId: 'cust-1', userEndpointId: 'ep-q', qos: 1, event: event('NoteAddedEvent', { n: 'marker-2' }) });
      await ws.next((d) => d.event.n === 'marker-2');
      expect(ws.received.filter((d) => d.event.n === 'at-least-once')).toEqual([]); // acknowledged: gone
      await ws.close();
    });

    it('unregistering closes the socket (4004) and drops what was queued; an expired endpoint keeps nothing either', async () => {
      await register(customer, 'ep-gone');
      const ws = await socket(customer, 'ep-gone');
      expect((await customer.post('/users/endpoints/unregister', { userEndpointId: 'ep-gone', reason: 'logout' })).status).toBe(204);
      await waitFor(() => ws.closeCode === 4004, { description: 'the socket closed as unregistered' });

      await register(customer, 'ep-lapsed', 10);
      await agent.post('/users/endpoints/sendEvent', { userId: 'cust-1', userEndpointId: 'ep-lapsed', qos: 1, event: event('NoteAddedEvent', { n: 'never-read' }) });
      expect(await queued('ep-lapsed')).toBe(true);
      await advance(20.1); // expired before any client read it
      await waitFor(async () => !(await queued('ep-lapsed')), { description: 'the queue purged' });
      await register(customer, 'ep-lapsed', 10); // the same user takes its id again
      const again = await socket(customer, 'ep-lapsed');
      await agent.post('/users/endpoints/sendEvent', { userId: 'cust-1', userEndpointId: 'ep-lapsed', qos: 1, event: event('NoteAddedEvent', { n: 'fresh' }) });
      await again.next((d) => d.event.n === 'fresh');
      expect(again.received.filter((d) => d.event.n === 'never-read')).toEqual([]);
      await again.close();
    });

    it('masks: the stored copy is masked, the delivered copy is not', async () => {
      await register(customer, 'ep-mask');
      const ws = await socket(customer, 'ep-mask');
      const stored: any[] = [];
      const sub = nc.subscribe('parley.evt.userevent.>', { callback: (_e, m) => stored.push(m.json()) });
      await nc.flush();
      const secret = event('PaymentTakenEvent', { card: { number: '4111111111111111', holder: 'Ada' } });
      expect((await agent.post('/users/endpoints/sendEvent', { userId: 'cust-1', userEndpointId: 'ep-mask', masks: ['$.card.number'], event: secret })).body).toBe(1);
      const got = await ws.next((d) => d.event.type === 'PaymentTakenEvent');
      expect(got.event.card).toEqual({ number: '4111111111111111', holder: 'Ada' });
      const record = await waitFor(() => stored.find((s) => s.data.deliveryId === got.id), { description: 'the stored UserEventSentEvent' });
      expect(record.data.event.card).toEqual({ number: '****************', holder: 'Ada' });
      expect(JSON.stringify(record)).not.toContain('4111111111111111');
      sub.unsubscribe();
      await ws.close();
    });

    it('conference events and conference sendEvent reach every joined endpoint', async () => {
      await register(agent, 'ep-ca');
      await register(customer, 'ep-cc');
      const conf = (await agent.post('/conferences/create', {})).body.id as string;
      await agent.post('/conferences/join', { conferenceId: conf, userEndpointId: 'ep-ca' });
      const ws = await socket(agent, 'ep-ca');
      await customer.post('/conferences/join', { conferenceId: conf, userEndpointId: 'ep-cc' });
      const joined = await ws.next((d) => d.event.type === 'ConferenceJoinedEvent' && d.event.userEndpointId === 'ep-cc', 0, "the customer's join");
      expect(joined.event).toMatchObject({ conferenceId: conf, organizationId: 'org-a', userId: 'cust-1' });
      const r = await service.post('/conferences/sendEvent', { conferenceId: conf, qos: 'AT_LEAST_ONCE', event: event('CobrowseStartedEvent') });
      expect(r.body).toEqual({ eventsSent: 2 });
      const sent = await ws.next((d) => d.event.type === 'CobrowseStartedEvent');
      expect(sent.qos).toBe(1);
      ws.ack(sent.id);
      // The leaving endpoint still receives its own ConferenceLeftEvent; the others too.
      const customerWs = await socket(customer, 'ep-cc');
      await customer.post('/conferences/leave', { conferenceId: conf, userEndpointId: 'ep-cc' });
      for (const s of [ws, customerWs]) expect((await s.next((d) => d.event.type === 'ConferenceLeftEvent', 0, 'the leave')).event).toMatchObject({ conferenceId: conf, userEndpointId: 'ep-cc' });
      await agent.post('/conferences/updateMetadata', { conferenceId: conf, userEndpointId: 'ep-ca', operation: 'SET', key: 'after-leave', value: 'x' });
      await ws.next((d) => d.event.type === 'ConferenceMetadataUpdatedEvent' && d.event.key === 'after-leave', 0, 'the update after the leave');
      expect(customerWs.received.some((d) => d.event.type === 'ConferenceMetadataUpdatedEvent')).toBe(false);
      await customerWs.close();
      await ws.close();
    });

    it('the long-poll fallback serves the same deliveries, and acknowledges qos 1 with ?ack=', async () => {
      await register(customer, 'ep-lp');
      const empty = customer.get('/users/endpoints/ep-lp/events'); // opens the session, waits
      await waitFor(async () => (await agent.post('/users/endpoints/sendEvent', { userId: 'cust-1', userEndpointId: 'ep-lp', qos: 1, event: event('NoteAddedEvent', { n: 'lp' }) })).body === 1);
      const first = await empty;
      expect(first.status).toBe(200);
      const got = first.body.length ? first.body : (await customer.get('/users/endpoints/ep-lp/events')).body;
      expect(got[0]).toMatchObject({ qos: 1, event: { n: 'lp' } });
      await agent.post('/users/endpoints/sendEvent', { userId: 'cust-1', userEndpointId: 'ep-lp', event: event('NoteAddedEvent', { n: 'lp-2' }) });
      const next = await customer.get(`/users/endpoints/ep-lp/events?ack=${got[0].id}`);
      expect(next.body.map((d: { event: { n: string } }) => d.event.n)).toEqual(['lp-2']);
    });

    it('an event sent while the endpoints have no session waits for them: two endpoints of one user, each receives it once on its next poll', async () => {
      const away = await stack.api('cust-away', 'org-a', ['CUSTOMER']);
      await register(away, 'ep-away-1');
      await register(away, 'ep-away-2');
      const sent = await agent.post('/users/endpoints/sendEvent', { userId: 'cust-away', qos: 0, event: event('NoteAddedEvent', { n: 'while-away' }) });
      expect(sent.body).toBe(2);
      const ids = new Set<string>();
      for (const ep of ['ep-away-1', 'ep-away-2']) {
        const got = await pollUntil(away, ep, (all) => all.some((d) => d.event.n === 'while-away'));
        // A marker sent to the session the poll opened: the poll that brings it would bring a second copy too.
        await agent.post('/users/endpoints/sendEvent', { userId: 'cust-away', userEndpointId: ep, event: event('NoteAddedEvent', { n: `marker-${ep}` }) });
        got.push(...(await pollUntil(away, ep, (all) => all.some((d) => d.event.n === `marker-${ep}`))));
        const copies = got.filter((d) => d.event.n === 'while-away');
        expect(copies).toEqual([expect.objectContaining({ qos: 0 })]);
        ids.add(copies[0].id);
      }
      expect(ids.size).toBe(1); // one delivery, to both
    });

    it("a conference sendEvent (BEST_EFFORT) reaches a joined endpoint that has no session on its next poll; the conference's own events are read from its feed", async () => {
      await register(customer, 'ep-conf-away');
      const conf = (await agent.post('/conferences/create', {})).body.id as string;
      expect((await customer.post('/conferences/join', { conferenceId: conf, userEndpointId: 'ep-conf-away' })).status).toBe(200);
      const r = await service.post('/conferences/sendEvent', { conferenceId: conf, qos: 'BEST_EFFORT', event: event('CobrowseStartedEvent', { n: 'conf-away' }) });
      expect(r.body).toEqual({ eventsSent: 1 });
      const got = await pollUntil(customer, 'ep-conf-away', (all) => all.some((d) => d.event.n === 'conf-away'));
      expect(got.filter((d) => d.event.n === 'conf-away')).toEqual([expect.objectContaining({ qos: 0 })]);
      // Its join was pushed live only (nobody was connected): not queued, but in the conference's feed.
      expect(got.filter((d) => d.event.type === 'ConferenceJoinedEvent')).toEqual([]);
      const feed = await customer.get(`/conferences/${conf}/events?v=0`);
      expect(feed.body.find((e: { type: string }) => e.type === 'ConferenceJoinedEvent')).toMatchObject({ userEndpointId: 'ep-conf-away' });
    });

    it('an id first registered after staff used it unregistered starts with an empty queue', async () => {
      const conf = (await agent.post('/conferences/create', {})).body.id as string;
      expect((await agent.post('/conferences/join', { conferenceId: conf, userEndpointId: 'ep-unowned' })).status).toBe(200); // nobody registered it
      expect((await service.post('/conferences/sendEvent', { conferenceId: conf, qos: 'AT_LEAST_ONCE', event: event('CobrowseStartedEvent', { n: 'for-staff' }) })).body).toEqual({ eventsSent: 1 });
      await waitFor(() => queued('ep-unowned'), { description: 'the event queued for the unregistered id' });
      await register(customer, 'ep-unowned');
      expect(await queued('ep-unowned')).toBe(false);
      await agent.post('/users/endpoints/sendEvent', { userId: 'cust-1', userEndpointId: 'ep-unowned', event: event('NoteAddedEvent', { n: 'for-the-owner' }) });
      const got = await pollUntil(customer, 'ep-unowned', (all) => all.some((d) => d.event.n === 'for-the-owner'));
      expect(got.map((d) => d.event.n)).toEqual(['for-the-owner']);
    });

    it('two gateways on one NATS: an endpoint connected to one receives what is sent through the other', async () => {
      const second: RunningGateway = await startGateway(testGatewayConfig(stack.nats.url), stack.auth);
      try {
        await register(customer, 'ep-far');
        const ws = await EndpointSocket.open(second.url, customer.token!, 'ep-far');
        expect((await agent.post('/users/endpoints/sendEvent', { userId: 'cust-1', userEndpointId: 'ep-far', event: event('NoteAddedEvent', { n: 'across' }) })).body).toBe(1);
        await ws.next((d) => d.event.n === 'across');
        // A newer socket on the first gateway replaces the one on the second.
        const near = await socket(customer, 'ep-far');
        await waitFor(() => ws.closeCode === 4001, { description: 'the older socket closed as replaced' });
        await agent.post('/users/endpoints/sendEvent', { userId: 'cust-1', userEndpointId: 'ep-far', event: event('NoteAddedEvent', { n: 'back' }) });
        await near.next((d) => d.event.n === 'back');
        await near.close();
      } finally {
        await second.close();
      }
    });
  });

  describe('organization isolation', () => {
    it('a user of organization B cannot send to, connect to, or read the events of an endpoint of organization A', async () => {
      await register(customer, 'ep-private');
      const send = await outsider.post('/users/endpoints/sendEvent', { userId: 'cust-1', userEndpointId: 'ep-private', event: event('NoteAddedEvent') });
      expect(send.status).toBe(404);
      const toUser = await outsider.post('/users/endpoints/sendEvent', { userId: 'cust-1', organizationId: 'org-a', event: event('NoteAddedEvent') });
      // Another organization's users are its data: not found, whatever the caller's role.
      expect(toUser.status).toBe(404);
      await expect(socket(outsider, 'ep-private')).rejects.toMatchObject({ status: 404 });
      expect((await outsider.get('/users/endpoints/ep-private/events')).status).toBe(404);
      expect((await outsider.post('/users/endpoints/keepalive', { userEndpointId: 'ep-private' })).status).toBe(404);
      // ...and the same id is free in organization B: ids are scoped to an organization.
      expect((await outsider.post('/users/endpoints', { userEndpointId: 'ep-private', keepAliveSeconds: 30 })).body).toBe('ep-private');
    });

    it('the socket refuses a missing or bad token (401) and an endpoint of another user (404)', async () => {
      await register(customer, 'ep-mine');
      await expect(EndpointSocket.open(stack.gateway.url, 'not-a-token', 'ep-mine')).rejects.toMatchObject({ status: 401 });
      await expect(socket(agent, 'ep-mine')).rejects.toMatchObject({ status: 404 });
    });
  });
});
