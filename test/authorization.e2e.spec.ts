import { TokenIssuer, authConfigFromEnv } from '@parley/auth';
import { type OpenApiDocument, type Operation, operationsOf } from './support/openapi-fuzz';
import { pngImage } from './support/images';
import { Api, type ApiResponse, Stack, formOf } from './support/stack';

/**
 * The authorization matrix, driven by the gateway's OpenAPI document: every operation with no
 * token, an expired one, one signed with another key, one with `alg: none`, another
 * organization's (which must not see or touch this organization's things: 404), and every role:
 * the roles the operation does not allow (its x-parley-roles) get 403, the others get past the
 * route's check. An operation without a fixture below, or without x-parley-roles, fails the test.
 */

/** A request that would succeed for the right caller in org-a, on the things the scene made there. */
interface Fixture {
  path?: string;
  body?: unknown;
  headers?: Record<string, string>;
  /**
   * What a caller of another organization gets: 404 where the operation names one of org-a's
   * things; otherwise the check that it saw nothing of them.
   */
  otherOrganization: 404 | ((res: ApiResponse, scene: Scene) => void);
  /** A route without a bearer token (x-parley-public): what a call of the fixture without credentials gets. */
  anonymous?: (res: ApiResponse) => void;
}

interface Scene {
  conferenceId: string;
  interactionId: string;
  chatSessionId: string;
  snapshotId: string;
  cameraRequestId: string;
  fileTransferId: string;
}

const event = { type: 'NoteAddedEvent', timestamp: '2026-01-01T00:00:00Z', text: 'hi' };
const ice = [{ candidate: 'candidate:1 1 udp 2122260223 192.0.2.10 54321 typ host', sdpMid: '0', sdpMLineIndex: 0 }];
const offer = 'v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\n';

const image = pngImage(4, 4, 9);
const imageForm = (fields: Record<string, string>) => formOf(fields, { field: 'image', bytes: image, type: 'image/png' });
const fileForm = (fields: Record<string, string>) => formOf(fields, { field: 'file', bytes: Buffer.from('a file'), filename: 'a.txt', type: 'text/plain' });
const referer = { referer: 'http://127.0.0.1/' };
/** The endpoints a snapshot request names are the caller's own only in org-a: in org-b it registered none of them. */
const notItsEndpoint = (res: ApiResponse) => {
  expect(res.status).toBe(403);
  expect(res.body.message).toMatch(/from an endpoint the caller did not register/);
};
/** A signed download with a signature nobody made: 403 before anything is read. */
const signedDownload = (path: string): Fixture => ({
  path: `${path}/${Math.floor(Date.now() / 1000) + 600}?signature=k.org-a.AAAA`,
  otherOrganization: () => undefined,
  anonymous: (res) => expect({ status: res.status, message: res.body?.message }).toEqual({ status: 403, message: 'This URL is not signed by Parley (or not for this file)' }),
});

/** By operation: one entry per operation of the document (the test fails when one is missing). */
const FIXTURES: Record<string, (s: Scene) => Fixture> = {
  'POST /rtc-api/conferences/create': () => ({
    body: {},
    otherOrganization: (res) => {
      expect(res.status).toBe(200); // its own conference, in its own organization
    },
  }),
  'POST /rtc-api/conferences/join': (s) => ({ body: { conferenceId: s.conferenceId, userEndpointId: 'ep-new' }, otherOrganization: 404 }),
  'POST /rtc-api/conferences/leave': (s) => ({ body: { conferenceId: s.conferenceId, userEndpointId: 'ep-c' }, otherOrganization: 404 }),
  'POST /rtc-api/conferences/end': (s) => ({ body: { conferenceId: s.conferenceId, userEndpointId: 'ep-a' }, otherOrganization: 404 }),
  'POST /rtc-api/conferences/interaction': (s) => ({ body: { conferenceId: s.conferenceId, interactionId: 'int-9', userEndpointId: 'ep-a' }, otherOrganization: 404 }),
  'POST /rtc-api/conferences/updateMetadata': (s) => ({ body: { conferenceId: s.conferenceId, userEndpointId: 'ep-a', operation: 'SET', key: 'k', value: 'v' }, otherOrganization: 404 }),
  'POST /rtc-api/conferences/updateParticipantMetadata': (s) => ({ body: { conferenceId: s.conferenceId, userEndpointId: 'ep-c', newMetadata: { a: 1 } }, otherOrganization: 404 }),
  'POST /rtc-api/conferences/updateStreamMetadata': (s) => ({ body: { conferenceId: s.conferenceId, userEndpointId: 'ep-c', streamId: 'st-1', newMetadata: {} }, otherOrganization: 404 }),
  'POST /rtc-api/conferences/updatePublishedStreamBitrate': (s) => ({ body: { conferenceId: s.conferenceId, userEndpointId: 'ep-c', videoBitrate: 100000 }, otherOrganization: 404 }),
  'POST /rtc-api/conferences/publishStream': (s) => ({ body: { conferenceId: s.conferenceId, userEndpointId: 'ep-c', conferenceStreamType: 'CAM', sdpOffer: offer }, otherOrganization: 404 }),
  'POST /rtc-api/conferences/unpublishStream': (s) => ({ body: { conferenceId: s.conferenceId, userEndpointId: 'ep-c', streamId: 'st-1' }, otherOrganization: 404 }),
  'POST /rtc-api/conferences/viewStream': (s) => ({ body: { conferenceId: s.conferenceId, userEndpointId: 'ep-a', streamId: 'st-1', sdpOffer: offer }, otherOrganization: 404 }),
  'POST /rtc-api/conferences/stopViewStream': (s) => ({ body: { conferenceId: s.conferenceId, userEndpointId: 'ep-a', streamId: 'st-1', viewerId: 'vw-1' }, otherOrganization: 404 }),
  'POST /rtc-api/conferences/addPublishStreamIceCandidates': (s) => ({ body: { conferenceId: s.conferenceId, userEndpointId: 'ep-c', streamId: 'st-1', iceCandidates: ice }, otherOrganization: 404 }),
  'POST /rtc-api/conferences/addViewStreamIceCandidates': (s) => ({ body: { conferenceId: s.conferenceId, userEndpointId: 'ep-a', streamId: 'st-1', viewerId: 'vw-1', iceCandidates: ice }, otherOrganization: 404 }),
  'POST /rtc-api/conferences/sendEvent': (s) => ({ body: { conferenceId: s.conferenceId, event }, otherOrganization: 404 }),
  'GET /rtc-api/conferences/active': () => ({
    otherOrganization: (res, s) => {
      expect(res.status).toBe(200);
      expect((res.body as { id: string }[]).map((c) => c.id)).not.toContain(s.conferenceId);
    },
  }),
  'GET /rtc-api/conferences/{id}': (s) => ({ path: `/rtc-api/conferences/${s.conferenceId}`, otherOrganization: 404 }),
  'GET /rtc-api/conferences/{id}/simpleView': (s) => ({ path: `/rtc-api/conferences/${s.conferenceId}/simpleView`, otherOrganization: 404 }),
  'GET /rtc-api/conferences/{id}/events': (s) => ({ path: `/rtc-api/conferences/${s.conferenceId}/events?v=0`, otherOrganization: 404 }),
  'POST /rtc-api/users/endpoints': () => ({
    body: { userEndpointId: 'ep-reg', keepAliveSeconds: 60 },
    // Endpoint ids are per organization: the other one registers an endpoint of its own.
    otherOrganization: (res) => expect(res.status).toBe(200),
  }),
  'POST /rtc-api/users/endpoints/register': () => ({ body: { userEndpointId: 'ep-reg', keepAliveSeconds: 60 }, otherOrganization: (res) => expect(res.status).toBe(200) }),
  'POST /rtc-api/users/endpoints/keepalive': () => ({ body: { userEndpointId: 'ep-c' }, otherOrganization: 404 }),
  'POST /rtc-api/users/endpoints/unregister': () => ({ body: { userEndpointId: 'ep-c' }, otherOrganization: 404 }),
  'POST /rtc-api/users/endpoints/sendEvent': () => ({ body: { userId: 'mx-customer', userEndpointId: 'ep-c', organizationId: 'org-a', event }, otherOrganization: 404 }),
  'GET /rtc-api/users/endpoints/{id}/events': () => ({ path: '/rtc-api/users/endpoints/ep-c/events', otherOrganization: 404 }),
  'POST /rtc-api/interactions': () => ({
    body: { type: 'video call' },
    otherOrganization: (res) => expect(res.status).toBe(200), // its own interaction, in its own organization
  }),
  'GET /rtc-api/interactions': () => ({
    path: '/rtc-api/interactions?start=2000-01-01T00:00:00Z&end=2100-01-01T00:00:00Z&size=1000',
    otherOrganization: (res, s) => {
      expect(res.status).toBe(200);
      expect((res.body as { content: { id: string }[] }).content.map((i) => i.id)).not.toContain(s.interactionId);
    },
  }),
  'GET /rtc-api/interactions/{interactionId}': (s) => ({ path: `/rtc-api/interactions/${s.interactionId}`, otherOrganization: 404 }),
  'GET /rtc-api/interactions/{interactionId}/conferences': (s) => ({ path: `/rtc-api/interactions/${s.interactionId}/conferences`, otherOrganization: 404 }),
  'PUT /rtc-api/interactions/{interactionId}': (s) => ({ path: `/rtc-api/interactions/${s.interactionId}`, body: { type: 'chat' }, otherOrganization: 404 }),
  'POST /rtc-api/ratings': () => ({
    body: { sessionType: 'CONFERENCE', sessionId: 'rated-1', rating: 5 },
    // Each organization's own rating of a session of that id.
    otherOrganization: (res) => expect(res.status).toBe(200),
  }),
  'GET /rtc-api/ratings/interactions/{interactionId}': (s) => ({
    path: `/rtc-api/ratings/interactions/${s.interactionId}`,
    otherOrganization: (res) => {
      expect(res.status).toBe(200);
      expect(res.body).toEqual([]);
    },
  }),
  'GET /rtc-api/ratings/conferences/{conferenceId}': (s) => ({
    path: `/rtc-api/ratings/conferences/${s.conferenceId}`,
    otherOrganization: (res) => {
      expect(res.status).toBe(200);
      expect(res.body).toEqual([]);
    },
  }),
  'POST /rtc-api/talkdesk-integration/create': () => ({
    body: { data: { contact_id: 'ct-new' } },
    otherOrganization: (res) => expect(res.body).toEqual({ message: 'created', contact_external_id: 'talkdesk-ct-new' }), // its own contact's
  }),
  'POST /rtc-api/talkdesk-integration/activity': () => ({
    body: { data: { contact_id: 'ct-a' } },
    otherOrganization: (res) => {
      expect(res.status).toBe(200);
      expect(res.body).toEqual([]);
    },
  }),
  'POST /rtc-api/talkdesk-integration/authorization-validator': () => ({
    body: { account_id: 'acct-a', api_key: TALKDESK_KEY },
    // org-a's account: not one of org-b's.
    otherOrganization: (res) => expect(res.status).toBe(401),
  }),
  'POST /rtc-api/chat-sessions': () => ({
    body: { participants: ['mx-agent', 'mx-customer', 'mx-service', 'mx-admin'] },
    otherOrganization: (res) => expect(res.status).toBe(200), // its own session, in its own organization
  }),
  'GET /rtc-api/chat-sessions': () => ({
    path: '/rtc-api/chat-sessions?size=1000',
    otherOrganization: (res, s) => {
      expect(res.status).toBe(200);
      expect((res.body as { id: string }[]).map((c) => c.id)).not.toContain(s.chatSessionId);
    },
  }),
  'GET /rtc-api/chat-sessions/{id}': (s) => ({ path: `/rtc-api/chat-sessions/${s.chatSessionId}`, otherOrganization: 404 }),
  'PATCH /rtc-api/chat-sessions/{id}': (s) => ({ path: `/rtc-api/chat-sessions/${s.chatSessionId}`, body: { title: 'checked' }, otherOrganization: 404 }),
  'POST /rtc-api/snapshots/request': () => ({ body: { applicationId: 'app-a', userEndpointId: 'ep-snap', targetUserId: 'mx-customer', targetUserEndpointId: 'ep-c' }, otherOrganization: notItsEndpoint }),
  'POST /rtc-api/snapshots/cameraRequest': () => ({ body: { userEndpointId: 'ep-snap', targetUserId: 'mx-customer', targetUserEndpointId: 'ep-c', cameraRequestType: 'FLASH_ON' }, otherOrganization: notItsEndpoint }),
  'POST /rtc-api/snapshots/acquire': (s) => ({ body: imageForm({ snapshotId: s.snapshotId, userEndpointId: 'ep-c' }), otherOrganization: 404 }),
  'POST /rtc-api/snapshots/upload': () => ({
    body: imageForm({ applicationId: 'app-a', targetUserId: 'mx-agent', targetUserEndpointId: 'ep-snap', userEndpointId: 'ep-c', snapshotType: 'doc' }),
    otherOrganization: notItsEndpoint,
  }),
  'POST /rtc-api/snapshots/approve': (s) => ({ body: { snapshotId: s.snapshotId, userEndpointId: 'ep-snap' }, otherOrganization: 404 }),
  'POST /rtc-api/snapshots/discard': (s) => ({ body: { snapshotId: s.snapshotId, userEndpointId: 'ep-snap' }, otherOrganization: 404 }),
  'POST /rtc-api/snapshots/cameraRequestRespond': (s) => ({ body: { snapshotCameraRequestId: s.cameraRequestId, userEndpointId: 'ep-c', succeeded: true }, otherOrganization: 404 }),
  'POST /rtc-api/snapshots/signedUrl': (s) => ({ body: { snapshotId: s.snapshotId }, headers: referer, otherOrganization: 404 }),
  'GET /rtc-api/snapshots/signed/{snapshotId}/{expiration}': (s) => signedDownload(`/rtc-api/snapshots/signed/${s.snapshotId}`),
  'GET /rtc-api/snapshots': () => ({
    path: '/rtc-api/snapshots?interactionId=int-snap',
    otherOrganization: (res) => {
      expect(res.status).toBe(200);
      expect(res.body).toEqual([]);
    },
  }),
  'GET /rtc-api/snapshots/{snapshotId}': (s) => ({ path: `/rtc-api/snapshots/${s.snapshotId}`, otherOrganization: 404 }),
  'POST /rtc-api/filetransfers': () => ({
    path: '/rtc-api/filetransfers?targetType=user',
    body: fileForm({ applicationId: 'app-a', targetId: 'mx-customer' }),
    otherOrganization: (res) => expect(res.status).toBe(200), // its own transfer, in its own organization
  }),
  'GET /rtc-api/filetransfers': () => ({
    path: '/rtc-api/filetransfers?all=true',
    otherOrganization: (res, s) => {
      expect(res.status).toBe(200);
      expect((res.body as { id: string }[]).map((t) => t.id)).not.toContain(s.fileTransferId);
    },
  }),
  'POST /rtc-api/filetransfers/{fileTransferId}/signedUrl': (s) => ({ path: `/rtc-api/filetransfers/${s.fileTransferId}/signedUrl`, headers: referer, otherOrganization: 404 }),
  'GET /rtc-api/filetransfers/signed/{fileTransferId}/{expiration}': (s) => signedDownload(`/rtc-api/filetransfers/signed/${s.fileTransferId}`),
  'GET /rtc-api/assets': () => ({
    path: '/rtc-api/assets?applicationId=app-a',
    otherOrganization: (res) => {
      expect(res.status).toBe(200);
      expect(res.body).toEqual([]);
    },
  }),
  'POST /rtc-api/assets/{assetId}': () => ({
    path: '/rtc-api/assets/asset-new',
    body: fileForm({ applicationId: 'app-a', category: 'logo', rolesAllowedAccess: 'agent' }),
    otherOrganization: (res) => expect(res.status).toBe(204), // its own asset of that id, in its own organization
  }),
  'DELETE /rtc-api/assets/{assetId}': () => ({
    path: '/rtc-api/assets/asset-gone',
    // Nothing of that id in its organization: deleting it changes nothing (org-a's is another).
    otherOrganization: (res) => expect(res.status).toBe(204),
  }),
  'POST /rtc-api/assets/{assetId}/signedUrl': () => ({ path: '/rtc-api/assets/asset-a/signedUrl', headers: referer, otherOrganization: 404 }),
  'GET /rtc-api/assets/signed/{assetId}/{expiration}': () => signedDownload('/rtc-api/assets/signed/asset-a'),
  'GET /rtc-api/iceServers/v2': () => ({ otherOrganization: (res) => expect(res.status).not.toBe(401) }),
  'POST /rtc-api/oauth/token': () => ({
    body: 'grant_type=client_credentials',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    otherOrganization: () => undefined, // it takes client credentials, not a bearer token
    // No credentials is RFC 6749's invalid_client.
    anonymous: (res) => expect({ status: res.status, error: res.body?.error }).toEqual({ status: 401, error: 'invalid_client' }),
  }),
};

const ROLES = ['AGENT', 'CUSTOMER', 'SERVICE', 'ADMIN'] as const;
const TALKDESK_KEY = 'talkdesk-key-0123456789';

describe('authorization matrix of every operation', () => {
  let stack: Stack;
  let doc: OpenApiDocument;
  let scene: Scene;
  /** Bad tokens, each with what makes it bad. */
  let bad: Record<string, string>;
  const tokens: Record<string, string> = {};
  /** Tokens of the same roles in org-b. */
  const others: Record<string, string> = {};

  beforeAll(async () => {
    stack = await Stack.start({ presence: {}, snapshot: {}, gateway: { signedUrlOrigins: ['http://127.0.0.1'] }, interaction: { env: { TALKDESK_INTEGRATIONS: `org-a:acct-a:${TALKDESK_KEY}` } } });
    doc = (await stack.anonymous().request('GET', '/rtc-api/docs/openapi.json')).body;
    const agent = await stack.api('mx-agent', 'org-a', ['AGENT']);
    const customer = await stack.api('mx-customer', 'org-a', ['CUSTOMER']);
    await customer.post('/users/endpoints/register', { userEndpointId: 'ep-c', keepAliveSeconds: 600 });
    const { body } = await agent.post('/conferences/create', { creatorEndpoint: 'ep-a' });
    await agent.post('/conferences/join', { conferenceId: body.id, userEndpointId: 'ep-a' });
    await customer.post('/conferences/join', { conferenceId: body.id, userEndpointId: 'ep-c' });
    const created = await customer.post('/interactions', { type: 'video call' });
    const session = await agent.post('/chat-sessions', { participants: ['mx-agent', 'mx-customer'] });
    await agent.post('/users/endpoints/register', { userEndpointId: 'ep-snap', keepAliveSeconds: 600 });
    const snapshot = await agent.post('/snapshots/request', { applicationId: 'app-a', userEndpointId: 'ep-snap', targetUserId: 'mx-customer', targetUserEndpointId: 'ep-c', interactionId: 'int-snap' });
    expect((await customer.request('POST', '/rtc-api/snapshots/acquire', imageForm({ snapshotId: snapshot.body.snapshotId, userEndpointId: 'ep-c' }))).status).toBe(204);
    const camera = await agent.post('/snapshots/cameraRequest', { userEndpointId: 'ep-snap', targetUserId: 'mx-customer', targetUserEndpointId: 'ep-c', cameraRequestType: 'CAMERA_SWITCH' });
    const transfer = await agent.request('POST', '/rtc-api/filetransfers?targetType=user', fileForm({ applicationId: 'app-a', targetId: 'mx-customer' }));
    const admin = await stack.api('mx-admin', 'org-a', ['ADMIN']);
    expect((await admin.request('POST', '/rtc-api/assets/asset-a', fileForm({ applicationId: 'app-a', category: 'logo', rolesAllowedAccess: 'agent,customer,service,admin' }))).status).toBe(204);
    scene = {
      conferenceId: body.id,
      interactionId: created.body.interactionId,
      chatSessionId: session.body.id,
      snapshotId: snapshot.body.snapshotId,
      cameraRequestId: camera.body,
      fileTransferId: transfer.body.fileTransferId,
    };
    await agent.post('/talkdesk-integration/create', { data: { contact_id: 'ct-a' } });
    await customer.post('/ratings', { sessionType: 'CONFERENCE', sessionId: body.id, interactionId: created.body.interactionId, rating: 3 });
    for (const role of ROLES) tokens[role] = await stack.token(`mx-${role.toLowerCase()}`, 'org-a', [role]);
    for (const role of ROLES) others[role] = await stack.token(`mx-outsider-${role.toLowerCase()}`, 'org-b', [role]);
    const claims = { userId: 'mx-agent', organizationId: 'org-a', roles: ['ADMIN', 'SERVICE'] };
    const anHourAgo = new TokenIssuer(stack.auth, { now: () => new Date(Date.now() - 3600_000) });
    const otherKey = new TokenIssuer(authConfigFromEnv({ JWT_SECRET: 'another-secret-0123456789abcdef0123' }));
    const b64 = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');
    const now = Math.floor(Date.now() / 1000);
    bad = {
      expired: (await anHourAgo.issue({ ...claims, ttlSeconds: 60 })).access_token,
      'signed with another key': (await otherKey.issue(claims)).access_token,
      'alg none': `${b64({ alg: 'none', typ: 'JWT' })}.${b64({ sub: 'mx-agent', organization_id: 'org-a', roles: ['ADMIN'], iss: 'parley', iat: now, exp: now + 600 })}.`,
    };
  });
  afterAll(() => stack?.stop());

  const call = (operation: Operation, fixture: Fixture, token?: string) =>
    new Api(stack.gateway.url, token).request(operation.method, fixture.path ?? operation.path, fixture.body, fixture.headers);

  it('covers every operation of the document, each saying which roles may call it', () => {
    const operations = operationsOf(doc);
    expect(operations.length).toBeGreaterThanOrEqual(28);
    const uncovered = operations.filter((o) => !FIXTURES[o.name]).map((o) => o.name);
    expect({ uncovered }).toEqual({ uncovered: [] });
    const undeclared = operations.filter((o) => !o.op['x-parley-roles'] && !o.op['x-parley-public']).map((o) => o.name);
    expect({ undeclared }).toEqual({ undeclared: [] });
  });

  it('refuses a missing, expired, foreign-signed or unsigned token with 401 on every operation that takes one', async () => {
    const cells: string[] = [];
    for (const operation of operationsOf(doc)) {
      const fixture = FIXTURES[operation.name](scene);
      if (operation.op['x-parley-public']) {
        // It authenticates its callers its own way (client credentials, a signature).
        expect({ op: operation.name, anonymous: typeof fixture.anonymous }).toEqual({ op: operation.name, anonymous: 'function' });
        fixture.anonymous!(await call(operation, fixture));
        continue;
      }
      for (const [what, token] of [['no token', undefined], ...Object.entries(bad)] as [string, string | undefined][]) {
        const res = await call(operation, fixture, token);
        cells.push(`${operation.name} ${what}`);
        expect({ op: operation.name, what, status: res.status, message: typeof res.body?.message }).toEqual({ op: operation.name, what, status: 401, message: 'string' });
        expect(res.headers.get('www-authenticate')).toMatch(/^Bearer realm="parley"/);
      }
    }
    expect(cells.length).toBe(4 * operationsOf(doc).filter((o) => !o.op['x-parley-public']).length);
  });

  it("answers another organization's caller 404 for this organization's things, and shows it nothing of them", async () => {
    for (const operation of operationsOf(doc)) {
      const fixture = FIXTURES[operation.name](scene);
      const allowed = operation.op['x-parley-roles'] as string[] | undefined;
      if (!allowed) continue;
      // A caller the route lets through (a role it allows), from org-b.
      const res = await call(operation, fixture, others[allowed[0]]);
      if (fixture.otherOrganization === 404) expect({ op: operation.name, status: res.status }).toEqual({ op: operation.name, status: 404 });
      else fixture.otherOrganization(res, scene);
    }
  });

  it('answers 403 to every role an operation does not allow, and lets the others past the route', async () => {
    for (const operation of operationsOf(doc)) {
      const allowed = operation.op['x-parley-roles'] as string[] | undefined;
      if (!allowed) continue;
      for (const role of ROLES) {
        const res = await call(operation, FIXTURES[operation.name](scene), tokens[role]);
        const routeRefusal = res.status === 403 && /This operation requires one of the roles/.test(res.body?.message);
        const cell = { op: operation.name, role, unauthorized: res.status === 401, routeRefusal };
        expect(cell).toEqual({ op: operation.name, role, unauthorized: false, routeRefusal: !allowed.includes(role) });
      }
    }
  });

  it("takes a role claim's names one by one: 'CUSTOMER,SERVICE' beside AGENT is no SERVICE, in the gateway or behind it", async () => {
    const smuggler = new Api(stack.gateway.url, await stack.token('mx-smuggler', 'org-a', ['AGENT', 'CUSTOMER,SERVICE']));
    // A SERVICE (whose client may act for it) may create a conference for another organization; an AGENT may not.
    const res = await smuggler.post('/conferences/create', { organizationId: 'org-b' });
    expect(res.status).toBe(403);
    expect(res.body.message).toMatch(/may not create a conference \(for any other organization\)/);
    expect((await smuggler.post('/conferences/create', {})).status).toBe(200);
  });
});
