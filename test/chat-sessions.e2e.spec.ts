import type { NatsConnection } from 'nats';
import { EndpointSocket } from './support/endpoint-socket';
import { type Api, Stack } from './support/stack';
import { settledEventCount } from './support/quiescence';

/**
 * Telemedicine chat sessions through the gateway: the telemedicine API's shapes, the directives'
 * state machine and its 409s, the stamped fields refused, who sees which session, the list's
 * filters, and each change pushed to the participants' endpoints (and to the endpoints in the
 * conference its room names) through presence.
 */
describe('chat sessions', () => {
  let stack: Stack;
  let nc: NatsConnection;
  let doctor: Api;
  let patient: Api;
  let stranger: Api;
  let outsider: Api;
  const patch = (api: Api, id: string, body: unknown, headers?: Record<string, string>) => api.request('PATCH', `/rtc-api/chat-sessions/${id}`, body, headers);
  const sockets: EndpointSocket[] = [];

  async function socketOf(userId: string, roles: string[], ep: string): Promise<EndpointSocket> {
    const token = await stack.token(userId, 'org-t', roles);
    const api = await stack.api(userId, 'org-t', roles);
    expect((await api.post('/users/endpoints/register', { userEndpointId: ep, keepAliveSeconds: 600 })).status).toBe(200);
    const socket = await EndpointSocket.open(stack.gateway.url, token, ep);
    sockets.push(socket);
    return socket;
  }

  beforeAll(async () => {
    stack = await Stack.start({ postgres: true, presence: {}, interaction: {} });
    nc = await stack.connectNats();
    doctor = await stack.api('doc-1', 'org-t', ['AGENT']);
    patient = await stack.api('pat-1', 'org-t', ['CUSTOMER']);
    stranger = await stack.api('pat-2', 'org-t', ['CUSTOMER']);
    outsider = await stack.api('doc-1', 'org-other', ['ADMIN']);
  });
  afterAll(async () => {
    await Promise.all(sockets.map((s) => s.close()));
    await nc?.close();
    await stack?.stop();
  });

  it('creates a session in the telemedicine shape: times in epoch ms, what was not set left out, unknown fields ignored', async () => {
    const before = Date.now();
    const created = await doctor.post('/chat-sessions', { participants: ['doc-1', 'pat-1'], title: 'Hello', seen: true });
    expect(created.status).toBe(200);
    expect(created.body).toEqual({ id: expect.stringMatching(/^[A-Za-z0-9_-]{22}$/), createdAt: expect.any(Number), createdBy: 'doc-1', type: 'telemed', title: 'Hello', state: 'created', participants: ['doc-1', 'pat-1'], version: 1 });
    expect(created.body.createdAt).toBeGreaterThanOrEqual(before - 1000);
    expect((await patient.get(`/chat-sessions/${created.body.id}`)).body).toEqual(created.body);
    // A client's own createdAt is kept, up to the last instant of year 9999.
    expect((await doctor.post('/chat-sessions', { participants: ['pat-1'], createdAt: 1564661697125 })).body.createdAt).toBe(1564661697125);
    expect((await doctor.post('/chat-sessions', { participants: ['pat-1'], createdAt: 253402300799999 })).body.createdAt).toBe(253402300799999);
    expect((await doctor.post('/chat-sessions', { participants: ['pat-1'], createdAt: 253402300800000 })).status).toBe(400);
  });

  it('takes a null field as one not given (as a client that writes every field of its model sends it)', async () => {
    const before = Date.now();
    const created = await doctor.post('/chat-sessions', { participants: ['doc-1', 'pat-1'], room: null, title: null, type: null, createdAt: null });
    expect(created.status).toBe(200);
    expect(created.body).not.toHaveProperty('room');
    expect(created.body).toMatchObject({ type: 'telemed', state: 'created', version: 1 });
    expect(created.body.createdAt).toBeGreaterThanOrEqual(before - 1000);
    const nothing = await patch(doctor, created.body.id, { participants: null, room: null, start: null, accept: null, reject: null, finish: null, title: null });
    expect(nothing.status).toBe(200);
    expect(nothing.body).toEqual(created.body);
    expect((await doctor.post('/chat-sessions', { participants: null })).status).toBe(400);
  });

  it('refuses malformed input and the stamped fields with 400 naming the field', async () => {
    const cases: Array<[unknown, RegExp]> = [
      [{}, /participants/],
      [{ participants: [] }, /participants/],
      [{ participants: ['a', 'a'] }, /participants must not name an account twice/],
      [{ participants: ['a b'] }, /participants/],
      [{ participants: ['pat-1'], type: 'video' }, /type/],
      [{ participants: ['pat-1'], room: 'a.b' }, /room/],
      [{ participants: ['pat-1'], startedAt: 1 }, /startedAt cannot be set: the start directive stamps it/],
      [{ participants: ['pat-1'], rejectReason: 'x' }, /rejectReason cannot be set: the reject directive stamps it/],
      [{ participants: ['pat-1'], finishedBy: 'doc-1' }, /finishedBy cannot be set: the finish directive/],
      [{ participants: ['pat-1'], createdAt: -1 }, /createdAt/],
    ];
    for (const [body, message] of cases) {
      const res = await doctor.post('/chat-sessions', body);
      expect({ body, status: res.status, message: res.body.message }).toEqual({ body, status: 400, message: expect.stringMatching(message) });
    }
    const { body: s } = await doctor.post('/chat-sessions', { participants: ['doc-1', 'pat-1'] });
    for (const [body, message] of [
      [{ acceptedBy: 'pat-1' }, /acceptedBy cannot be set/],
      [{ createdAt: 5 }, /createdAt is set when the session is created/],
      [{ reject: '' }, /reject must be true, false, or a reason/],
      [{ start: 'yes' }, /start/],
    ] as Array<[unknown, RegExp]>) {
      const res = await patch(doctor, s.id, body);
      expect({ body, status: res.status, message: res.body.message }).toEqual({ body, status: 400, message: expect.stringMatching(message) });
    }
    expect((await doctor.get(`/chat-sessions/${s.id}`)).body).toEqual(s);
    expect((await doctor.get('/chat-sessions/not.an.id')).status).toBe(400);
  });

  it('runs the directives: start, accept, finish with a reason; each stamps the caller and the time; a wrong one is 409 naming the state', async () => {
    const { body: s } = await doctor.post('/chat-sessions', { participants: ['doc-1', 'pat-1'] });
    const early = await patch(patient, s.id, { accept: true });
    expect(early.status).toBe(409);
    expect(early.body.message).toMatch(/is created: accept needs it started/);

    const t0 = Date.now();
    const startedRes = await patch(doctor, s.id, { start: true });
    expect(startedRes.status).toBe(200);
    expect(startedRes.body).toMatchObject({ state: 'started', startedBy: 'doc-1', version: 2 });
    expect(startedRes.body.startedAt).toBeGreaterThanOrEqual(t0 - 1000);
    const accepted = await patch(patient, s.id, { accept: true });
    expect(accepted.body).toMatchObject({ state: 'accepted', acceptedBy: 'pat-1', startedBy: 'doc-1', version: 3 });
    const again = await patch(doctor, s.id, { start: true });
    expect(again.status).toBe(409);
    expect(again.body.message).toMatch(/is accepted: start needs it created/);
    const finished = await patch(doctor, s.id, { finish: 'consultation over' });
    expect(finished.body).toMatchObject({ state: 'finished', finishedBy: 'doc-1', finishReason: 'consultation over', version: 4 });
    const closed = await patch(doctor, s.id, { title: 'late' });
    expect(closed.status).toBe(409);
    expect(closed.body.message).toMatch(/is finished: it can no longer change/);
    expect((await patient.get(`/chat-sessions/${s.id}`)).body).toEqual(finished.body);
  });

  it('rejects with a reason, once: of a concurrent accept and reject exactly one wins', async () => {
    const { body: s } = await doctor.post('/chat-sessions', { participants: ['doc-1', 'pat-1'] });
    await patch(doctor, s.id, { start: true });
    const [a, r] = await Promise.all([patch(patient, s.id, { accept: true }), patch(patient, s.id, { reject: 'not now' })]);
    expect([a.status, r.status].sort()).toEqual([200, 409]);
    const final = (await patient.get(`/chat-sessions/${s.id}`)).body;
    expect(final.version).toBe(3);
    expect(final.state).toBe(a.status === 200 ? 'accepted' : 'rejected');
    if (r.status === 200) expect(final).toMatchObject({ rejectedBy: 'pat-1', rejectReason: 'not now' });
  });

  it('shows a session to its participants and staff only: another customer and another organization get 404', async () => {
    const { body: s } = await doctor.post('/chat-sessions', { participants: ['doc-1', 'pat-1'] });
    const colleague = await stack.api('agent-7', 'org-t', ['AGENT']);
    expect((await colleague.get(`/chat-sessions/${s.id}`)).status).toBe(200);
    expect((await stranger.get(`/chat-sessions/${s.id}`)).status).toBe(404);
    expect((await patch(stranger, s.id, { start: true })).status).toBe(404);
    expect((await outsider.get(`/chat-sessions/${s.id}`)).status).toBe(404);
    expect((await patch(outsider, s.id, { start: true })).status).toBe(404);
    // A customer makes only sessions it is in, and does not leave itself out of one.
    expect((await stranger.post('/chat-sessions', { participants: ['pat-1'] })).status).toBe(403);
    const leaving = await patch(patient, s.id, { participants: ['doc-1'] });
    expect(leaving.status).toBe(403);
    expect(leaving.body.message).toMatch(/with the caller left out of its participants/);
    expect((await patch(patient, s.id, { participants: ['doc-1', 'pat-1', 'nurse-1'] })).body.participants).toEqual(['doc-1', 'pat-1', 'nurse-1']);
  });

  it('lists newest first, by state and participant, a customer only its own; bad filters are 400', async () => {
    const lister = await stack.api('lister', 'org-t', ['ADMIN']);
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) ids.push((await lister.post('/chat-sessions', { participants: ['lister', `listed-${i}`] })).body.id);
    await patch(lister, ids[1], { start: true });
    const mine = await lister.get('/chat-sessions?participant=lister&size=10');
    expect(mine.status).toBe(200);
    expect(mine.body.map((s: { id: string }) => s.id)).toEqual([...ids].reverse());
    expect((await lister.get('/chat-sessions?participant=lister&state=started')).body.map((s: { id: string }) => s.id)).toEqual([ids[1]]);
    expect((await lister.get('/chat-sessions?participant=lister&size=1&page=1')).body.map((s: { id: string }) => s.id)).toEqual([ids[1]]);
    const listed = await stack.api('listed-0', 'org-t', ['CUSTOMER']);
    expect((await listed.get('/chat-sessions')).body.map((s: { id: string }) => s.id)).toEqual([ids[0]]);
    // Another organization's list has none of them.
    expect((await outsider.get('/chat-sessions?participant=lister')).body).toEqual([]);
    for (const [query, field] of [
      ['state=open', 'state'],
      ['participant=a.b', 'participant'],
      ['size=0', 'size'],
      ['size=1001', 'size'],
      ['page=-1', 'page'],
      ['page=100000&size=2', 'page'],
    ]) {
      const res = await lister.get(`/chat-sessions?${query}`);
      expect({ query, status: res.status, fields: res.body.details?.fields ?? res.body.message }).toEqual({ query, status: 400, fields: expect.arrayContaining([field]) });
    }
  });

  it('answers a page that would pass 768 KB with 413 naming the bound; a smaller size answers', async () => {
    const big = await stack.api('big-lister', 'org-t', ['SERVICE']);
    const participants = ['big-lister', ...Array.from({ length: 31 }, (_, i) => `${String(i).padStart(3, '0')}${'p'.repeat(125)}`)];
    for (let i = 0; i < 200; i++) expect((await big.post('/chat-sessions', { participants, title: 't'.repeat(1000) })).status).toBe(200);
    const tooBig = await big.get('/chat-sessions?participant=big-lister&size=1000');
    expect(tooBig.status).toBe(413);
    expect(tooBig.body.details).toMatchObject({ bound: 'pageBytes' });
    const fits = await big.get('/chat-sessions?participant=big-lister&size=100');
    expect(fits.status).toBe(200);
    expect(fits.body).toHaveLength(100);
  });

  it('answers a retried POST and PATCH under one transaction id as the first time, writing nothing twice', async () => {
    const headers = { 'X-Auvious-TransactionId': 'cs-retry-1' };
    const first = await doctor.post('/chat-sessions', { participants: ['doc-1', 'pat-1'] }, headers);
    const again = await doctor.post('/chat-sessions', { participants: ['doc-1', 'pat-1'] }, headers);
    expect(again.body).toEqual(first.body);
    const p = { 'X-Auvious-TransactionId': 'cs-retry-2' };
    expect((await patch(doctor, first.body.id, { start: true }, p)).status).toBe(200);
    const retried = await patch(doctor, first.body.id, { start: true }, p);
    expect(retried.status).toBe(200);
    expect(retried.body.version).toBe(2);
    expect((await doctor.get(`/chat-sessions/${first.body.id}`)).body.version).toBe(2);
  });

  it("pushes each change to the participants' endpoints: live to a connected one, queued for one that connects later", async () => {
    const doctorSocket = await socketOf('doc-push', ['AGENT'], 'ep-doc-push');
    const token = await stack.token('pat-push', 'org-t', ['CUSTOMER']);
    const pat = await stack.api('pat-push', 'org-t', ['CUSTOMER']);
    expect((await pat.post('/users/endpoints/register', { userEndpointId: 'ep-pat-push', keepAliveSeconds: 600 })).status).toBe(200);
    const doc = await stack.api('doc-push', 'org-t', ['AGENT']);
    const { body: s } = await doc.post('/chat-sessions', { participants: ['doc-push', 'pat-push'] });
    await patch(doc, s.id, { start: true });
    const types = (socket: EndpointSocket) => socket.received.filter((d) => d.event.chatSessionId === s.id).map((d) => d.event.type);
    const startedPush = await doctorSocket.next((d) => d.event.chatSessionId === s.id && d.event.type === 'ChatSessionStartedEvent', 0, 'the start pushed');
    expect(startedPush.event).toMatchObject({ chatSessionId: s.id, organizationId: 'org-t', startedBy: 'doc-push', chatSessionVersion: 2, timestamp: expect.any(String) });
    expect(types(doctorSocket)).toEqual(['ChatSessionCreatedEvent', 'ChatSessionStartedEvent']);

    // The patient had no session: both wait in its queue for its socket.
    const patientSocket = await EndpointSocket.open(stack.gateway.url, token, 'ep-pat-push');
    sockets.push(patientSocket);
    await patientSocket.next((d) => d.event.chatSessionId === s.id && d.event.type === 'ChatSessionStartedEvent', 0, 'the queued start');
    expect(types(patientSocket)).toEqual(['ChatSessionCreatedEvent', 'ChatSessionStartedEvent']);

    // A participant taken out hears that it was, and nothing after.
    await patch(doc, s.id, { participants: ['doc-push'] });
    await patientSocket.next((d) => d.event.chatSessionId === s.id && d.event.type === 'ChatSessionChangedEvent', 0, 'its removal');
    await patch(doc, s.id, { title: 'after' });
    await doctorSocket.next((d) => d.event.chatSessionId === s.id && d.event.title === 'after', 0, 'the title change');
    await settledEventCount(stack, nc);
    expect(types(patientSocket)).toEqual(['ChatSessionCreatedEvent', 'ChatSessionStartedEvent', 'ChatSessionChangedEvent']);
  });

  it("links a session to the conference its room names: the conference's endpoints receive its events, and its customers may read but not change it", async () => {
    const host = await stack.api('host-1', 'org-t', ['AGENT']);
    const { body: conference } = await host.post('/conferences/create', {});
    const guestSocket = await socketOf('guest-1', ['CUSTOMER'], 'ep-guest-1');
    const guest = await stack.api('guest-1', 'org-t', ['CUSTOMER']);
    expect((await guest.post('/conferences/join', { conferenceId: conference.id, userEndpointId: 'ep-guest-1' })).status).toBe(200);
    await settledEventCount(stack, nc);

    const { body: s } = await host.post('/chat-sessions', { participants: ['host-1', 'pat-1'], room: conference.id });
    await patch(host, s.id, { start: true });
    await guestSocket.next((d) => d.event.chatSessionId === s.id && d.event.type === 'ChatSessionStartedEvent', 0, "the room's conference hears the start");
    expect((await guest.get(`/chat-sessions/${s.id}`)).body).toMatchObject({ id: s.id, room: conference.id, state: 'started' });
    expect((await guest.get('/chat-sessions')).body.map((x: { id: string }) => x.id)).toContain(s.id);
    expect((await patch(guest, s.id, { accept: true })).status).toBe(403);
    // A customer puts a session only in a conference it is in: not in this one, which it did not join.
    expect((await patient.post('/chat-sessions', { participants: ['pat-1'], room: conference.id })).status).toBe(403);
    const { body: own } = await patient.post('/chat-sessions', { participants: ['pat-1'] });
    const moved = await patch(patient, own.id, { room: conference.id });
    expect(moved.status).toBe(403);
    expect(moved.body.message).toMatch(/moved to a room that is not a conference the caller took part in/);
    // The guest, in it, may: and the conference's endpoints hear the session from then on.
    const { body: guests } = await guest.post('/chat-sessions', { participants: ['guest-1'], room: conference.id });
    await guestSocket.next((d) => d.event.chatSessionId === guests.id, 0, "the guest's own session in its conference");

    // Moved by staff to another conference: the endpoints of both hear the move, then only the new one's.
    const { body: other } = await host.post('/conferences/create', {});
    const watcherSocket = await socketOf('watcher-1', ['CUSTOMER'], 'ep-watcher-1');
    const watcher = await stack.api('watcher-1', 'org-t', ['CUSTOMER']);
    expect((await watcher.post('/conferences/join', { conferenceId: other.id, userEndpointId: 'ep-watcher-1' })).status).toBe(200);
    await settledEventCount(stack, nc);
    await patch(host, s.id, { room: other.id });
    for (const socket of [guestSocket, watcherSocket]) await socket.next((d) => d.event.chatSessionId === s.id && d.event.room === other.id, 0, 'the move');
    await patch(host, s.id, { accept: true });
    await watcherSocket.next((d) => d.event.chatSessionId === s.id && d.event.type === 'ChatSessionAcceptedEvent', 0, 'the accept in the new room');
    await settledEventCount(stack, nc);
    expect(guestSocket.received.some((d) => d.event.chatSessionId === s.id && d.event.type === 'ChatSessionAcceptedEvent')).toBe(false);
    // A session whose room is another organization's conference id links nothing there.
    const { body: foreign } = await outsider.post('/chat-sessions', { participants: ['doc-1'], room: conference.id });
    expect((await guest.get(`/chat-sessions/${foreign.id}`)).status).toBe(404);
    await patch(outsider, foreign.id, { start: true });
    await settledEventCount(stack, nc);
    expect(guestSocket.received.some((d) => d.event.chatSessionId === foreign.id)).toBe(false);
  });
});
