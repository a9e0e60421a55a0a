import { existsSync, readdirSync } from 'node:fs';
import { connect as connectTcp } from 'node:net';
import { join } from 'node:path';
import { type SyntheticMedia, type WrtcPeerConnection, peerConnection, sendOffer, syntheticMedia, waitFor } from '@parley/testing';
import { startGateway, type RunningGateway } from '../apps/gateway/src';
import { EndpointSocket } from './support/endpoint-socket';
import { Api, Stack, testGatewayConfig } from './support/stack';

/**
 * What an outside tester found (issue 8), each as a test: no request may take Parley down, wedge
 * a part of it, or let one user starve the others. The stack is the whole system on real parts
 * (NATS, PGlite, the conference, presence, snapshot and media services, the gateway) with small quotas so
 * that each can be reached.
 */
describe('robustness: no request takes Parley down or starves others', () => {
  let stack: Stack;
  const peers: WrtcPeerConnection[] = [];
  const sources: SyntheticMedia[] = [];
  const longPollTimeoutMs = 1000;

  beforeAll(async () => {
    stack = await Stack.start({
      gateway: { longPollTimeoutMs, quotas: { parkedPolls: 3, pollSessions: 2, sockets: 2, uploads: 2 } },
      conference: { env: { QUOTA_CONFERENCE_PARTICIPANTS: '4', QUOTA_PARTICIPANT_PUBLICATIONS: '1', QUOTA_PARTICIPANT_VIEWS: '32', QUOTA_CONFERENCE_TRANSPORTS: '200', QUOTA_USER_ACTIVE_CONFERENCES: '3' } },
      presence: { env: { QUOTA_USER_ENDPOINTS: '3' } },
      interaction: {},
      snapshot: {},
      media: {},
    });
  });
  afterAll(async () => {
    sources.forEach((s) => s.stop());
    peers.forEach((p) => p.close());
    await stack?.stop();
  });

  /** Every service answers and no relay dead-lettered anything. */
  const expectHealthy = async () => {
    const h = await stack.anonymous().request('GET', '/health');
    expect(h.status).toBe(200);
    expect(h.body).toMatchObject({
      status: 'ok',
      services: { conference: { status: 'ok', relay: { deadLetters: 0 } }, presence: { status: 'ok', relay: { deadLetters: 0 } }, media: { status: 'ok' } },
    });
  };
  /** A conference `agent` created and joined from `ep`. */
  const callOf = async (agent: Api, ep = 'ep-a') => {
    const created = await agent.post('/conferences/create', {});
    expect(created.status).toBe(200);
    expect((await agent.post('/conferences/join', { conferenceId: created.body.id, userEndpointId: ep })).status).toBe(200);
    return created.body.id as string;
  };
  const set = (agent: Api, conferenceId: string, key: string, value: string, ep = 'ep-a') =>
    agent.post('/conferences/updateMetadata', { conferenceId, userEndpointId: ep, operation: 'SET', key, value });

  describe('1. no answer too heavy to deliver', () => {
    it('a metadata value past its bound is 400 naming it; values within it fill a conference until its own bound (413); it is read back whole', async () => {
      const agent = await stack.api('agent-1a', 'org-1', ['AGENT']);
      const id = await callOf(agent);
      const huge = await set(agent, id, 'k', 'x'.repeat(60_000));
      expect(huge.status).toBe(400);
      expect(huge.body.message).toMatch(/value must be at most 16384 bytes as JSON/);
      const statuses: number[] = [];
      let refusal: any;
      for (let i = 0; i < 20 && !refusal; i++) {
        const r = await set(agent, id, `k${i}`, 'x'.repeat(16_000));
        statuses.push(r.status);
        if (r.status !== 204) refusal = r;
      }
      expect(statuses.slice(0, 10)).toEqual(Array(10).fill(204));
      expect(refusal.status).toBe(413);
      expect(refusal.body).toMatchObject({ message: expect.stringMatching(/the limit is 262144 bytes/), details: { bound: 'conferenceBytes', limit: 262144 } });
      const conference = await agent.get(`/conferences/${id}`);
      expect(conference.status).toBe(200);
      expect(JSON.stringify(conference.body).length).toBeLessThanOrEqual(262144);
      expect((await agent.get(`/conferences/${id}/simpleView`)).status).toBe(200);
      expect((await agent.get(`/conferences/${id}/events?v=0`)).body.length).toBe(2 + statuses.filter((s) => s === 204).length);
      await expectHealthy();
    });

    it('participant metadata past its bound is refused (a 600 KB join is over the body limit; 20 KB over the document bound)', async () => {
      const agent = await stack.api('agent-1b', 'org-1', ['AGENT']);
      const id = (await agent.post('/conferences/create', {})).body.id;
      const before = await stack.eventCount();
      const over = await agent.post('/conferences/join', { conferenceId: id, userEndpointId: 'ep-1', metadata: { blob: 'x'.repeat(600_000) } });
      expect(over.status).toBe(413);
      expect(over.body.message).toMatch(/the limit is 262144 bytes \(BODY_LIMIT_BYTES\)/);
      const doc = await agent.post('/conferences/join', { conferenceId: id, userEndpointId: 'ep-1', metadata: { blob: 'x'.repeat(20_000) } });
      expect(doc.status).toBe(400);
      expect(doc.body.message).toMatch(/metadata must be at most 16384 bytes as JSON/);
      expect(await stack.eventCount()).toBe(before);
      expect((await agent.get('/conferences/active')).status).toBe(200);
    });

    it("an organization's active conferences heavier together than a NATS reply are answered whole (paged, streamed)", async () => {
      const agent = await stack.api('agent-1c', 'org-big', ['AGENT']);
      const other = await stack.api('agent-1d', 'org-big', ['AGENT']);
      const ids: string[] = [];
      for (const api of [agent, agent, agent, other, other]) {
        const id = await callOf(api);
        for (let i = 0; i < 14; i++) expect((await set(api, id, `k${i}`, 'y'.repeat(16_000))).status).toBe(204);
        ids.push(id);
      }
      const res = await fetch(`${stack.gateway.url}/rtc-api/conferences/active`, { headers: { authorization: `Bearer ${agent.token}` } });
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toMatch(/application\/json/);
      const text = await res.text();
      expect(text.length).toBeGreaterThan(1024 * 1024);
      expect((JSON.parse(text) as { id: string }[]).map((c) => c.id)).toEqual(ids);
      await expectHealthy();
    });

    it('a publishStream offer with thousands of m-sections is refused, and the media service lives on', async () => {
      const agent = await stack.api('agent-1e', 'org-1', ['AGENT']);
      const id = await callOf(agent);
      const media = syntheticMedia();
      sources.push(media);
      const pc = peerConnection();
      peers.push(pc);
      const offer = await sendOffer(pc, [media.audioTrack]);
      const tiny = (n: number) => Array.from({ length: n }, (_, i) => `m=audio 9 UDP/TLS/RTP/SAVPF 111\r\na=mid:t${i}\r\na=recvonly\r\n`).join('');
      const body = (sdpOffer: string) => ({ conferenceId: id, userEndpointId: 'ep-a', conferenceStreamType: 'MIC', sdpOffer });
      const fuzzers = await agent.post('/conferences/publishStream', body(offer + tiny(6000)));
      expect(fuzzers.status).toBe(413);
      const long = await agent.post('/conferences/publishStream', body(offer + tiny(2000)));
      expect(long.status).toBe(400);
      expect(long.body.message).toMatch(/sdpOffer must be shorter than or equal to 65536 characters/);
      const many = await agent.post('/conferences/publishStream', body(offer + tiny(100)));
      expect(many.status).toBe(400);
      expect(many.body.message).toMatch(/101 m-sections; the limit is 16/);
      await expectHealthy();
      expect((await stack.sfu.usage(`org-1/${id}`)).transports).toBe(0);
    });
  });

  describe('2. an event too large for the bus is never accepted', () => {
    it('a sendEvent of about 1 MB is 413, one past the event bound 400, and the relays go on', async () => {
      const service = await stack.api('crm', 'org-2', ['SERVICE']);
      const agent = await stack.api('agent-2', 'org-2', ['AGENT']);
      await agent.post('/users/endpoints/register', { userEndpointId: 'ep-2', keepAliveSeconds: 60 });
      const event = (bytes: number) => ({ type: 'NoteAddedEvent', timestamp: new Date().toISOString(), text: 'x'.repeat(bytes) });
      const before = await stack.eventCount();
      const mega = await service.post('/users/endpoints/sendEvent', { userId: 'agent-2', organizationId: 'org-2', event: event(1_000_000) });
      expect(mega.status).toBe(413);
      const big = await service.post('/users/endpoints/sendEvent', { userId: 'agent-2', organizationId: 'org-2', event: event(100_000) });
      expect(big.status).toBe(400);
      expect(big.body.message).toMatch(/event must be at most 65536 bytes as JSON/);
      const id = await callOf(agent, 'ep-2');
      const conf = await service.post('/conferences/sendEvent', { conferenceId: id, event: event(100_000) });
      expect(conf.status).toBe(400);
      expect(await stack.eventCount()).toBe(before + 2); // the create and the join
      expect((await service.post('/users/endpoints/sendEvent', { userId: 'agent-2', organizationId: 'org-2', event: event(50_000) })).body).toBe(1);
      await expectHealthy();
    });
  });

  describe('2b. a relay that cannot be stopped by one event', () => {
    it('dead-letters an event it can never publish (one stored before events were bounded), says so in /health and /metrics, and relays the rest', async () => {
      const own = await Stack.start({ conference: { env: { RELAY_POLL_MS: '50' } }, presence: {}, interaction: {}, snapshot: {}, media: {} });
      try {
        // Written by hand, as an older version without the bound could have: 1.2 MB, over NATS's max_payload.
        await own.conference!.kit.store.transaction((sql) =>
          sql.query(
            `insert into events (stream_id, stream_version, event_id, type, schema_version, data, metadata)
             values ('conference/org-old/huge', 1, gen_random_uuid(), 'ConferenceCreatedEvent', 2, $1::jsonb, $2::jsonb)`,
            [
              JSON.stringify({ conferenceId: 'huge', organizationId: 'org-old', mode: 'ROUTER', creator: 'u', metadata: { blob: { value: 'x'.repeat(1_200_000), userId: 'u', lastModified: '2026-01-01T00:00:00Z' } } }),
              JSON.stringify({ correlationId: 'c', causationId: 'c', userId: 'u', organizationId: 'org-old', time: '2026-01-01T00:00:00Z' }),
            ],
          ),
        );
        // An event after it is published: the relay went on.
        const nc = await own.connectNats();
        const relayed: string[] = [];
        nc.subscribe('parley.evt.conference.org-2b.>', { callback: (_e, m) => relayed.push(m.subject) });
        await nc.flush();
        const agent = await own.api('agent-2b', 'org-2b', ['AGENT']);
        const id = (await agent.post('/conferences/create', {})).body.id;
        await waitFor(() => relayed.includes(`parley.evt.conference.org-2b.${id}.ConferenceCreatedEvent`), { description: 'the next event relayed' });
        await nc.close();
        const health = await waitFor(
          async () => {
            const h = await own.anonymous().request('GET', '/health');
            return h.body.services?.conference?.relay?.deadLetters === 1 ? h.body : undefined;
          },
          { description: 'the dead letter in /health' },
        );
        expect(health).toMatchObject({ status: 'degraded', warnings: expect.arrayContaining([expect.stringMatching(/conference's relay dead-lettered 1 event\(s\).*larger than the NATS server's max_payload/)]) });
        expect(health.services.conference.relay.lastDeadLetter).toMatchObject({ streamId: 'conference/org-old/huge', type: 'ConferenceCreatedEvent' });
        expect(await (await fetch(own.gateway.metricsUrl)).text()).toMatch(/parley_relay_dead_letters\{service="conference"\} 1/);
      } finally {
        await own.stop();
      }
    });
  });

  describe('3. quotas: one user cannot hold everything', () => {
    const expectQuota = (res: { status: number; body: any; headers: Headers }, quota: string, limit: number, retryAfter: string) => {
      expect({ status: res.status, quota: res.body.details?.quota, limit: res.body.details?.limit, retryAfter: res.headers.get('retry-after') }).toEqual({ status: 429, quota, limit, retryAfter });
      expect(res.body.message).toMatch(/the most/);
    };

    it('registered endpoints per user (QUOTA_USER_ENDPOINTS)', async () => {
      const user = await stack.api('user-3a', 'org-3', ['CUSTOMER']);
      for (const ep of ['e1', 'e2', 'e3']) expect((await user.post('/users/endpoints/register', { userEndpointId: ep, keepAliveSeconds: 60 })).status).toBe(200);
      expectQuota(await user.post('/users/endpoints/register', { userEndpointId: 'e4', keepAliveSeconds: 60 }), 'endpointsPerUser', 3, '30');
      // Renewing one is no new endpoint; after an unregister there is room again; other users are not held back.
      expect((await user.post('/users/endpoints/register', { userEndpointId: 'e1', keepAliveSeconds: 60 })).status).toBe(200);
      expect((await user.post('/users/endpoints/unregister', { userEndpointId: 'e3' })).status).toBe(204);
      expect((await user.post('/users/endpoints/register', { userEndpointId: 'e4', keepAliveSeconds: 60 })).status).toBe(200);
      expect((await (await stack.api('user-3b', 'org-3', ['CUSTOMER'])).post('/users/endpoints/register', { userEndpointId: 'e5', keepAliveSeconds: 60 })).status).toBe(200);
    });

    it('long polls waiting per user (QUOTA_USER_PARKED_POLLS), freed when they answer', async () => {
      const agent = await stack.api('agent-3c', 'org-3', ['AGENT']);
      const id = (await agent.post('/conferences/create', {})).body.id;
      const parked = [1, 2, 3].map(() => agent.get(`/conferences/${id}/events?v=1`));
      await new Promise((r) => setTimeout(r, 200));
      expectQuota(await agent.get(`/conferences/${id}/events?v=1`), 'parkedPolls', 3, '1');
      expect((await Promise.all(parked)).map((r) => r.status)).toEqual([200, 200, 200]);
      expect((await agent.get(`/conferences/${id}/events?v=0`)).status).toBe(200);
    });

    it('endpoint long-poll sessions per user (QUOTA_USER_POLL_SESSIONS)', async () => {
      const user = await stack.api('user-3d', 'org-3', ['CUSTOMER']);
      for (const ep of ['p1', 'p2', 'p3']) await user.post('/users/endpoints/register', { userEndpointId: ep, keepAliveSeconds: 60 });
      expect((await Promise.all(['p1', 'p2'].map((ep) => user.get(`/users/endpoints/${ep}/events`)))).map((r) => r.status)).toEqual([200, 200]);
      expectQuota(await user.get('/users/endpoints/p3/events'), 'pollSessions', 2, '30');
      // The sessions of p1 and p2 still serve their next polls.
      expect((await user.get('/users/endpoints/p1/events')).status).toBe(200);
    });

    it('WebSocket push channels per user (QUOTA_USER_SOCKETS), freed when one closes', async () => {
      const user = await stack.api('user-3e', 'org-3', ['CUSTOMER']);
      for (const ep of ['w1', 'w2', 'w3']) await user.post('/users/endpoints/register', { userEndpointId: ep, keepAliveSeconds: 60 });
      const open = [await EndpointSocket.open(stack.gateway.url, user.token!, 'w1'), await EndpointSocket.open(stack.gateway.url, user.token!, 'w2')];
      await expect(EndpointSocket.open(stack.gateway.url, user.token!, 'w3')).rejects.toMatchObject({ status: 429 });
      await open[0].close();
      const again = await waitForSocket(stack.gateway.url, user.token!, 'w3');
      await Promise.all([again.close(), open[1].close()]);
    });

    it('uploads one user streams at once (QUOTA_USER_UPLOADS), freed when one ends; others upload meanwhile', async () => {
      const user = await stack.api('user-3u', 'org-3', ['AGENT']);
      const boundary = 'quota-boundary';
      const head = Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="applicationId"\r\n\r\napp\r\n--${boundary}\r\nContent-Disposition: form-data; name="targetId"\r\n\r\nsomeone\r\n--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="slow.txt"\r\n\r\n`);
      const tail = Buffer.from(`\r\n--${boundary}--\r\n`);
      /** An upload whose file part keeps coming until `finish` is called. */
      const slowUpload = () => {
        let finish!: () => void;
        const ended = new Promise<void>((resolve) => (finish = resolve));
        const body = new ReadableStream<Uint8Array>({
          async start(controller) {
            controller.enqueue(head);
            // More than the gateway reads to tell the type: it is writing to the store from then on.
            controller.enqueue(Buffer.alloc(5000, 'a'));
            await ended;
            controller.enqueue(tail);
            controller.close();
          },
        });
        const response = fetch(`${stack.gateway.url}/rtc-api/filetransfers?targetType=user`, {
          method: 'POST',
          headers: { authorization: `Bearer ${user.token}`, 'content-type': `multipart/form-data; boundary=${boundary}` },
          body,
          duplex: 'half',
        } as RequestInit);
        return { response, finish };
      };
      const first = slowUpload();
      const second = slowUpload();
      // Both are streaming into the store (the quota is 2 in this stack): the third is refused at once.
      const incoming = join(stack.dataDir, 'blobs', '.incoming');
      await waitFor(() => existsSync(incoming) && readdirSync(incoming).length === 2, { description: 'two uploads being written' });
      const third = await user.upload('/filetransfers?targetType=user', { applicationId: 'app', targetId: 'someone' }, { field: 'file', bytes: Buffer.from('x') });
      expectQuota(third, 'uploads', 2, '30');
      // Another user is not held up.
      const other = await stack.api('user-3v', 'org-3', ['AGENT']);
      expect((await other.upload('/filetransfers?targetType=user', { applicationId: 'app', targetId: 'someone' }, { field: 'file', bytes: Buffer.from('y') })).status).toBe(200);
      first.finish();
      expect((await first.response).status).toBe(200);
      expect((await user.upload('/filetransfers?targetType=user', { applicationId: 'app', targetId: 'someone' }, { field: 'file', bytes: Buffer.from('z') })).status).toBe(200);
      second.finish();
      expect((await second.response).status).toBe(200);
    });

    it('participants per conference (QUOTA_CONFERENCE_PARTICIPANTS) and unended conferences per user (QUOTA_USER_ACTIVE_CONFERENCES)', async () => {
      const agent = await stack.api('agent-3f', 'org-3', ['AGENT']);
      const id = (await agent.post('/conferences/create', {})).body.id;
      for (let i = 0; i < 4; i++) expect((await agent.post('/conferences/join', { conferenceId: id, userEndpointId: `j${i}` })).status).toBe(200);
      expectQuota(await agent.post('/conferences/join', { conferenceId: id, userEndpointId: 'j4' }), 'participants', 4, '30');
      await agent.post('/conferences/create', {});
      const third = (await agent.post('/conferences/create', {})).body.id;
      expectQuota(await agent.post('/conferences/create', {}), 'activeConferencesPerUser', 3, '30');
      await agent.post('/conferences/join', { conferenceId: third, userEndpointId: 'j0' });
      expect((await agent.post('/conferences/end', { conferenceId: third, userEndpointId: 'j0' })).status).toBe(204);
      expect((await agent.post('/conferences/create', {})).status).toBe(200);
    });

    it('publications per participant (QUOTA_PARTICIPANT_PUBLICATIONS): the SFU is not asked for a second', async () => {
      const customer = await stack.api('cust-3g', 'org-3', ['CUSTOMER']);
      // A customer joins with an endpoint it registered.
      await customer.post('/users/endpoints/register', { userEndpointId: 'ep-c', keepAliveSeconds: 600 });
      const id = await callOf(customer, 'ep-c');
      const media = syntheticMedia();
      sources.push(media);
      const publish = async () => {
        const pc = peerConnection();
        peers.push(pc);
        return customer.post('/conferences/publishStream', { conferenceId: id, userEndpointId: 'ep-c', conferenceStreamType: 'MIC', sdpOffer: await sendOffer(pc, [media.audioTrack]) });
      };
      expect((await publish()).status).toBe(200);
      expectQuota(await publish(), 'publicationsPerParticipant', 1, '30');
      expect((await stack.sfu.usage(`org-3/${id}`)).transports).toBe(1);
    });

    describe('rate limits (a gateway with small ones)', () => {
      let limited: RunningGateway;
      beforeAll(async () => {
        limited = await startGateway(testGatewayConfig(stack.nats.url, { rateLimits: { windowMs: 60_000, perToken: 5, perAddress: 8, tokenPerClient: 3, tokenPerAddress: 5 } }), stack.auth);
      });
      afterAll(() => limited?.close());

      it('per token, then per address; /health is never limited', async () => {
        const a = new Api(limited.url, await stack.token('rl-a', 'org-4', ['AGENT']));
        const b = new Api(limited.url, await stack.token('rl-b', 'org-4', ['AGENT']));
        for (let i = 0; i < 5; i++) expect((await a.get('/conferences/active')).status).toBe(200);
        const over = await a.get('/conferences/active');
        expect(over.status).toBe(429);
        expect(over.body).toMatchObject({ message: expect.stringMatching(/Too many requests with this token: at most 5 per 60 s/), details: { quota: 'perToken', limit: 5 } });
        expect(Number(over.headers.get('retry-after'))).toBeGreaterThan(0);
        expect(await (await fetch(limited.metricsUrl)).text()).toMatch(/parley_rate_limited_total\{limit="perToken"\} 1/);
        // Another token from the same address goes on, until the address's own limit (8: six are a's).
        expect((await b.get('/conferences/active')).status).toBe(200);
        expect((await b.get('/conferences/active')).status).toBe(200);
        const address = await b.get('/conferences/active');
        expect(address.status).toBe(429);
        expect(address.body.details).toMatchObject({ quota: 'perAddress', limit: 8 });
        expect((await new Api(limited.url).request('GET', '/health')).status).toBe(200);
      });

      it('the token endpoint, per client id and per address, in RFC 6749 shape', async () => {
        const attempt = (secret: string) =>
          new Api(limited.url).request('POST', '/rtc-api/oauth/token', `grant_type=client_credentials&client_id=crm&client_secret=${secret}`, { 'content-type': 'application/x-www-form-urlencoded' });
        expect((await attempt('wrong-1')).status).toBe(401);
        expect((await attempt('wrong-2')).status).toBe(401);
        expect((await attempt('crm-secret')).status).toBe(200);
        const guessed = await attempt('wrong-3');
        expect(guessed.status).toBe(429);
        expect(guessed.body).toEqual({ error: 'temporarily_unavailable', error_description: expect.stringMatching(/Too many requests for tokens of this client: at most 3 per 60 s/) });
        expect(Number(guessed.headers.get('retry-after'))).toBeGreaterThan(0);
        expect(guessed.headers.get('cache-control')).toBe('no-store'); // RFC 6749 §5.1/§5.2: no answer of the token endpoint is cached
        const other = (id: string) => new Api(limited.url).request('POST', '/rtc-api/oauth/token', `grant_type=client_credentials&client_id=${id}&client_secret=x`, { 'content-type': 'application/x-www-form-urlencoded' });
        expect((await other('nobody-1')).status).toBe(401); // the fifth from this address
        expect((await other('nobody-2')).body).toEqual({ error: 'temporarily_unavailable', error_description: expect.stringMatching(/Too many requests for tokens from this address: at most 5/) });
      });
    });
  });

  describe('4. deep nesting', () => {
    it('is a 400 on JSON routes, found before parsing goes deep, and changes nothing', async () => {
      const agent = await stack.api('agent-4', 'org-1', ['AGENT']);
      const deep = `{"conferenceId":"c","userEndpointId":"e","metadata":${'{"a":'.repeat(4000)}1${'}'.repeat(4000)}}`;
      const before = await stack.eventCount();
      for (const path of ['/conferences/join', '/conferences/create', '/users/endpoints/sendEvent', '/users/endpoints/register']) {
        const r = await agent.post(path, deep);
        expect({ path, status: r.status, message: r.body.message }).toEqual({ path, status: 400, message: 'The request body nests objects and arrays more than 32 deep (the limit)' });
      }
      expect(await stack.eventCount()).toBe(before);
    });
  });

  describe('5. strings PostgreSQL cannot store, and SDP mediasoup refuses', () => {
    it('a NUL or an unpaired surrogate in a value or a key is a 400 that names where, and stores nothing', async () => {
      const agent = await stack.api('agent-5', 'org-1', ['AGENT']);
      const id = await callOf(agent);
      const before = await stack.eventCount();
      const cases: [string, string][] = [
        [`{"conferenceId":"${id}","userEndpointId":"ep-a","operation":"SET","key":"k","value":"a\\u0000b"}`, 'value contains a NUL character (U+0000)'],
        [`{"conferenceId":"${id}","userEndpointId":"ep-a","operation":"SET","key":"k","value":"a\\ud800b"}`, 'value contains an unpaired UTF-16 surrogate'],
      ];
      for (const [body, why] of cases) {
        const r = await agent.post('/conferences/updateMetadata', body);
        expect({ status: r.status, message: r.body.message }).toEqual({ status: 400, message: `The request body cannot be stored: ${why}` });
      }
      const key = await agent.post('/conferences/updateParticipantMetadata', `{"conferenceId":"${id}","userEndpointId":"ep-a","newMetadata":{"\\udfff":1}}`);
      expect(key.status).toBe(400);
      expect(key.body.message).toMatch(/a key in newMetadata contains an unpaired UTF-16 surrogate/);
      expect(await stack.eventCount()).toBe(before);
    });

    it('an offer without SSRCs, or with a fingerprint algorithm mediasoup does not know, is a 400', async () => {
      const customer = await stack.api('cust-5', 'org-1', ['CUSTOMER']);
      await customer.post('/users/endpoints/register', { userEndpointId: 'ep-c', keepAliveSeconds: 600 });
      const id = await callOf(customer, 'ep-c');
      const media = syntheticMedia();
      sources.push(media);
      const pc = peerConnection();
      peers.push(pc);
      const good = await sendOffer(pc, [media.videoTrack]);
      const noSsrc = good.split('\r\n').filter((l) => !/^a=ssrc(-group)?:/.test(l)).join('\r\n');
      const badFingerprint = good.replace(/a=fingerprint:sha-256 \S+/, 'a=fingerprint:sha-999 00:11');
      for (const sdpOffer of [noSsrc, badFingerprint]) {
        const r = await customer.post('/conferences/publishStream', { conferenceId: id, userEndpointId: 'ep-c', conferenceStreamType: 'CAM', sdpOffer });
        expect({ status: r.status, message: r.body.message }).toEqual({ status: 400, message: expect.stringMatching(/^the SFU cannot use this SDP offer: /) });
      }
      expect((await stack.sfu.usage(`org-1/${id}`)).transports).toBe(0);
      await expectHealthy();
    });
  });

  describe('6. long-poll sessions', () => {
    it('first polls that arrive together share one session: none of the later polls is a 404', async () => {
      const user = await stack.api('user-6', 'org-6', ['CUSTOMER']);
      await user.post('/users/endpoints/register', { userEndpointId: 'lp', keepAliveSeconds: 60 });
      const first = await Promise.all([1, 2, 3].map(() => user.get('/users/endpoints/lp/events')));
      expect(first.map((r) => r.status)).toEqual([200, 200, 200]);
      const service = await stack.api('crm', 'org-6', ['SERVICE']);
      const waiting = user.get('/users/endpoints/lp/events');
      await new Promise((r) => setTimeout(r, 100));
      expect((await service.post('/users/endpoints/sendEvent', { userId: 'user-6', organizationId: 'org-6', event: { type: 'NoteAddedEvent', timestamp: new Date().toISOString(), n: 1 } })).body).toBe(1);
      const got = await waiting;
      expect(got.status).toBe(200);
      expect(got.body.map((d: any) => d.event.n)).toEqual([1]);
      for (let i = 0; i < 3; i++) expect((await user.get('/users/endpoints/lp/events')).status).toBe(200);
    });
  });

  describe('7. what the HTTP parser refuses', () => {
    /** Sends raw bytes on a new connection and reads the whole answer (the server closes it). */
    const raw = (bytes: Buffer | string) =>
      new Promise<string>((resolve, reject) => {
        const { port } = new URL(stack.gateway.url);
        const socket = connectTcp(Number(port), '127.0.0.1', () => socket.end(bytes));
        let answer = '';
        socket.on('data', (d) => (answer += d.toString('latin1')));
        socket.on('close', () => resolve(answer));
        socket.on('error', reject);
      });

    it('a URL over the header limit is 431, a request line with raw non-ASCII bytes 400: JSON with a message, and Connection: close', async () => {
      const long = await raw(`GET /rtc-api/conferences/${'a'.repeat(100_000)} HTTP/1.1\r\nHost: x\r\n\r\n`);
      expect(long).toMatch(/^HTTP\/1\.1 431 /);
      expect(long).toMatch(/\r\nConnection: close\r\n/i);
      expect(JSON.parse(long.slice(long.indexOf('\r\n\r\n') + 4)).message).toMatch(/larger than the server accepts/);
      const bytes = await raw(Buffer.concat([Buffer.from('GET /rtc-api/conferences/'), Buffer.from([0xff, 0x00, 0xfe]), Buffer.from(' HTTP/1.1\r\nHost: x\r\n\r\n')]));
      expect(bytes).toMatch(/^HTTP\/1\.1 400 /);
      expect(bytes).toMatch(/\r\nConnection: close\r\n/i);
      expect(JSON.parse(bytes.slice(bytes.indexOf('\r\n\r\n') + 4)).message).toMatch(/not valid HTTP/);
    });

    it("a keep-alive client's next request after a 431 works", async () => {
      const agent = await stack.api('agent-7', 'org-1', ['AGENT']);
      for (let i = 0; i < 3; i++) {
        expect((await agent.get(`/conferences/${'b'.repeat(100_000)}`)).status).toBe(431);
        expect((await agent.get('/conferences/active')).status).toBe(200);
      }
    });

    it('an error message never carries a huge input back', async () => {
      const service = await stack.api('crm', 'org-1', ['SERVICE']);
      const r = await service.post('/users/endpoints/sendEvent', { userId: 'u', organizationId: 'org-1', event: { type: 'X'.repeat(60_000), timestamp: '2026-01-01T00:00:00Z' } });
      expect(r.status).toBe(400);
      expect(JSON.stringify(r.body).length).toBeLessThan(1000);
    });
  });

  describe('8. what a caller may claim', () => {
    it('updateMetadata from an endpoint that never joined is 404', async () => {
      const agent = await stack.api('agent-8a', 'org-8', ['AGENT']);
      const id = await callOf(agent);
      const r = await set(agent, id, 'k', 'v', 'ep-never');
      expect(r.status).toBe(404);
      expect(r.body.message).toMatch(/has not joined/);
    });

    it("a join cannot take another user's registered endpoint; its owner's join still works", async () => {
      const owner = await stack.api('owner-8', 'org-8', ['CUSTOMER']);
      const thief = await stack.api('thief-8', 'org-8', ['CUSTOMER']);
      const agent = await stack.api('agent-8b', 'org-8', ['AGENT']);
      await owner.post('/users/endpoints/register', { userEndpointId: 'owned-ep', keepAliveSeconds: 60 });
      const id = (await agent.post('/conferences/create', {})).body.id;
      const taken = await thief.post('/conferences/join', { conferenceId: id, userEndpointId: 'owned-ep' });
      expect(taken.status).toBe(403);
      expect(taken.body.message).toMatch(/may not join a conference \(with an endpoint another user registered\)/);
      expect((await owner.post('/conferences/join', { conferenceId: id, userEndpointId: 'owned-ep' })).status).toBe(200);
    });

    it("conference ids are unique per organization: another organization's id is free, and tells nothing", async () => {
      const a = await stack.api('agent-8c', 'org-8', ['AGENT']);
      const b = await stack.api('agent-8d', 'org-8x', ['AGENT']);
      expect((await a.post('/conferences/create', { conferenceId: 'shared-id', metadata: { who: 'a' } })).status).toBe(200);
      expect((await b.post('/conferences/create', { conferenceId: 'shared-id', metadata: { who: 'b' } })).status).toBe(200);
      expect((await a.get('/conferences/shared-id')).body).toMatchObject({ organizationId: 'org-8', metadata: { who: { value: 'a' } } });
      expect((await b.get('/conferences/shared-id')).body).toMatchObject({ organizationId: 'org-8x', metadata: { who: { value: 'b' } } });
      expect((await a.post('/conferences/create', { conferenceId: 'shared-id' })).status).toBe(409);
    });
  });
});

/** The socket opens once the gateway has noticed that the last one closed (its place is given back on close). */
async function waitForSocket(url: string, token: string, ep: string): Promise<EndpointSocket> {
  for (let i = 0; ; i++) {
    try {
      return await EndpointSocket.open(url, token, ep);
    } catch (e) {
      if (i > 50 || (e as { status?: number }).status !== 429) throw e;
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}
