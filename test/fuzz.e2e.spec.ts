import fc from 'fast-check';
import type { NatsConnection } from 'nats';
import { type SyntheticMedia, type WrtcPeerConnection, peerConnection, receiveOffer, sendOffer, syntheticMedia } from '@parley/testing';
import { type Dictionary, type FuzzRequest, type OpenApiDocument, type Operation, documented5xx, operationsOf, requestsFor } from './support/openapi-fuzz';
import { settledEventCount } from './support/quiescence';
import { pngImage } from './support/images';
import { type Api, Stack } from './support/stack';

/** Requests per operation (FUZZ_RUNS; 1,000 in `npm test`). FUZZ_SEED replays a run fast-check reported. */
const RUNS = Number(process.env.FUZZ_RUNS ?? 1000);
const SEED = process.env.FUZZ_SEED === undefined ? undefined : Number(process.env.FUZZ_SEED);

const TOKEN_PATH = '/rtc-api/oauth/token';

/** FUZZ_VERBOSE=1 also lists, per operation, the most frequent answers to valid-shaped requests that were refused. */
const VERBOSE = process.env.FUZZ_VERBOSE === '1';

interface Tally {
  runs: number;
  statuses: Record<string, number>;
  kinds: Record<string, number>;
  refusedValidShaped: Record<string, number>;
}

/**
 * The whole system on real parts, fuzzed from its own OpenAPI document with fast-check: every
 * operation the gateway documents gets RUNS generated requests (see support/openapi-fuzz.ts),
 * and after each:
 * - no 5xx, unless the operation documents that status;
 * - every 4xx is JSON with a message (RFC 6749's error/error_description on the token endpoint);
 * - a rejected request changed nothing: the event stores hold as many events as before;
 * and after each operation every service is still answering, with no event dead-lettered.
 * The presence service's clock stands still, so only requests write events.
 */
describe('fuzzing every operation of the OpenAPI document', () => {
  let stack: Stack;
  let nc: NatsConnection;
  let doc: OpenApiDocument;
  const peers: WrtcPeerConnection[] = [];
  const sources: SyntheticMedia[] = [];
  const frozen = { t: Date.now(), now: () => frozen.t };

  beforeAll(async () => {
    stack = await Stack.start({
      // Rate limits would turn most of the fuzzer's requests into 429s: they have their own tests.
      // Uploads of at most 64 KB: the generator sends some larger (413), many times.
      gateway: { longPollTimeoutMs: 5, uploadMaxBytes: 65_536, rateLimits: { windowMs: 60_000, perToken: 1e9, perAddress: 1e9, tokenPerClient: 1e9, tokenPerAddress: 1e9 } },
      presence: { clock: frozen },
      interaction: { clock: frozen },
      snapshot: { clock: frozen, env: { UPLOAD_MAX_BYTES: '65536' } },
      media: { env: { STUN_URLS: 'stun:stun.example.org:3478', TURN_URLS: 'turn:turn.example.org:3478', TURN_SECRET: 'fuzz-secret', TURN_TTL_SECONDS: '3600' } },
    });
    nc = await stack.connectNats();
    doc = (await stack.anonymous().request('GET', '/rtc-api/docs/openapi.json')).body;
    agent = await stack.api('fz-agent', 'org-f', ['AGENT']);
    customer = await stack.api('fz-customer', 'org-f', ['CUSTOMER']);
    admin = await stack.api('fz-admin', 'org-f', ['ADMIN']);
    host = await stack.api('fz-host', 'org-f', ['AGENT']);
    const media = syntheticMedia();
    sources.push(media);
    sdpOffers = [await sendOffer(peer(), [media.audioTrack]), await sendOffer(peer(), [media.videoTrack]), await receiveOffer(peer(), ['video'])];
    tokens = {
      AGENT: agent.token!,
      CUSTOMER: customer.token!,
      SERVICE: await stack.token('fz-crm', 'org-f', ['SERVICE']),
      ADMIN: await stack.token('fz-admin', 'org-f', ['ADMIN']),
      'AGENT of another organization': await stack.token('fz-outsider', 'org-g', ['AGENT']),
    };
  });

  let agent: Api;
  let customer: Api;
  let admin: Api;
  let host: Api;
  let sdpOffers: string[];
  let tokens: Record<string, string>;
  let scene: string | undefined;
  const peer = () => {
    const pc = peerConnection();
    peers.push(pc);
    return pc;
  };

  /**
   * A fresh conference for each operation's requests, so that what one operation's requests did
   * (ended the conference, left it) does not turn every request of the next into a 409: the
   * agent (ep-fa) and the customer (ep-fc) joined, the customer publishing st-1, the agent viewing
   * it as vw-1. The previous one is ended (its media closed).
   */
  const newScene = async (n: number): Promise<Dictionary> => {
    if (scene) await host.post('/conferences/end', { conferenceId: scene, userEndpointId: 'ep-host' });
    scene = `fz-${n}`;
    expect((await host.post('/conferences/create', { conferenceId: scene, creatorEndpoint: 'ep-host', metadata: { topic: 'fuzz' } })).status).toBe(200);
    await host.post('/conferences/join', { conferenceId: scene, userEndpointId: 'ep-host' });
    // Registered again: the requests of an earlier operation may have unregistered them.
    await agent.post('/users/endpoints/register', { userEndpointId: 'ep-fa', keepAliveSeconds: 3600 });
    await customer.post('/users/endpoints/register', { userEndpointId: 'ep-fc', keepAliveSeconds: 3600 });
    await agent.post('/conferences/join', { conferenceId: scene, userEndpointId: 'ep-fa' });
    await customer.post('/conferences/join', { conferenceId: scene, userEndpointId: 'ep-fc' });
    await customer.post('/conferences/publishStream', { conferenceId: scene, userEndpointId: 'ep-fc', streamId: 'st-1', conferenceStreamType: 'CAM', sdpOffer: sdpOffers[1] });
    await agent.post('/conferences/viewStream', { conferenceId: scene, userEndpointId: 'ep-fa', streamId: 'st-1', viewerId: 'vw-1', sdpOffer: sdpOffers[2] });
    const missing = `missing-${n}`; // a fresh one each time: an operation's requests may create it
    const session = await agent.post('/chat-sessions', { participants: ['fz-agent', 'fz-customer'], room: scene });
    // A snapshot asked of the customer (REQUESTED), one it answered (UPLOADED), a camera request, a file, an asset.
    const ask = { applicationId: 'app-f', userEndpointId: 'ep-fa', targetUserId: 'fz-customer', targetUserEndpointId: 'ep-fc', interactionId: 'int-1' };
    const requested = (await agent.post('/snapshots/request', ask)).body.snapshotId;
    const answered = (await agent.post('/snapshots/request', ask)).body.snapshotId;
    await customer.upload('/snapshots/acquire', { snapshotId: answered, userEndpointId: 'ep-fc' }, { field: 'image', bytes: pngImage(), type: 'image/png' });
    const camera = (await agent.post('/snapshots/cameraRequest', { userEndpointId: 'ep-fa', targetUserId: 'fz-customer', targetUserEndpointId: 'ep-fc', cameraRequestType: 'FLASH_ON' })).body;
    const transfer = (await agent.upload('/filetransfers?targetType=user', { applicationId: 'app-f', targetId: 'fz-customer', conferenceId: scene }, { field: 'file', bytes: Buffer.from('notes') })).body.fileTransferId;
    await admin.upload(`/assets/asset-${n}`, { applicationId: 'app-f', category: 'logo', rolesAllowedAccess: 'agent,customer' }, { field: 'file', bytes: pngImage() });
    return {
      known: {
        conferenceId: [scene, scene, missing],
        userEndpointId: ['ep-fa', 'ep-fc', missing],
        streamId: ['st-1', missing],
        viewerId: ['vw-1', missing],
        userId: ['fz-agent', 'fz-customer', missing],
        organizationId: ['org-f', 'org-g'],
        interactionId: ['int-1'],
        chatSessionId: [session.body.id, missing],
        snapshotId: [requested, answered, missing],
        relatedSnapshotId: [answered, missing],
        snapshotCameraRequestId: [camera, missing],
        fileTransferId: [transfer, missing],
        assetId: [`asset-${n}`, missing],
        applicationId: ['app-f'],
        targetUserId: ['fz-customer', 'fz-agent', missing],
        targetUserEndpointId: ['ep-fc', 'ep-fa', missing],
        targetId: ['fz-customer', missing],
        snapshotType: ['doc', 'id-card'],
        category: ['logo'],
        rolesAllowedAccess: ['agent,customer', 'admin', 'customer,nobody'],
        cameraRequestType: ['CAMERA_SWITCH', 'FLASH_OFF'],
        targetType: ['user', 'USER', 'group'],
        referer: [`${stack.gateway.url}/demo/`, 'https://elsewhere.example/'],
        'x-auvious-createinternalsignedurl': ['true', 'false'],
        expiration: [String(Math.floor(Date.now() / 1000) + 3600), '1'],
        signature: ['k.org-f.AAAA'],
        key: ['topic', 'k'],
      },
      tokens,
      sdpOffers,
      client: { id: 'crm', secret: 'crm-secret' },
    };
  };
  afterAll(async () => {
    sources.forEach((s) => s.stop());
    peers.forEach((p) => p.close());
    await nc?.drain();
    await stack?.stop();
  });

  const send = async (r: FuzzRequest) => {
    const res = await fetch(`${stack.gateway.url}${r.url}`, { method: r.method, headers: r.headers, body: r.body });
    const text = await res.text();
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      body = undefined;
    }
    return { status: res.status, contentType: res.headers.get('content-type') ?? '', text, body };
  };

  /** What went wrong with one answer, or undefined. */
  const problem = (operation: Operation, status: number, contentType: string, body: unknown): string | undefined => {
    if (status >= 500 && !documented5xx(operation.op).includes(status)) return `an undocumented ${status}`;
    if (status < 400) return undefined;
    if (!contentType.includes('application/json') || typeof body !== 'object' || body === null) return `a ${status} without a JSON body`;
    const b = body as Record<string, unknown>;
    if (operation.path === TOKEN_PATH) {
      if (typeof b.error !== 'string' || typeof b.error_description !== 'string' || !b.error_description) return `a ${status} without RFC 6749's error and error_description`;
    } else if (typeof b.message !== 'string' || !b.message) return `a ${status} without a message`;
    return undefined;
  };

  it(`answers ${RUNS} generated requests to every operation without a 5xx, a 4xx without a message, a change by a rejected request, or a service down`, async () => {
    const operations = operationsOf(doc);
    expect(operations.length).toBeGreaterThanOrEqual(28);
    const tallies = new Map<string, Tally>();
    const timing = { send: 0, count: 0, settle: 0 };
    let events = await settledEventCount(stack, nc);

    for (const [n, operation] of operations.entries()) {
      const tally: Tally = { runs: 0, statuses: {}, kinds: {}, refusedValidShaped: {} };
      tallies.set(operation.name, tally);
      const dict = await newScene(n);
      events = await settledEventCount(stack, nc);
      const requests = requestsFor(doc, operation, dict).map((r) =>
        Object.assign(r, { [fc.toStringMethod]: () => `${r.method} ${r.url.slice(0, 200)} as ${r.caller}, ${r.kind}: ${String(r.body ?? '').slice(0, 300)}` }),
      );
      await fc.assert(
        fc.asyncProperty(requests, async (r) => {
          const t0 = performance.now();
          const res = await send(r);
          timing.send += performance.now() - t0;
          tally.runs++;
          tally.statuses[res.status] = (tally.statuses[res.status] ?? 0) + 1;
          tally.kinds[r.kind] = (tally.kinds[r.kind] ?? 0) + 1;
          if (r.kind === 'valid-shaped' && res.status >= 400) {
            const why = `${res.status} ${String((res.body as { message?: unknown; error_description?: unknown })?.message ?? (res.body as { error_description?: unknown })?.error_description).slice(0, 90)}`;
            tally.refusedValidShaped[why] = (tally.refusedValidShaped[why] ?? 0) + 1;
          }
          const wrong = problem(operation, res.status, res.contentType, res.body);
          if (wrong) throw new Error(`${operation.name}: ${wrong}: ${res.text.slice(0, 500)}`);
          const t1 = performance.now();
          if (res.status >= 400) {
            const after = await stack.eventCount();
            timing.count += performance.now() - t1;
            if (after !== events) throw new Error(`${operation.name}: a rejected request (${res.status}) changed the event stores (${events} → ${after} events): ${res.text.slice(0, 300)}`);
          } else {
            events = await settledEventCount(stack, nc);
            timing.settle += performance.now() - t1;
          }
        }),
        { numRuns: RUNS, endOnFailure: true, ...(SEED !== undefined ? { seed: SEED } : {}) },
      );
      const health = await stack.anonymous().request('GET', '/health');
      if (health.body?.status !== 'ok') throw new Error(`after ${operation.name}, /health says ${JSON.stringify(health.body)}`);
    }

    const lines = [...tallies].map(([name, t]) => {
      const byClass = (c: string) => Object.entries(t.statuses).filter(([s]) => s.startsWith(c)).reduce((n, [, k]) => n + k, 0);
      return `${name.padEnd(58)} ${String(t.runs).padStart(6)}  2xx ${String(byClass('2')).padStart(5)}  4xx ${String(byClass('4')).padStart(5)}  5xx ${byClass('5')}  (${Object.entries(t.statuses)
        .sort()
        .map(([s, k]) => `${s}×${k}`)
        .join(' ')})${
        VERBOSE
          ? `\n      ${Object.entries(t.refusedValidShaped)
              .sort((a, b) => b[1] - a[1])
              .slice(0, 4)
              .map(([m, k]) => `${k}× ${m}`)
              .join('\n      ')}`
          : ''
      }`;
    });
    const total = [...tallies.values()].reduce((n, t) => n + t.runs, 0);
    const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
    console.log(
      `fuzz: ${total} requests over ${tallies.size} operations (FUZZ_RUNS=${RUNS}); time in requests ${seconds(timing.send)}, in store counts ${seconds(timing.count)}, waiting for effects to settle ${seconds(timing.settle)}\n${lines.join('\n')}`,
    );
    for (const t of tallies.values()) expect(t.runs).toBe(RUNS);
  }, 30 * 60_000);
});
