import type { NatsConnection } from 'nats';
import { ACCESS, type Access, type AccessOperation, type AccessRow, Roles, type Role } from '@parley/contracts';
import { type SyntheticMedia, type WrtcPeerConnection, peerConnection, receiveOffer, sendOffer, syntheticMedia } from '@parley/testing';
import { type OpenApiDocument, operationsOf } from './support/openapi-fuzz';
import { Api, type ApiResponse, Stack, type UploadFile, formOf } from './support/stack';
import { pngImage } from './support/images';
import { settledEventCount } from './support/quiescence';

/**
 * The access table (ACCESS, docs/access.md) played cell by cell through the gateway: for every
 * operation, every route it covers, every situation and every role, a new user of that role
 * meets the situation (a conference an agent made, another user's endpoint, a stream…) and sends
 * the request. `yes` must succeed, `forbidden` must be 403 and `hidden` 404 (or, in a list,
 * absent). The cells come from the table, so the table, the docs and this test cannot drift; a
 * situation without a scene below fails the test. Every command (a route that takes
 * X-Auvious-TransactionId) is sent with one and then again with the same one: the retry answers
 * exactly the same.
 */

interface Caller {
  userId: string;
  role: Role;
  api: Api;
}

/** What a scene hands back: the request that plays the cell, and for a list the conference to look for. */
interface Play {
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  path: string;
  /** JSON, or a multipart upload (FormData, made anew for each send). */
  body?: unknown;
  upload?: { fields: Record<string, string>; file: UploadFile };
  headers?: Record<string, string>;
  listed?: string;
}

type Scene = (caller: Caller, route: string) => Promise<Play>;

const event = { type: 'NoteAddedEvent', timestamp: '2026-01-01T00:00:00Z', text: 'hi' };
const ice = [{ candidate: 'candidate:1 1 udp 2122260223 192.0.2.10 54321 typ host', sdpMid: '0', sdpMLineIndex: 0 }];

describe('the access table, cell by cell', () => {
  let stack: Stack;
  let nc: NatsConnection;
  let doc: OpenApiDocument;
  let host: Api;
  let sendSdp: string;
  let receiveSdp: string;
  const peers: WrtcPeerConnection[] = [];
  const sources: SyntheticMedia[] = [];
  let n = 0;
  const unique = (what: string) => `${what}-${++n}`;

  beforeAll(async () => {
    stack = await Stack.start({ presence: {}, snapshot: {}, interaction: { env: { TALKDESK_INTEGRATIONS: 'org-a:acct-a:talkdesk-key-0123456789' } }, media: { env: { TURN_URLS: 'turn:127.0.0.1:3478', TURN_SECRET: 'a'.repeat(32) } }, gateway: { longPollTimeoutMs: 200 } });
    nc = await stack.connectNats();
    doc = (await stack.anonymous().request('GET', '/rtc-api/docs/openapi.json')).body;
    host = await stack.api('host-agent', 'org-a', ['AGENT']);
    const media = syntheticMedia();
    sources.push(media);
    const sender = peerConnection();
    const receiver = peerConnection();
    peers.push(sender, receiver);
    sendSdp = await sendOffer(sender, [media.videoTrack]);
    receiveSdp = await receiveOffer(receiver, ['video']);
  }, 60_000);
  afterAll(async () => {
    sources.forEach((s) => s.stop());
    peers.forEach((p) => p.close());
    await nc?.close();
    await stack?.stop();
  });

  const ok = (res: ApiResponse, what: string) => {
    if (res.status >= 300) throw new Error(`${what}: ${res.status} ${JSON.stringify(res.body)}`);
    return res;
  };

  /** A user of `role` in org-a, new for each cell (so no quota of one user is reached by another cell). */
  async function newCaller(role: Role, actsFor?: string[]): Promise<Caller> {
    const userId = unique(`mx-${role.toLowerCase()}`);
    return { userId, role, api: new Api(stack.gateway.url, await stack.token(userId, 'org-a', [role], actsFor ? { actsFor } : {})) };
  }

  /** A conference the host agent created, with the host joined (a new host every 90: one user holds at most 100 unended). */
  let hosted = 0;
  async function conference(): Promise<string> {
    if (++hosted % 90 === 0) host = await stack.api(unique('host-agent'), 'org-a', ['AGENT']);
    const { body } = ok(await host.post('/conferences/create', {}), 'create');
    ok(await host.post('/conferences/join', { conferenceId: body.id, userEndpointId: unique('ep-host') }), 'host joins');
    return body.id;
  }

  async function registered(api: Api): Promise<string> {
    const ep = unique('ep');
    ok(await api.post('/users/endpoints/register', { userEndpointId: ep, keepAliveSeconds: 600 }), 'register');
    return ep;
  }

  async function joined(api: Api, conferenceId: string): Promise<string> {
    const ep = await registered(api);
    ok(await api.post('/conferences/join', { conferenceId, userEndpointId: ep }), 'join');
    return ep;
  }

  async function published(api: Api, conferenceId: string, ep: string): Promise<string> {
    const { body } = ok(await api.post('/conferences/publishStream', { conferenceId, userEndpointId: ep, conferenceStreamType: 'CAM', sdpOffer: sendSdp }), 'publish');
    return body.streamId;
  }

  async function viewing(api: Api, conferenceId: string, ep: string): Promise<{ streamId: string; viewerId: string }> {
    const hostEp = await joined(host, conferenceId);
    const streamId = await published(host, conferenceId, hostEp);
    const { body } = ok(await api.post('/conferences/viewStream', { conferenceId, userEndpointId: ep, streamId, sdpOffer: receiveSdp }), 'view');
    return { streamId, viewerId: body.viewerId };
  }

  /** The endpoint a participant command names: the caller's own, or a customer's who joined too. */
  async function participant(caller: Caller, situation: string, conferenceId: string): Promise<{ api: Api; ep: string }> {
    if (situation === "the caller's own participant endpoint") return { api: caller.api, ep: await joined(caller.api, conferenceId) };
    const other = await stack.api(unique('mx-guest'), 'org-a', ['CUSTOMER']);
    return { api: other, ep: await joined(other, conferenceId) };
  }

  /** By operation, then situation: the scene that puts a caller in it. */
  const SCENES: { [O in AccessOperation]: Record<keyof (typeof ACCESS)[O]['cases'], Scene> } = {
    createConference: {
      'with an id the server chooses': async () => ({ method: 'POST', path: '/conferences/create', body: {} }),
      'with an id the caller chooses': async () => ({ method: 'POST', path: '/conferences/create', body: { conferenceId: unique('chosen') } }),
      "for an organization the caller's OAuth client may act for": async () => ({ method: 'POST', path: '/conferences/create', body: { organizationId: 'org-b' } }),
      'for any other organization': async () => ({ method: 'POST', path: '/conferences/create', body: { organizationId: 'org-c' } }),
    },
    joinConference: {
      'with an endpoint the caller registered': async (c) => ({ method: 'POST', path: '/conferences/join', body: { conferenceId: await conference(), userEndpointId: await registered(c.api) } }),
      'with an endpoint nobody registered': async () => ({ method: 'POST', path: '/conferences/join', body: { conferenceId: await conference(), userEndpointId: unique('ep-free') } }),
      'with an endpoint another user registered': async () => ({
        method: 'POST',
        path: '/conferences/join',
        body: { conferenceId: await conference(), userEndpointId: await registered(await stack.api(unique('mx-guest'), 'org-a', ['CUSTOMER'])) },
      }),
    },
    leaveConference: participantScenes(async (_c, conferenceId, p) => ({ path: '/conferences/leave', body: { conferenceId, userEndpointId: p.ep } })),
    updateParticipantMetadata: participantScenes(async (_c, conferenceId, p) => ({ path: '/conferences/updateParticipantMetadata', body: { conferenceId, userEndpointId: p.ep, newMetadata: { a: 1 } } })),
    updateStreamMetadata: participantScenes(async (_c, conferenceId, p) => ({
      path: '/conferences/updateStreamMetadata',
      body: { conferenceId, userEndpointId: p.ep, streamId: await published(p.api, conferenceId, p.ep), newMetadata: { b: 2 } },
    })),
    updatePublishedStreamBitrate: participantScenes(async (_c, conferenceId, p) => {
      await published(p.api, conferenceId, p.ep);
      return { path: '/conferences/updatePublishedStreamBitrate', body: { conferenceId, userEndpointId: p.ep, videoBitrate: 200_000 } };
    }),
    publishStream: participantScenes(async (_c, conferenceId, p) => ({ path: '/conferences/publishStream', body: { conferenceId, userEndpointId: p.ep, conferenceStreamType: 'CAM', sdpOffer: sendSdp } })),
    unpublishStream: participantScenes(async (_c, conferenceId, p) => ({ path: '/conferences/unpublishStream', body: { conferenceId, userEndpointId: p.ep, streamId: await published(p.api, conferenceId, p.ep) } })),
    viewStream: participantScenes(async (_c, conferenceId, p) => {
      const hostEp = await joined(host, conferenceId);
      return { path: '/conferences/viewStream', body: { conferenceId, userEndpointId: p.ep, streamId: await published(host, conferenceId, hostEp), sdpOffer: receiveSdp } };
    }),
    stopViewStream: participantScenes(async (_c, conferenceId, p) => ({ path: '/conferences/stopViewStream', body: { conferenceId, userEndpointId: p.ep, ...(await viewing(p.api, conferenceId, p.ep)) } })),
    addIceCandidates: participantScenes(async (_c, conferenceId, p, route) =>
      route.endsWith('addPublishStreamIceCandidates')
        ? { path: '/conferences/addPublishStreamIceCandidates', body: { conferenceId, userEndpointId: p.ep, streamId: await published(p.api, conferenceId, p.ep), iceCandidates: ice } }
        : { path: '/conferences/addViewStreamIceCandidates', body: { conferenceId, userEndpointId: p.ep, ...(await viewing(p.api, conferenceId, p.ep)), iceCandidates: ice } },
    ),
    endConference: {
      'one the caller created': async (c) => {
        const { body } = ok(await c.api.post('/conferences/create', {}), 'create');
        return { method: 'POST', path: '/conferences/end', body: { conferenceId: body.id, userEndpointId: unique('ep') } };
      },
      'one the caller joined but did not create': async (c) => {
        const conferenceId = await conference();
        return { method: 'POST', path: '/conferences/end', body: { conferenceId, userEndpointId: await joined(c.api, conferenceId) } };
      },
      'one the caller neither created nor joined': async () => ({ method: 'POST', path: '/conferences/end', body: { conferenceId: await conference(), userEndpointId: unique('ep') } }),
    },
    setConferenceInteraction: {
      'one the caller created or joined': async (c) => {
        const conferenceId = await conference();
        return { method: 'POST', path: '/conferences/interaction', body: { conferenceId, interactionId: unique('int'), userEndpointId: await joined(c.api, conferenceId) } };
      },
      'one the caller neither created nor joined': async () => ({ method: 'POST', path: '/conferences/interaction', body: { conferenceId: await conference(), interactionId: unique('int') } }),
    },
    updateConferenceMetadata: {
      "with the caller's own participant endpoint": async (c) => {
        const conferenceId = await conference();
        return { method: 'POST', path: '/conferences/updateMetadata', body: { conferenceId, userEndpointId: await joined(c.api, conferenceId), operation: 'SET', key: 'k', value: 'v' } };
      },
      "with another user's participant endpoint": async () => {
        const conferenceId = await conference();
        const guest = await stack.api(unique('mx-guest'), 'org-a', ['CUSTOMER']);
        return { method: 'POST', path: '/conferences/updateMetadata', body: { conferenceId, userEndpointId: await joined(guest, conferenceId), operation: 'SET', key: 'k', value: 'v' } };
      },
    },
    sendEventToConference: {
      'any conference of its organization': async () => ({ method: 'POST', path: '/conferences/sendEvent', body: { conferenceId: await conference(), event } }),
    },
    listActiveConferences: {
      'one the caller created or joined': async (c) => {
        const conferenceId = await conference();
        await joined(c.api, conferenceId);
        return { method: 'GET', path: '/conferences/active', listed: conferenceId };
      },
      'one the caller neither created nor joined': async () => ({ method: 'GET', path: '/conferences/active', listed: await conference() }),
    },
    readConference: {
      'one the caller created or joined': async (c, route) => {
        const conferenceId = await conference();
        await joined(c.api, conferenceId);
        return { method: 'GET', path: readPath(route, conferenceId) };
      },
      'one the caller neither created nor joined': async (_c, route) => ({ method: 'GET', path: readPath(route, await conference()) }),
    },
    updateParticipantState: {
      // No route: only the presence service sends it, over NATS (test/bus-security.e2e.spec.ts).
      'any participant': async () => {
        throw new Error('updateParticipantState has no route');
      },
    },
    registerEndpoint: {
      'an endpoint id of its own': async (_c, route) => ({ method: 'POST', path: route.endsWith('/register') ? '/users/endpoints/register' : '/users/endpoints', body: { userEndpointId: unique('ep'), keepAliveSeconds: 60 } }),
    },
    useEndpoint: {
      'an endpoint the caller registered': async (c, route) => endpointPlay(route, await registered(c.api)),
      'an endpoint another user registered': async (_c, route) => endpointPlay(route, await registered(await stack.api(unique('mx-guest'), 'org-a', ['CUSTOMER']))),
    },
    sendEventToUser: {
      'a user of its own organization': async () => {
        const guestId = unique('mx-guest');
        await registered(await stack.api(guestId, 'org-a', ['CUSTOMER']));
        return { method: 'POST', path: '/users/endpoints/sendEvent', body: { userId: guestId, event } };
      },
      "a user of an organization the caller's OAuth client may act for": async () => ({ method: 'POST', path: '/users/endpoints/sendEvent', body: { userId: 'someone', organizationId: 'org-b', event } }),
      'a user of any other organization': async () => ({ method: 'POST', path: '/users/endpoints/sendEvent', body: { userId: 'someone', organizationId: 'org-c', event } }),
    },
    iceServers: {
      'its own credentials': async () => ({ method: 'GET', path: '/iceServers/v2' }),
    },
    createInteraction: {
      'with an id the server chooses': async () => ({ method: 'POST', path: '/interactions', body: { type: 'video call' } }),
      'with an id the caller chooses': async () => ({ method: 'POST', path: '/interactions', body: { interactionId: unique('int') } }),
    },
    readInteraction: {
      'one the caller created': async (c, route) => ({ method: 'GET', path: interactionPath(route, await interaction(c.api)) }),
      'one the caller took part in through a conference': async (c, route) => ({ method: 'GET', path: interactionPath(route, await interactionTakenPartIn(c.api)) }),
      'any other of its organization': async (_c, route) => ({ method: 'GET', path: interactionPath(route, await interaction(host)) }),
    },
    updateInteraction: {
      'one the caller created': async (c) => ({ method: 'PUT', path: `/interactions/${await interaction(c.api)}`, body: { type: 'chat' } }),
      'one the caller took part in through a conference': async (c) => ({ method: 'PUT', path: `/interactions/${await interactionTakenPartIn(c.api)}`, body: { type: 'chat' } }),
      'any other of its organization': async () => ({ method: 'PUT', path: `/interactions/${await interaction(host)}`, body: { type: 'chat' } }),
    },
    rateSession: {
      'a call or conference of its own organization': async () => ({ method: 'POST', path: '/ratings', body: { sessionType: 'CALL', sessionId: unique('call'), rating: 5, comment: 'fine' } }),
    },
    readRatings: {
      'one the caller gave': async (c, route) => rated(c.api, route),
      'one another user gave': async (_c, route) => rated(host, route),
    },
    talkdeskContacts: {
      "its own organization's contacts": async (_c, route) =>
        route.endsWith('/create')
          ? { method: 'POST', path: '/talkdesk-integration/create', body: { data: { contact_id: unique('contact') } } }
          : { method: 'POST', path: '/talkdesk-integration/activity', body: { data: { contact_id: 'contact-0' } } },
    },
    talkdeskValidate: {
      'credentials of its own organization': async () => ({ method: 'POST', path: '/talkdesk-integration/authorization-validator', body: { account_id: 'acct-a', api_key: 'talkdesk-key-0123456789' } }),
    },
    listInteractions: {
      "its own organization's": async () => ({ method: 'GET', path: '/interactions?start=2000-01-01T00:00:00Z&end=2100-01-01T00:00:00Z' }),
    },
    createChatSession: {
      'one the caller takes part in': async (c) => ({ method: 'POST', path: '/chat-sessions', body: { participants: [c.userId, unique('doctor')] } }),
      'one the caller does not take part in': async () => ({ method: 'POST', path: '/chat-sessions', body: { participants: [unique('patient')] } }),
      'one the caller takes part in, in a room that is not a conference the caller took part in': async (c) => ({ method: 'POST', path: '/chat-sessions', body: { participants: [c.userId], room: await conference() } }),
    },
    readChatSession: {
      'one the caller takes part in': async (c, route) => chatSessionRead(route, await chatSession([c.userId])),
      "one in whose room's conference the caller took part": async (c, route) => chatSessionRead(route, await chatSessionInRoomOf(c.api)),
      'any other of its organization': async (_c, route) => chatSessionRead(route, await chatSession([])),
    },
    updateChatSession: {
      'one the caller takes part in': async (c) => ({ method: 'PATCH', path: `/chat-sessions/${await chatSession([c.userId])}`, body: { start: true } }),
      "one in whose room's conference the caller took part": async (c) => ({ method: 'PATCH', path: `/chat-sessions/${await chatSessionInRoomOf(c.api)}`, body: { start: true } }),
      'any other of its organization': async () => ({ method: 'PATCH', path: `/chat-sessions/${await chatSession([])}`, body: { start: true } }),
      'one the caller takes part in, moved to a room that is not a conference the caller took part in': async (c) => ({
        method: 'PATCH',
        path: `/chat-sessions/${await chatSession([c.userId])}`,
        body: { room: await conference() },
      }),
      'one the caller takes part in, with the caller left out of its participants': async (c) => ({
        method: 'PATCH',
        path: `/chat-sessions/${await chatSession([c.userId, unique('doctor')])}`,
        body: { participants: [unique('doctor')] },
      }),
    },
    askForCamera: {
      'from an endpoint the caller registered': async (c, route) => cameraAsk(route, await registered(c.api)),
      'from an endpoint the caller did not register': async (_c, route) => cameraAsk(route, await registered(await guest())),
    },
    uploadSnapshot: {
      'from an endpoint the caller registered': async (c) => snapshotUpload(await registered(c.api)),
      'from an endpoint the caller did not register': async () => snapshotUpload(await registered(await guest())),
    },
    answerCameraRequest: {
      'one asked of the caller': async (c, route) => cameraAnswer(route, c.userId, await registered(c.api)),
      'one asked of another user': async (_c, route) => {
        const guestId = unique('mx-guest');
        return cameraAnswer(route, guestId, await registered(await stack.api(guestId, 'org-a', ['CUSTOMER'])));
      },
    },
    judgeSnapshot: {
      'one the caller asked for or was asked for': async (c, route) => ({ method: 'POST', path: route.replace('POST /rtc-api', ''), body: { snapshotId: await snapshotSentBy(c.api), userEndpointId: unique('ep') } }),
      'any other of its organization': async (_c, route) => ({ method: 'POST', path: route.replace('POST /rtc-api', ''), body: { snapshotId: await snapshotSentBy(undefined), userEndpointId: unique('ep') } }),
    },
    readSnapshot: {
      'one the caller asked for or was asked for': async (c, route) => snapshotRead(route, c.api),
      'any other of its organization': async (_c, route) => snapshotRead(route, undefined),
    },
    transferFile: {
      'a user of its own organization': async () => ({ method: 'POST', path: '/filetransfers?targetType=user', upload: { fields: { applicationId: 'app-mx', targetId: unique('mx-guest') }, file: anyFile() } }),
    },
    readFileTransfer: {
      'one the caller sent or received': async (c, route) => fileTransferRead(route, c.api, false),
      'any other of its organization': async (_c, route) => fileTransferRead(route, (await agent()).api, true),
    },
    manageAssets: {
      'an asset of its own organization': async (_c, route) =>
        route.startsWith('DELETE')
          ? { method: 'DELETE', path: `/assets/${await asset('admin')}` }
          : { method: 'POST', path: `/assets/${unique('asset')}`, upload: { fields: { applicationId: 'app-mx', category: 'logo', rolesAllowedAccess: 'agent,customer' }, file: anyFile() } },
    },
    readAsset: {
      "one whose rolesAllowedAccess names one of the caller's roles": async (c, route) => assetRead(route, c.role.toLowerCase()),
      "one whose rolesAllowedAccess names none of the caller's roles": async (c, route) => assetRead(route, c.role === 'AGENT' ? 'customer' : 'agent'),
    },
  };

  const image = pngImage(4, 4, 7);
  const imageFile = (): UploadFile => ({ field: 'image', bytes: image, filename: 'frame.png', type: 'image/png' });
  const anyFile = (): UploadFile => ({ field: 'file', bytes: Buffer.from('a file of the matrix'), filename: 'notes.txt', type: 'text/plain' });
  const guest = () => stack.api(unique('mx-guest'), 'org-a', ['CUSTOMER']);
  const referer = () => ({ referer: `${stack.gateway.url}/demo/` });

  /** The agent that snapshots and camera requests are sent to and from, with its endpoint: one for the whole test. */
  let snapAgent: { api: Api; ep: string } | undefined;
  async function agent(): Promise<{ api: Api; ep: string }> {
    if (!snapAgent) {
      const api = await stack.api('snap-agent', 'org-a', ['AGENT']);
      snapAgent = { api, ep: await registered(api) };
    }
    return snapAgent;
  }
  const hostEndpoint = async () => (await agent()).ep;

  /** A snapshot request or camera request from `ep` to the agent. */
  async function cameraAsk(route: string, ep: string): Promise<Play> {
    const target = { userEndpointId: ep, targetUserId: 'snap-agent', targetUserEndpointId: await hostEndpoint() };
    return route.endsWith('/request')
      ? { method: 'POST', path: '/snapshots/request', body: { applicationId: 'app-mx', ...target } }
      : { method: 'POST', path: '/snapshots/cameraRequest', body: { ...target, cameraRequestType: 'FLASH_ON' } };
  }

  /** A snapshot sent from `ep` to the agent. */
  async function snapshotUpload(ep: string): Promise<Play> {
    return {
      method: 'POST',
      path: '/snapshots/upload',
      upload: { fields: { applicationId: 'app-mx', targetUserId: 'snap-agent', targetUserEndpointId: await hostEndpoint(), userEndpointId: ep, snapshotType: 'doc' }, file: imageFile() },
    };
  }

  /** The agent asks `userId`'s endpoint `ep` for a snapshot (or a camera change); the play answers it. */
  async function cameraAnswer(route: string, userId: string, ep: string): Promise<Play> {
    const { api: asker, ep: askerEp } = await agent();
    const ask = { userEndpointId: askerEp, targetUserId: userId, targetUserEndpointId: ep };
    if (route.endsWith('/acquire')) {
      const { body } = ok(await asker.post('/snapshots/request', { applicationId: 'app-mx', ...ask }), 'request a snapshot');
      return { method: 'POST', path: '/snapshots/acquire', upload: { fields: { snapshotId: body.snapshotId, userEndpointId: ep }, file: imageFile() } };
    }
    const { body } = ok(await asker.post('/snapshots/cameraRequest', { ...ask, cameraRequestType: 'CAMERA_SWITCH' }), 'camera request');
    return { method: 'POST', path: '/snapshots/cameraRequestRespond', body: { snapshotCameraRequestId: body, userEndpointId: ep, succeeded: true } };
  }

  /** A snapshot `api`'s user sends to the agent (UPLOADED, in a new interaction): its id. With no api, the agent sends one to a guest. */
  async function snapshotSentBy(api: Api | undefined, interactionId = unique('int')): Promise<string> {
    let sender: Api;
    let ep: string;
    let target: Record<string, string>;
    if (api === undefined) {
      ({ api: sender, ep } = await agent());
      const guestId = unique('mx-guest');
      target = { targetUserId: guestId, targetUserEndpointId: await registered(await stack.api(guestId, 'org-a', ['CUSTOMER'])) };
    } else {
      sender = api;
      ep = await registered(sender);
      target = { targetUserId: 'snap-agent', targetUserEndpointId: await hostEndpoint() };
    }
    const res = ok(await sender.upload('/snapshots/upload', { applicationId: 'app-mx', ...target, userEndpointId: ep, snapshotType: 'doc', interactionId }, imageFile()), 'upload a snapshot');
    return res.body.snapshotId;
  }

  async function snapshotRead(route: string, sender: Api | undefined): Promise<Play> {
    const interactionId = unique('int');
    const snapshotId = await snapshotSentBy(sender, interactionId);
    if (route.startsWith('POST')) return { method: 'POST', path: '/snapshots/signedUrl', body: { snapshotId }, headers: referer() };
    return route.endsWith('{snapshotId}') ? { method: 'GET', path: `/snapshots/${snapshotId}` } : { method: 'GET', path: `/snapshots?interactionId=${interactionId}`, listed: snapshotId };
  }

  /** A file `api`'s user sends (in a new interaction); the play reads it. */
  async function fileTransferRead(route: string, sender: Api, all: boolean): Promise<Play> {
    const interactionId = unique('int');
    const { body } = ok(await sender.upload('/filetransfers?targetType=user', { applicationId: 'app-mx', targetId: unique('mx-guest'), interactionId }, anyFile()), 'transfer a file');
    if (route.startsWith('POST')) return { method: 'POST', path: `/filetransfers/${body.fileTransferId}/signedUrl`, headers: referer() };
    return { method: 'GET', path: `/filetransfers?interactionId=${interactionId}${all ? '&all=true' : ''}`, listed: body.fileTransferId };
  }

  /** An asset the administrator uploads for `roles`, of a new application: its id (and the application's). */
  let assetAdmin: Api | undefined;
  let lastApplication = '';
  async function asset(roles: string): Promise<string> {
    assetAdmin ??= await stack.api('asset-admin', 'org-a', ['ADMIN']);
    const assetId = unique('asset');
    lastApplication = unique('app');
    ok(await assetAdmin.upload(`/assets/${assetId}`, { applicationId: lastApplication, category: 'logo', rolesAllowedAccess: roles }, anyFile()), 'upload an asset');
    return assetId;
  }

  async function assetRead(route: string, roles: string): Promise<Play> {
    const assetId = await asset(roles);
    if (route.startsWith('POST')) return { method: 'POST', path: `/assets/${assetId}/signedUrl`, headers: referer() };
    return { method: 'GET', path: `/assets?applicationId=${lastApplication}`, listed: assetId };
  }

  /** A chat session the host (an agent: staff) created for `participants`, or for a patient of its own (and in a room when given). */
  async function chatSession(participants: string[], room?: string): Promise<string> {
    const { body } = ok(await host.post('/chat-sessions', { participants: participants.length ? participants : [unique('patient')], ...(room ? { room } : {}) }), 'create chat session');
    return body.id;
  }

  /** A chat session of the host's whose room is a conference `api`'s user joined, once the interaction service has seen the join. */
  async function chatSessionInRoomOf(api: Api): Promise<string> {
    const conferenceId = await conference();
    await joined(api, conferenceId);
    await settledEventCount(stack, nc);
    return chatSession([], conferenceId);
  }

  /** The GET of one session, or the list it must be in (the newest: it was just made). */
  function chatSessionRead(route: string, id: string): Play {
    return route.endsWith('{id}') ? { method: 'GET', path: `/chat-sessions/${id}` } : { method: 'GET', path: '/chat-sessions?size=5', listed: id };
  }

  /** A rating `api` gives, of a new conference id tied to a new interaction id; and where the route lists it. */
  async function rated(api: Api, route: string): Promise<Play> {
    const sessionId = unique('rated-conf');
    const interactionId = unique('rated-int');
    const { body } = ok(await api.post('/ratings', { sessionType: 'CONFERENCE', sessionId, interactionId, rating: 4 }), 'rate');
    return { method: 'GET', path: route.includes('/interactions/') ? `/ratings/interactions/${interactionId}` : `/ratings/conferences/${sessionId}`, listed: body.id };
  }

  function interactionPath(route: string, id: string): string {
    return route.endsWith('/conferences') ? `/interactions/${id}/conferences` : `/interactions/${id}`;
  }

  /** An interaction the host created, named by a conference the host created and `api`'s user joined, once the interaction service has seen the join. */
  async function interactionTakenPartIn(api: Api): Promise<string> {
    const interactionId = await interaction(host);
    const { body } = ok(await host.post('/conferences/create', { interactionId }), 'create');
    await joined(api, body.id);
    await settledEventCount(stack, nc);
    return interactionId;
  }

  async function interaction(api: Api): Promise<string> {
    return ok(await api.post('/interactions', {}), 'create interaction').body.interactionId;
  }

  function participantScenes(
    play: (caller: Caller, conferenceId: string, p: { api: Api; ep: string }, route: string) => Promise<{ path: string; body: unknown }>,
  ): Record<"the caller's own participant endpoint" | "another user's participant endpoint", Scene> {
    const scene = (situation: string): Scene => async (caller, route) => {
      const conferenceId = await conference();
      return { method: 'POST', ...(await play(caller, conferenceId, await participant(caller, situation, conferenceId), route)) };
    };
    return { "the caller's own participant endpoint": scene("the caller's own participant endpoint"), "another user's participant endpoint": scene("another user's participant endpoint") };
  }

  function readPath(route: string, conferenceId: string): string {
    if (route.endsWith('/simpleView')) return `/conferences/${conferenceId}/simpleView`;
    if (route.endsWith('/events')) return `/conferences/${conferenceId}/events?v=0`;
    return `/conferences/${conferenceId}`;
  }

  function endpointPlay(route: string, ep: string): Play {
    if (route.startsWith('GET')) return { method: 'GET', path: `/users/endpoints/${ep}/events` };
    return { method: 'POST', path: route.endsWith('/keepalive') ? '/users/endpoints/keepalive' : '/users/endpoints/unregister', body: { userEndpointId: ep } };
  }

  /** What a cell's answer says happened, in the table's words. */
  function outcome(res: ApiResponse, play: Play): Access | string {
    if (play.listed !== undefined) {
      if (res.status !== 200) return `status ${res.status}`;
      return (res.body as { id: string }[]).some((c) => c.id === play.listed) ? 'yes' : 'hidden';
    }
    if (res.status >= 200 && res.status < 300) return 'yes';
    if (res.status === 403) return 'forbidden';
    if (res.status === 404) return 'hidden';
    return `status ${res.status}: ${JSON.stringify(res.body)}`;
  }

  it('names every route of the API in the table, under the operation the route says it is', () => {
    const inTable = Object.entries(ACCESS).flatMap(([op, rule]) => rule.routes.map((route) => `${route} ${op}`));
    const inDocument = operationsOf(doc)
      .filter((o) => !o.op['x-parley-public'])
      .map((o) => `${o.name} ${String(o.op['x-parley-access'])}`);
    expect(inDocument.sort()).toEqual(inTable.sort());
  });

  it('answers every cell as the table says', async () => {
    const wrong: string[] = [];
    // The routes that take X-Auvious-TransactionId (commands; a signedUrl is a POST that reads).
    const commands = new Set(operationsOf(doc).filter((o) => o.op.parameters?.some((p) => p.name === 'X-Auvious-TransactionId')).map((o) => o.name));
    let cells = 0;
    for (const [operation, rule] of Object.entries(ACCESS) as [AccessOperation, (typeof ACCESS)[AccessOperation]][]) {
      for (const route of rule.routes) {
        for (const [situation, row] of Object.entries(rule.cases as Record<string, AccessRow>)) {
          const scene = (SCENES[operation] as Record<string, Scene>)[situation];
          for (const role of Roles) {
            const caller = await newCaller(role, situation.includes('may act for') ? ['org-b'] : undefined);
            const play = await scene(caller, route);
            // A command carries a transaction id, and is sent again with it: the retry must answer the same.
            const command = commands.has(route);
            const headers: Record<string, string> = { ...play.headers, ...(command ? { 'X-Auvious-TransactionId': `matrix-${cells}` } : {}) };
            const send = () => caller.api.request(play.method, `/rtc-api${play.path}`, play.upload ? formOf(play.upload.fields, play.upload.file) : play.body, headers);
            const res = await send();
            const got = outcome(res, play);
            cells++;
            if (got !== row[role]) wrong.push(`${route} | ${situation} | ${role}: table says ${row[role]}, got ${got}`);
            if (command) {
              const retry = await send();
              if (retry.status !== res.status || JSON.stringify(retry.body) !== JSON.stringify(res.body)) {
                wrong.push(`${route} | ${situation} | ${role}: the retry answered ${retry.status} ${JSON.stringify(retry.body)}, the first ${res.status} ${JSON.stringify(res.body)}`);
              }
            }
          }
        }
      }
    }
    expect(wrong).toEqual([]);
    const expected = Object.values(ACCESS).reduce((sum, rule) => sum + rule.routes.length * Object.keys(rule.cases).length * Roles.length, 0);
    expect(cells).toBe(expected);
  }, 240_000);
});
