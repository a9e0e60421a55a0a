import { waitFor } from '@parley/testing';
import { Api, Stack } from './support/stack';

/**
 * Every /conferences endpoint over HTTP against the real stack (NATS + JetStream, PGlite,
 * conference and presence services, gateway): shapes, status codes, organization isolation,
 * malformed input. The customers join with endpoints they registered, as a customer must.
 */
describe('conferences over HTTP', () => {
  let stack: Stack;
  let agent: Api; // org-a, AGENT
  let customer: Api; // org-a, CUSTOMER
  let stranger: Api; // org-a, CUSTOMER, not in the call
  let outsider: Api; // org-b, AGENT
  let service: Api; // org-a, SERVICE

  beforeAll(async () => {
    stack = await Stack.start({ presence: {}, interaction: {}, gateway: { longPollTimeoutMs: 1500, bodyLimitBytes: 64 * 1024 } });
    agent = await stack.api('agent-1', 'org-a', ['AGENT']);
    customer = await stack.api('cust-1', 'org-a', ['CUSTOMER']);
    stranger = await stack.api('cust-9', 'org-a', ['CUSTOMER']);
    expect((await customer.post('/users/endpoints/register', { userEndpointId: 'ep-c', keepAliveSeconds: 3600 })).status).toBe(200);
    expect((await stranger.post('/users/endpoints/register', { userEndpointId: 'ep-z', keepAliveSeconds: 3600 })).status).toBe(200);
    outsider = await stack.api('agent-x', 'org-b', ['AGENT']);
    service = await stack.api('crm', 'org-a', ['SERVICE']);
  });
  afterAll(() => stack?.stop());

  const createCall = async (extra: Record<string, unknown> = {}) => {
    const res = await agent.post('/conferences/create', { creatorEndpoint: 'ep-a', metadata: { topic: 'billing' }, ...extra });
    expect(res.status).toBe(200);
    return res.body.id as string;
  };

  describe('authentication', () => {
    it('401 without a token, and with a bad one', async () => {
      const none = await stack.anonymous().post('/conferences/create', {});
      expect(none.status).toBe(401);
      expect(none.body.message).toMatch(/token/i);
      const bad = await new Api(stack.gateway.url, 'not.a.jwt').post('/conferences/create', {});
      expect(bad.status).toBe(401);
    });
    it('403 for sendEvent without the SERVICE role', async () => {
      const id = await createCall();
      const res = await agent.post('/conferences/sendEvent', { conferenceId: id, event: { type: 'NoteAddedEvent', timestamp: '2026-01-01T00:00:00Z' } });
      expect(res.status).toBe(403);
    });
  });

  describe('create', () => {
    it('answers a ConferenceSummary with a server-generated id and version 1', async () => {
      const res = await agent.post('/conferences/create', { metadata: { topic: 'billing' } });
      expect(res.status).toBe(200);
      // 128 random bits, base64url: knowing the id is what lets a customer join.
      expect(res.body).toEqual({ id: expect.stringMatching(/^[A-Za-z0-9_-]{22}$/), version: 1, mode: 'ROUTER' });
    });
    it('keeps a client-supplied id and stores metadata values with who set them', async () => {
      const res = await agent.post('/conferences/create', { conferenceId: 'call-42', creatorEndpoint: 'ep-a', interactionId: 'int-1', metadata: { topic: 'billing' } });
      expect(res.body).toEqual({ id: 'call-42', version: 1, mode: 'ROUTER' });
      const conf = await agent.get('/conferences/call-42');
      expect(conf.status).toBe(200);
      expect(conf.body).toMatchObject({
        id: 'call-42',
        mode: 'ROUTER',
        organizationId: 'org-a',
        interactionId: 'int-1',
        creator: 'agent-1',
        creatorEndpoint: 'ep-a',
        participants: [],
        version: 1,
        empty: true,
      });
      expect(conf.body.metadata.topic).toEqual({ value: 'billing', userId: 'agent-1', userEndpointId: 'ep-a', lastModified: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/) });
    });
    it('409 for an id that is taken', async () => {
      await agent.post('/conferences/create', { conferenceId: 'dup-1' });
      const res = await agent.post('/conferences/create', { conferenceId: 'dup-1' });
      expect(res.status).toBe(409);
      expect(res.body.message).toMatch(/already taken/);
    });
    it('the organization comes from the token; only a SERVICE whose client may act for another names it', async () => {
      const forbidden = await agent.post('/conferences/create', { organizationId: 'org-b' });
      expect(forbidden.status).toBe(403);
      const unbound = await service.post('/conferences/create', { organizationId: 'org-b', conferenceId: 'svc-made' });
      expect(unbound.status).toBe(403);
      expect(unbound.body.message).toMatch(/may not create a conference \(for any other organization\)/);
      // The reseller's client is configured for org-a+org-b (OAUTH_CLIENTS): its token says so.
      const granted = await stack.anonymous().request('POST', '/rtc-api/oauth/token', 'grant_type=client_credentials&client_id=reseller&client_secret=reseller-secret', { 'content-type': 'application/x-www-form-urlencoded' });
      const bound = new Api(stack.gateway.url, granted.body.access_token);
      const bySvc = await bound.post('/conferences/create', { organizationId: 'org-b', conferenceId: 'svc-made' });
      expect(bySvc.status).toBe(200);
      expect((await outsider.get('/conferences/svc-made')).body.organizationId).toBe('org-b');
      expect((await agent.get('/conferences/svc-made')).status).toBe(404);
    });
    it('400 naming the field for a wrong mode, a bad id or non-string metadata', async () => {
      const mode = await agent.post('/conferences/create', { mode: 'MESH' });
      expect(mode.status).toBe(400);
      expect(mode.body.message).toMatch(/mode/);
      const p2p = await agent.post('/conferences/create', { mode: 'P2P' });
      expect(p2p.status).toBe(400);
      expect(p2p.body.message).toMatch(/only ROUTER/);
      const id = await agent.post('/conferences/create', { conferenceId: 'a.b>c' });
      expect(id.status).toBe(400);
      expect(id.body.message).toMatch(/conferenceId/);
      const md = await agent.post('/conferences/create', { metadata: { n: 1 } });
      expect(md.status).toBe(400);
      expect(md.body.message).toMatch(/metadata/);
    });
  });

  describe('join and leave', () => {
    it('join answers the summary; the participant appears in both views', async () => {
      const id = await createCall();
      const res = await customer.post('/conferences/join', { conferenceId: id, userEndpointId: 'ep-c', metadata: { name: 'Ann' } });
      expect(res.status).toBe(200);
      expect(res.body).toEqual({ id, version: 2, mode: 'ROUTER' });
      const conf = (await agent.get(`/conferences/${id}`)).body;
      expect(conf.participants).toEqual([{ id: 'ep-c', userId: 'cust-1', state: 'HEALTHY', streams: [], metadata: { name: 'Ann' } }]);
      expect(conf.empty).toBe(false);
      const simple = (await agent.get(`/conferences/${id}/simpleView`)).body;
      expect(simple).toEqual({
        id,
        mode: 'ROUTER',
        metadata: conf.metadata,
        participants: [{ id: 'cust-1', endpoints: [{ id: 'ep-c', state: 'HEALTHY', streams: [], metadata: { name: 'Ann' } }] }],
        version: 2,
      });
    });
    it('404 for an unknown conference, 422 for the same user and endpoint twice', async () => {
      expect((await customer.post('/conferences/join', { conferenceId: 'nope', userEndpointId: 'ep-c' })).status).toBe(404);
      const id = await createCall();
      await customer.post('/conferences/join', { conferenceId: id, userEndpointId: 'ep-c' });
      const again = await customer.post('/conferences/join', { conferenceId: id, userEndpointId: 'ep-c' });
      expect(again.status).toBe(422);
      expect(again.body.message).toMatch(/already joined/);
      expect((await agent.get(`/conferences/${id}`)).body.version).toBe(2);
    });
    it('400 for a missing or wrongly typed field', async () => {
      const missing = await customer.post('/conferences/join', { conferenceId: 'x' });
      expect(missing.status).toBe(400);
      expect(missing.body.message).toMatch(/userEndpointId/);
      const typed = await customer.post('/conferences/join', { conferenceId: 'x', userEndpointId: 'ep', metadata: 'nope' });
      expect(typed.status).toBe(400);
      expect(typed.body.message).toMatch(/metadata/);
      const notJson = await customer.post('/conferences/join', '{"conferenceId": ');
      expect(notJson.status).toBe(400);
    });
    it('leave unpublishes nothing when there is nothing, removes the participant, and 404s the second time', async () => {
      const id = await createCall();
      await customer.post('/conferences/join', { conferenceId: id, userEndpointId: 'ep-c' });
      expect((await stranger.post('/conferences/leave', { conferenceId: id, userEndpointId: 'ep-c' })).status).toBe(403);
      const res = await customer.post('/conferences/leave', { conferenceId: id, userEndpointId: 'ep-c', reason: 'done' });
      expect(res.status).toBe(204);
      expect((await agent.get(`/conferences/${id}`)).body).toMatchObject({ participants: [], empty: true, version: 3 });
      expect((await customer.post('/conferences/leave', { conferenceId: id, userEndpointId: 'ep-c' })).status).toBe(404);
    });
  });

  describe('metadata and interaction', () => {
    it('updateMetadata SET and REMOVE, by staff; a customer in the call may not', async () => {
      const id = await createCall();
      await customer.post('/conferences/join', { conferenceId: id, userEndpointId: 'ep-c' });
      expect((await customer.post('/conferences/updateMetadata', { conferenceId: id, userEndpointId: 'ep-c', operation: 'SET', key: 'lang', value: 'el' })).status).toBe(403);
      await agent.post('/conferences/join', { conferenceId: id, userEndpointId: 'ep-a' });
      expect((await agent.post('/conferences/updateMetadata', { conferenceId: id, userEndpointId: 'ep-a', operation: 'SET', key: 'lang', value: 'el' })).status).toBe(204);
      let conf = (await agent.get(`/conferences/${id}`)).body;
      expect(conf.metadata.lang).toMatchObject({ value: 'el', userId: 'agent-1', userEndpointId: 'ep-a' });
      expect((await agent.post('/conferences/updateMetadata', { conferenceId: id, userEndpointId: 'ep-a', operation: 'REMOVE', key: 'topic' })).status).toBe(204);
      conf = (await agent.get(`/conferences/${id}`)).body;
      expect(Object.keys(conf.metadata)).toEqual(['lang']);
    });
    it('updateMetadata rejects an unknown operation, SET without value, and a stranger', async () => {
      const id = await createCall();
      await agent.post('/conferences/join', { conferenceId: id, userEndpointId: 'ep-a' });
      const op = await agent.post('/conferences/updateMetadata', { conferenceId: id, userEndpointId: 'ep-a', operation: 'UNKNOWN', key: 'k' });
      expect(op.status).toBe(400);
      expect(op.body.message).toMatch(/operation/);
      const noValue = await agent.post('/conferences/updateMetadata', { conferenceId: id, userEndpointId: 'ep-a', operation: 'SET', key: 'k' });
      expect(noValue.status).toBe(400);
      expect(noValue.body.message).toMatch(/value is required/);
      expect((await stranger.post('/conferences/updateMetadata', { conferenceId: id, userEndpointId: 'ep-z', operation: 'SET', key: 'k', value: 'v' })).status).toBe(403);
      expect((await agent.get(`/conferences/${id}`)).body.version).toBe(2);
    });
    it('updateParticipantMetadata replaces the participant metadata', async () => {
      const id = await createCall();
      await customer.post('/conferences/join', { conferenceId: id, userEndpointId: 'ep-c', metadata: { a: 1 } });
      expect((await customer.post('/conferences/updateParticipantMetadata', { conferenceId: id, userEndpointId: 'ep-c', newMetadata: { b: 2 } })).status).toBe(204);
      expect((await agent.get(`/conferences/${id}`)).body.participants[0].metadata).toEqual({ b: 2 });
      expect((await customer.post('/conferences/updateParticipantMetadata', { conferenceId: id, userEndpointId: 'ep-c' })).status).toBe(400);
    });
    it('interaction sets the interaction id', async () => {
      const id = await createCall();
      expect((await agent.post('/conferences/interaction', { conferenceId: id, interactionId: 'int-77', userEndpointId: 'ep-a' })).status).toBe(204);
      expect((await agent.get(`/conferences/${id}`)).body.interactionId).toBe('int-77');
      expect((await agent.post('/conferences/interaction', { conferenceId: id })).status).toBe(400);
    });
  });

  describe('media requests without a media service', () => {
    it('publishStream, viewStream, bitrate and ICE answer 503 with a clear message and change nothing', async () => {
      const id = await createCall();
      await customer.post('/conferences/join', { conferenceId: id, userEndpointId: 'ep-c' });
      const pub = await customer.post('/conferences/publishStream', { conferenceId: id, userEndpointId: 'ep-c', conferenceStreamType: 'CAM', sdpOffer: 'v=0' });
      expect(pub.status).toBe(503);
      expect(pub.body.message).toMatch(/media service/);
      const conf = (await agent.get(`/conferences/${id}`)).body;
      expect(conf.participants[0].streams).toEqual([]);
      expect(conf.version).toBe(2);
    });
    it('validation and domain checks come before the media call', async () => {
      const id = await createCall();
      await customer.post('/conferences/join', { conferenceId: id, userEndpointId: 'ep-c' });
      const type = await customer.post('/conferences/publishStream', { conferenceId: id, userEndpointId: 'ep-c', conferenceStreamType: 'HOLOGRAM', sdpOffer: 'v=0' });
      expect(type.status).toBe(400);
      expect(type.body.message).toMatch(/conferenceStreamType/);
      const noSdp = await customer.post('/conferences/publishStream', { conferenceId: id, userEndpointId: 'ep-c', conferenceStreamType: 'CAM' });
      expect(noSdp.status).toBe(400);
      expect(noSdp.body.message).toMatch(/sdpOffer/);
      const notJoined = await customer.post('/conferences/publishStream', { conferenceId: id, userEndpointId: 'ep-zz', conferenceStreamType: 'CAM', sdpOffer: 'v=0' });
      expect(notJoined.status).toBe(404);
      const view = await agent.post('/conferences/viewStream', { conferenceId: id, userEndpointId: 'ep-c', streamId: 'no-such', sdpOffer: 'v=0' });
      expect([403, 404]).toContain(view.status);
      const bitrate = await customer.post('/conferences/updatePublishedStreamBitrate', { conferenceId: id, userEndpointId: 'ep-c', streamId: 's-9', videoBitrate: 300000 });
      expect(bitrate.status).toBe(404);
      const badRate = await customer.post('/conferences/updatePublishedStreamBitrate', { conferenceId: id, userEndpointId: 'ep-c', videoBitrate: 'fast' });
      expect(badRate.status).toBe(400);
      expect(badRate.body.message).toMatch(/videoBitrate/);
      const ice = await customer.post('/conferences/addPublishStreamIceCandidates', { conferenceId: id, userEndpointId: 'ep-c', streamId: 's-9', iceCandidates: [{ candidate: 'candidate:1 1 udp 1 127.0.0.1 9 typ host', sdpMid: '0', sdpMLineIndex: 0 }] });
      expect(ice.status).toBe(404);
      const badIce = await customer.post('/conferences/addPublishStreamIceCandidates', { conferenceId: id, userEndpointId: 'ep-c', streamId: 's-9', iceCandidates: [{ sdpMLineIndex: 'x' }] });
      expect(badIce.status).toBe(400);
      expect(badIce.body.message).toMatch(/iceCandidates\.0\.(candidate|sdpMLineIndex)/);
      const viewIce = await agent.post('/conferences/addViewStreamIceCandidates', { conferenceId: id, userEndpointId: 'ep-a', streamId: 's-9', viewerId: 'v-1', iceCandidates: [] });
      expect(viewIce.status).toBe(404);
      const unpub = await customer.post('/conferences/unpublishStream', { conferenceId: id, userEndpointId: 'ep-c', streamId: 's-9' });
      expect(unpub.status).toBe(404);
      const stop = await agent.post('/conferences/stopViewStream', { conferenceId: id, userEndpointId: 'ep-c', streamId: 's-9', viewerId: 'v-1' });
      expect([403, 404]).toContain(stop.status);
      const smeta = await customer.post('/conferences/updateStreamMetadata', { conferenceId: id, userEndpointId: 'ep-c', streamId: 's-9', newMetadata: {} });
      expect(smeta.status).toBe(404);
      expect((await agent.get(`/conferences/${id}`)).body.version).toBe(2);
    });
  });

  describe('end', () => {
    it('ends the conference; afterwards every command is 409 and it is no longer active', async () => {
      const id = await createCall();
      await customer.post('/conferences/join', { conferenceId: id, userEndpointId: 'ep-c' });
      expect((await agent.get('/conferences/active')).body.map((c: { id: string }) => c.id)).toContain(id);
      // A customer not in the call does not see it (404); one in it may not end it (403).
      expect((await stranger.post('/conferences/end', { conferenceId: id, userEndpointId: 'ep-z' })).status).toBe(404);
      expect((await customer.post('/conferences/end', { conferenceId: id, userEndpointId: 'ep-c' })).status).toBe(403);
      expect((await agent.post('/conferences/end', { conferenceId: id, userEndpointId: 'ep-a', reason: 'resolved' })).status).toBe(204);
      for (const [path, body] of [
        ['/conferences/join', { conferenceId: id, userEndpointId: 'ep-q' }],
        ['/conferences/leave', { conferenceId: id, userEndpointId: 'ep-c' }],
        ['/conferences/end', { conferenceId: id, userEndpointId: 'ep-a' }],
        ['/conferences/updateMetadata', { conferenceId: id, userEndpointId: 'ep-a', operation: 'SET', key: 'k', value: 'v' }],
        ['/conferences/interaction', { conferenceId: id, interactionId: 'i' }],
      ] as const) {
        const res = await agent.post(path, body);
        expect({ path, status: res.status }).toEqual({ path, status: 409 });
        expect(res.body.message).toMatch(/has ended/);
      }
      expect((await agent.get('/conferences/active')).body.map((c: { id: string }) => c.id)).not.toContain(id);
      expect((await agent.get(`/conferences/${id}`)).body).toMatchObject({ id, version: 3, ended: true });
    });
  });

  describe('sendEvent', () => {
    it('SERVICE only; answers the number of joined endpoints and publishes the event on NATS for each; validates the event', async () => {
      const id = await createCall();
      await customer.post('/conferences/join', { conferenceId: id, userEndpointId: 'ep-c' });
      await agent.post('/conferences/join', { conferenceId: id, userEndpointId: 'ep-a' });
      const nc = await stack.connectNats();
      const delivered: { subject: string; body: any }[] = [];
      nc.subscribe('parley.deliver.org-a.*', { callback: (_e, m) => delivered.push({ subject: m.subject, body: m.json() }) });
      await nc.flush();
      const event = { type: 'ChatMessageSentEvent', timestamp: '2026-11-21T10:00:00Z', text: 'hi' };
      const ok = await service.post('/conferences/sendEvent', { conferenceId: id, qos: 'BEST_EFFORT', event });
      expect(ok.status).toBe(200);
      expect(ok.body).toEqual({ eventsSent: 2 });
      await waitFor(() => delivered.length === 2, { description: 'two deliveries' });
      expect(delivered.map((d) => d.subject).sort()).toEqual(['parley.deliver.org-a.ep-a', 'parley.deliver.org-a.ep-c']);
      expect(delivered[0].body).toMatchObject({ qos: 0, event });
      expect(delivered[0].body.id).toBe(delivered[1].body.id);
      await nc.drain();
      const badType = await service.post('/conferences/sendEvent', { conferenceId: id, event: { type: 'chat', timestamp: '2026-11-21T10:00:00Z' } });
      expect(badType.status).toBe(400);
      expect(badType.body.message).toMatch(/event.type/);
      const badTime = await service.post('/conferences/sendEvent', { conferenceId: id, event: { type: 'ChatMessageSentEvent', timestamp: 'yesterday' } });
      expect(badTime.status).toBe(400);
      expect(badTime.body.message).toMatch(/event.timestamp/);
      const badQos = await service.post('/conferences/sendEvent', { conferenceId: id, qos: 'EXACTLY_ONCE', event: { type: 'ChatMessageSentEvent', timestamp: '2026-11-21T10:00:00Z' } });
      expect(badQos.status).toBe(400);
      expect(badQos.body.message).toMatch(/qos/);
    });
  });

  describe('the event feed', () => {
    it('answers the events after v, in order, in the spec format', async () => {
      const id = await createCall();
      await customer.post('/conferences/join', { conferenceId: id, userEndpointId: 'ep-c' });
      await customer.post('/conferences/leave', { conferenceId: id, userEndpointId: 'ep-c' });
      const all = await agent.get(`/conferences/${id}/events?v=0`);
      expect(all.status).toBe(200);
      expect(all.body.map((e: { type: string; conferenceVersion: number }) => [e.type, e.conferenceVersion])).toEqual([
        ['ConferenceCreatedEvent', 1],
        ['ConferenceJoinedEvent', 2],
        ['ConferenceLeftEvent', 3],
      ]);
      expect(all.body[1]).toMatchObject({
        id: expect.stringMatching(/^[0-9a-f-]{36}$/),
        type: 'ConferenceJoinedEvent',
        timestamp: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/),
        conferenceId: id,
        organizationId: 'org-a',
        conferenceVersion: 2,
        userEndpointId: 'ep-c',
        userId: 'cust-1',
      });
      const after = await agent.get(`/conferences/${id}/events?v=2`);
      expect(after.body.map((e: { conferenceVersion: number }) => e.conferenceVersion)).toEqual([3]);
    });
    it('waits for the next event, and answers [] when none comes', async () => {
      const id = await createCall();
      const waiting = agent.get(`/conferences/${id}/events?v=1`);
      await new Promise((r) => setTimeout(r, 200));
      await customer.post('/conferences/join', { conferenceId: id, userEndpointId: 'ep-c' });
      const res = await waiting;
      expect(res.body.map((e: { type: string }) => e.type)).toEqual(['ConferenceJoinedEvent']);
      const empty = await agent.get(`/conferences/${id}/events?v=2`);
      expect(empty.status).toBe(200);
      expect(empty.body).toEqual([]);
    });
    it('400 for a missing or negative v', async () => {
      const id = await createCall();
      expect((await agent.get(`/conferences/${id}/events`)).status).toBe(400);
      const neg = await agent.get(`/conferences/${id}/events?v=-1`);
      expect(neg.status).toBe(400);
      expect(neg.body.message).toMatch(/\bv\b/);
    });
  });

  describe('organization isolation', () => {
    it("another organization's conference is 404 on every route, and nothing changes", async () => {
      const id = await createCall();
      await customer.post('/conferences/join', { conferenceId: id, userEndpointId: 'ep-c' });
      const gets = [`/conferences/${id}`, `/conferences/${id}/simpleView`, `/conferences/${id}/events?v=0`];
      for (const path of gets) expect({ path, status: (await outsider.get(path)).status }).toEqual({ path, status: 404 });
      const posts: [string, Record<string, unknown>][] = [
        ['/conferences/join', { conferenceId: id, userEndpointId: 'ep-x' }],
        ['/conferences/leave', { conferenceId: id, userEndpointId: 'ep-c' }],
        ['/conferences/end', { conferenceId: id, userEndpointId: 'ep-x' }],
        ['/conferences/interaction', { conferenceId: id, interactionId: 'i' }],
        ['/conferences/updateMetadata', { conferenceId: id, userEndpointId: 'ep-x', operation: 'SET', key: 'k', value: 'v' }],
        ['/conferences/updateParticipantMetadata', { conferenceId: id, userEndpointId: 'ep-c', newMetadata: {} }],
        ['/conferences/updateStreamMetadata', { conferenceId: id, userEndpointId: 'ep-c', streamId: 's', newMetadata: {} }],
        ['/conferences/updatePublishedStreamBitrate', { conferenceId: id, userEndpointId: 'ep-c', videoBitrate: 100000 }],
        ['/conferences/publishStream', { conferenceId: id, userEndpointId: 'ep-c', conferenceStreamType: 'CAM', sdpOffer: 'v=0' }],
        ['/conferences/unpublishStream', { conferenceId: id, userEndpointId: 'ep-c', streamId: 's' }],
        ['/conferences/viewStream', { conferenceId: id, userEndpointId: 'ep-c', streamId: 's', sdpOffer: 'v=0' }],
        ['/conferences/stopViewStream', { conferenceId: id, userEndpointId: 'ep-c', streamId: 's', viewerId: 'v' }],
        ['/conferences/addPublishStreamIceCandidates', { conferenceId: id, userEndpointId: 'ep-c', streamId: 's', iceCandidates: [] }],
        ['/conferences/addViewStreamIceCandidates', { conferenceId: id, userEndpointId: 'ep-c', streamId: 's', viewerId: 'v', iceCandidates: [] }],
      ];
      for (const [path, body] of posts) expect({ path, status: (await outsider.post(path, body)).status }).toEqual({ path, status: 404 });
      const outsiderService = await stack.api('svc-b', 'org-b', ['SERVICE']);
      const send = await outsiderService.post('/conferences/sendEvent', { conferenceId: id, event: { type: 'NoteAddedEvent', timestamp: '2026-01-01T00:00:00Z' } });
      expect(send.status).toBe(404);
      expect((await outsider.get('/conferences/active')).body.map((c: { id: string }) => c.id)).not.toContain(id);
      expect((await agent.get(`/conferences/${id}`)).body.version).toBe(2);
    });
  });

  describe('limits and docs', () => {
    it('413 for a body over the configured limit, and nothing changes', async () => {
      const res = await agent.post('/conferences/create', { conferenceId: 'huge', metadata: { blob: 'x'.repeat(70 * 1024) } });
      expect(res.status).toBe(413);
      expect(res.body.message).toMatch(/limit/);
      expect((await agent.get('/conferences/huge')).status).toBe(404);
    });
    it('serves the OpenAPI document generated from the DTOs, Swagger UI, health and metrics', async () => {
      const doc = await stack.anonymous().request('GET', '/rtc-api/docs/openapi.json');
      expect(doc.status).toBe(200);
      expect(Object.keys(doc.body.paths)).toEqual(expect.arrayContaining(['/rtc-api/conferences/create', '/rtc-api/conferences/{id}/events', '/rtc-api/oauth/token']));
      expect(doc.body.components.schemas.JoinConferenceWebCommand.required).toEqual(['conferenceId', 'userEndpointId']);
      const ui = await stack.anonymous().request('GET', '/rtc-api/docs');
      expect(ui.status).toBe(200);
      expect(String(ui.body)).toMatch(/swagger/i);
      // This stack runs no snapshot or media service: /health is 503 and says which parts are down, service by service.
      const health = await stack.anonymous().request('GET', '/health');
      expect(health.status).toBe(503);
      expect(health.body).toMatchObject({
        status: 'unavailable',
        nats: 'connected',
        services: { conference: { status: 'ok', database: { status: 'up' }, relay: { status: 'up', lag: expect.any(Number), deadLetters: 0 } }, presence: { status: 'ok' }, snapshot: { status: 'unavailable' }, media: { status: 'unavailable' } },
        down: ['snapshot', 'media'],
        warnings: [expect.stringMatching(/snapshot is not answering/), expect.stringMatching(/media is not answering/)],
      });
      // Prometheus' metrics: on the metrics listener, never on the public port.
      expect((await stack.anonymous().request('GET', '/metrics')).status).toBe(404);
      const scraped = await fetch(stack.gateway.metricsUrl);
      expect(scraped.status).toBe(200);
      const metrics = { body: await scraped.text() };
      expect(String(metrics.body)).toMatch(/parley_http_request_duration_seconds_bucket/);
      expect(String(metrics.body)).toMatch(/parley_service_up\{service="conference"\} 1/);
      expect(String(metrics.body)).toMatch(/parley_service_up\{service="media"\} 0/);
      expect(String(metrics.body)).toMatch(/parley_relay_dead_letters\{service="conference"\} 0/);
    });
  });

  describe('OAuth2 client credentials', () => {
    it('issues a token to a configured client (form body or Basic auth) that the API accepts', async () => {
      const form = await stack.anonymous().request('POST', '/rtc-api/oauth/token', 'grant_type=client_credentials&client_id=crm&client_secret=crm-secret', { 'content-type': 'application/x-www-form-urlencoded' });
      expect(form.status).toBe(200);
      expect(form.body).toEqual({ access_token: expect.any(String), token_type: 'Bearer', expires_in: expect.any(Number) });
      const basic = await stack.anonymous().request('POST', '/rtc-api/oauth/token', { grant_type: 'client_credentials' }, { authorization: `Basic ${Buffer.from('crm:crm-secret').toString('base64')}` });
      expect(basic.status).toBe(200);
      const api = new Api(stack.gateway.url, form.body.access_token);
      const created = await api.post('/conferences/create', {});
      expect(created.status).toBe(200);
      expect((await api.get(`/conferences/${created.body.id}`)).body).toMatchObject({ organizationId: 'org-a', creator: 'crm' });
    });
    it('401 invalid_client for a wrong secret, 400 for another grant', async () => {
      const wrong = await stack.anonymous().request('POST', '/rtc-api/oauth/token', 'grant_type=client_credentials&client_id=crm&client_secret=nope', { 'content-type': 'application/x-www-form-urlencoded' });
      expect(wrong.status).toBe(401);
      expect(wrong.body.error).toBe('invalid_client');
      const grant = await stack.anonymous().request('POST', '/rtc-api/oauth/token', { grant_type: 'password' });
      expect(grant.status).toBe(400);
      expect(grant.body.error).toBe('unsupported_grant_type');
    });
  });
});
