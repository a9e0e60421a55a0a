import { FileSystemBlobStore, S3BlobStore, UrlSigner, parseSigningKeys } from '@parley/storage';
import { type S3ServerHandle, startS3Server, waitFor } from '@parley/testing';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { EndpointSocket } from './support/endpoint-socket';
import { pngImage } from './support/images';
import { TEST_SECRETS } from './support/secrets';
import { type Api, Stack } from './support/stack';

/**
 * Snapshots and camera requests through the gateway, the snapshot service and presence, on real
 * NATS, PGlite and the filesystem blob store: the request pushed to the target's endpoint, the
 * image streamed in and typed by its content, approvals and discards heard by the requester,
 * signed URLs that serve the same bytes (and refuse what is not signed, expired or foreign);
 * file transfers (a retry keeps one file) and assets (seen by the roles they name).
 */
describe('snapshots, camera requests, file transfers and assets', () => {
  let stack: Stack;
  const sockets: EndpointSocket[] = [];
  const origin = () => stack.gateway.url;

  beforeAll(async () => {
    stack = await Stack.start({ presence: {}, snapshot: { env: { UPLOAD_MAX_BYTES: '100000', QUOTA_ORGANIZATION_STORED_BYTES: '300000' } }, gateway: { uploadMaxBytes: 100_000, uploadTimeoutMs: 3000 } });
  }, 60_000);
  afterAll(async () => {
    await Promise.all(sockets.map((s) => s.close()));
    await stack?.stop();
  });

  /** A user of `org` with a registered endpoint and its socket. */
  async function user(userId: string, roles: string[], org = 'org-s'): Promise<{ api: Api; ep: string; socket: EndpointSocket }> {
    const api = await stack.api(userId, org, roles);
    const ep = `ep-${userId}`;
    expect((await api.post('/users/endpoints/register', { userEndpointId: ep, keepAliveSeconds: 600 })).status).toBe(200);
    const socket = await EndpointSocket.open(stack.gateway.url, await stack.token(userId, org, roles), ep);
    sockets.push(socket);
    return { api, ep, socket };
  }

  const referer = () => ({ referer: `${origin()}/demo/` });

  /** Every blob the store holds (what the gateway and the snapshot service share). */
  async function blobs(): Promise<string[]> {
    const keys: string[] = [];
    for await (const b of new FileSystemBlobStore(join(stack.dataDir, 'blobs')).list('')) keys.push(b.key);
    return keys.sort();
  }

  /** A snapshot the agent asked of the customer: its id. */
  async function requested(agent: { api: Api; ep: string }, customerId: string, customerEp: string, extra: Record<string, string> = {}): Promise<string> {
    const res = await agent.api.post('/snapshots/request', { applicationId: 'app-1', userEndpointId: agent.ep, targetUserId: customerId, targetUserEndpointId: customerEp, ...extra });
    expect(res.status).toBe(200);
    return res.body.snapshotId;
  }

  const acquire = (api: Api, snapshotId: string, ep: string, bytes: Uint8Array = pngImage()) => api.upload('/snapshots/acquire', { snapshotId, userEndpointId: ep }, { field: 'image', bytes, type: 'image/png' });

  it('takes a snapshot across two endpoints: request, the request pushed, acquire, approve, signed URL, the same bytes', async () => {
    const agent = await user('agent-1', ['AGENT']);
    const customer = await user('customer-1', ['CUSTOMER']);
    const requested = await agent.api.post('/snapshots/request', {
      applicationId: 'app-1',
      userEndpointId: agent.ep,
      targetUserId: 'customer-1',
      targetUserEndpointId: customer.ep,
      sessionType: 'CONFERENCE',
      sessionId: 'conf-1',
      interactionId: 'int-1',
      snapshotType: 'id-card',
    });
    expect(requested.status).toBe(200);
    const { snapshotId } = requested.body;
    const pushed = await customer.socket.next((d) => d.event.type === 'SnapshotRequestedEvent' && d.event.snapshotId === snapshotId, 0, 'the request pushed to the target');
    expect(pushed.event).toMatchObject({ snapshotId, requesterUserId: 'agent-1', requesterUserEndpointId: agent.ep, userId: 'customer-1', userEndpointId: customer.ep, snapshotType: 'id-card', organizationId: 'org-s' });

    const image = pngImage(8, 8, 3);
    const acquired = await customer.api.upload('/snapshots/acquire', { snapshotId, userEndpointId: customer.ep, snapshotMimeType: 'image/jpeg', snapshotSuffix: 'jpg' }, { field: 'image', bytes: image, filename: 'frame.jpg', type: 'image/jpeg' });
    expect(acquired.status).toBe(204);
    const arrived = await agent.socket.next((d) => d.event.type === 'SnapshotAcquiredEvent' && d.event.snapshotId === snapshotId, 0, 'the image pushed to the requester');
    expect(arrived.event).toMatchObject({ snapshotId, mimeType: 'image/png', suffix: 'png', size: image.length });
    expect(arrived.event.file).toBeUndefined();

    const uploaded = await agent.api.get(`/snapshots/${snapshotId}`);
    expect(uploaded.body).toMatchObject({
      id: snapshotId,
      organizationId: 'org-s',
      applicationId: 'app-1',
      requesterUserId: 'agent-1',
      requesterUserEndpointId: agent.ep,
      userId: 'customer-1',
      userEndpointId: customer.ep,
      sessionType: 'CONFERENCE',
      sessionId: 'conf-1',
      interactionId: 'int-1',
      type: 'id-card',
      state: 'UPLOADED',
      requestProcessingResult: { snapshotId },
      // The declared type and suffix (jpeg) are corrected to the content's.
      mimeType: 'image/png',
      suffix: 'png',
      approved: false,
      version: 2,
    });
    expect(uploaded.body.path).toMatch(/^interactions\/int-1\/[A-Za-z0-9_-]+$/);

    expect((await agent.api.post('/snapshots/approve', { snapshotId, userEndpointId: agent.ep, snapshotType: 'passport' })).status).toBe(204);
    await agent.socket.next((d) => d.event.type === 'SnapshotApprovedEvent' && d.event.snapshotId === snapshotId, 0, 'the approval pushed to the requester');
    await customer.socket.next((d) => d.event.type === 'SnapshotApprovedEvent' && d.event.snapshotId === snapshotId, 0, 'the approval pushed to the target');
    expect((await agent.api.get(`/snapshots/${snapshotId}`)).body).toMatchObject({ state: 'APPROVED', approved: true, type: 'passport', approvalProcessingResult: { succeeded: true }, version: 3 });
    expect((await agent.api.get('/snapshots?interactionId=int-1')).body.map((s: { id: string }) => s.id)).toEqual([snapshotId]);

    const signed = await agent.api.post('/snapshots/signedUrl', { snapshotId }, referer());
    expect(signed.status).toBe(200);
    expect(signed.body.url).toMatch(new RegExp(`^${origin()}/rtc-api/snapshots/signed/${snapshotId}/\\d+\\?signature=`));
    expect(Date.parse(signed.body.validUntil)).toBeGreaterThan(Date.now());
    const download = await fetch(signed.body.url);
    expect(download.status).toBe(200);
    expect(download.headers.get('content-type')).toBe('image/png');
    expect(download.headers.get('content-length')).toBe(String(image.length));
    expect(download.headers.get('content-disposition')).toBe(`attachment; filename="snapshot-${snapshotId}.png"`);
    expect(Buffer.from(await download.arrayBuffer()).equals(image)).toBe(true);

    // A range: the bytes asked for, 206.
    const part = await fetch(signed.body.url, { headers: { range: 'bytes=8-15' } });
    expect(part.status).toBe(206);
    expect(part.headers.get('content-range')).toBe(`bytes 8-15/${image.length}`);
    expect(Buffer.from(await part.arrayBuffer()).equals(image.subarray(8, 16))).toBe(true);
    const beyond = await fetch(signed.body.url, { headers: { range: `bytes=${image.length + 10}-` } });
    expect(beyond.status).toBe(416);
    expect(beyond.headers.get('content-range')).toBe(`bytes */${image.length}`);
    expect(((await beyond.json()) as { message: string }).message).toMatch(/is not within the file's/);
  });

  it('checks an image by its content: not an image is 400, larger than UPLOAD_MAX_BYTES is 413, and neither keeps a byte or an event', async () => {
    const agent = await user('agent-2', ['AGENT']);
    const customer = await user('customer-2', ['CUSTOMER']);
    const snapshotId = await requested(agent, 'customer-2', customer.ep);
    const before = { blobs: await blobs(), events: await stack.eventCount() };
    const text = await customer.api.upload('/snapshots/acquire', { snapshotId, userEndpointId: customer.ep }, { field: 'image', bytes: Buffer.from('just some text, named like a picture'), filename: 'x.png', type: 'image/png' });
    expect(text.status).toBe(400);
    expect(text.body.message).toMatch(/"image" must be an image/);
    const big = Buffer.concat([pngImage(), Buffer.alloc(150_000, 7)]);
    const tooLarge = await acquire(customer.api, snapshotId, customer.ep, big);
    expect(tooLarge.status).toBe(413);
    expect(tooLarge.body.details).toMatchObject({ limit: 100_000, bound: 'uploadBytes' });
    const noFile = await customer.api.request('POST', '/rtc-api/snapshots/acquire', (() => {
      const f = new FormData();
      f.append('snapshotId', snapshotId);
      f.append('userEndpointId', customer.ep);
      return f;
    })());
    expect(noFile.status).toBe(400);
    expect(noFile.body.message).toMatch(/No file/);
    const json = await customer.api.post('/snapshots/acquire', { snapshotId, userEndpointId: customer.ep });
    expect(json.status).toBe(400);
    expect(json.body.message).toMatch(/multipart\/form-data/);
    expect({ blobs: await blobs(), events: await stack.eventCount() }).toEqual(before);
    expect((await agent.api.get(`/snapshots/${snapshotId}`)).body.state).toBe('REQUESTED');
  });

  it('cuts off an upload slower than UPLOAD_TIMEOUT_MS, keeping nothing of it', async () => {
    const agent = await user('agent-9', ['AGENT']);
    const before = await blobs();
    const boundary = 'slow-boundary';
    let stop!: () => void;
    const stopped = new Promise<void>((resolve) => (stop = resolve));
    const body = new ReadableStream<Uint8Array>({
      async start(controller) {
        controller.enqueue(Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="applicationId"\r\n\r\napp-1\r\n--${boundary}\r\nContent-Disposition: form-data; name="targetId"\r\n\r\ncustomer-9\r\n--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="slow.bin"\r\n\r\n`));
        controller.enqueue(Buffer.alloc(5000, 1)); // past what the type is read from: the store is being written
        await stopped; // and then nothing more
        controller.close();
      },
    });
    const started = Date.now();
    const outcome = await fetch(`${origin()}/rtc-api/filetransfers?targetType=user`, {
      method: 'POST',
      headers: { authorization: `Bearer ${agent.api.token}`, 'content-type': `multipart/form-data; boundary=${boundary}` },
      body,
      duplex: 'half',
    } as RequestInit).then(
      (res) => `status ${res.status}`,
      () => 'connection closed',
    );
    stop();
    expect(outcome).toBe('connection closed');
    expect(Date.now() - started).toBeGreaterThanOrEqual(2900);
    await waitFor(async () => JSON.stringify(await blobs()) === JSON.stringify(before), { description: 'nothing of the upload kept' });
  });

  it('refuses what a state does not allow with 409 naming it, and lets only the requester and the target act', async () => {
    const agent = await user('agent-3', ['AGENT']);
    const customer = await user('customer-3', ['CUSTOMER']);
    const stranger = await user('customer-3b', ['CUSTOMER']);
    const otherAgent = await user('agent-3b', ['AGENT']);
    const snapshotId = await requested(agent, 'customer-3', customer.ep);
    const early = await agent.api.post('/snapshots/approve', { snapshotId, userEndpointId: agent.ep });
    expect(early.status).toBe(409);
    expect(early.body.message).toMatch(/is REQUESTED/);
    // Only the target answers: the requester 403, another agent 403, another customer 404.
    expect((await acquire(agent.api, snapshotId, agent.ep)).status).toBe(403);
    expect((await acquire(otherAgent.api, snapshotId, otherAgent.ep)).status).toBe(403);
    expect((await acquire(stranger.api, snapshotId, stranger.ep)).status).toBe(404);
    expect((await acquire(customer.api, snapshotId, customer.ep)).status).toBe(204);
    const again = await acquire(customer.api, snapshotId, customer.ep);
    expect(again.status).toBe(409);
    expect(again.body.message).toMatch(/is UPLOADED/);
    expect((await otherAgent.api.post('/snapshots/approve', { snapshotId, userEndpointId: otherAgent.ep })).status).toBe(403);
    expect((await stranger.api.post('/snapshots/discard', { snapshotId, userEndpointId: stranger.ep })).status).toBe(404);
    // Staff see it; a customer that is neither side does not.
    expect((await otherAgent.api.get(`/snapshots/${snapshotId}`)).status).toBe(200);
    expect((await stranger.api.get(`/snapshots/${snapshotId}`)).status).toBe(404);
    const imageKey = `org-s/${(await agent.api.get(`/snapshots/${snapshotId}`)).body.path}`;
    expect(await blobs()).toContain(imageKey);
    expect((await customer.api.post('/snapshots/discard', { snapshotId, userEndpointId: customer.ep })).status).toBe(204);
    await agent.socket.next((d) => d.event.type === 'SnapshotDiscardedEvent' && d.event.snapshotId === snapshotId, 0, 'the discard pushed to the requester');
    expect((await customer.api.post('/snapshots/discard', { snapshotId, userEndpointId: customer.ep })).status).toBe(204);
    const approveDiscarded = await agent.api.post('/snapshots/approve', { snapshotId, userEndpointId: agent.ep });
    expect(approveDiscarded.status).toBe(409);
    expect(approveDiscarded.body.message).toMatch(/is DISCARDED/);
    expect((await agent.api.get(`/snapshots/${snapshotId}`)).body).toMatchObject({ state: 'DISCARDED', approved: false, approvalProcessingResult: { succeeded: false }, version: 3 });
    // A discarded snapshot's image is deleted at once, and no longer served.
    expect(await blobs()).not.toContain(imageKey);
    expect((await agent.api.post('/snapshots/signedUrl', { snapshotId }, referer())).status).toBe(404);
  });

  it('sweeps a blob no event names (an upload whose command never came), once old enough, and keeps every blob an event names', async () => {
    const agent = await user('agent-8', ['AGENT']);
    const customer = await user('customer-8', ['CUSTOMER']);
    const snapshotId = await requested(agent, 'customer-8', customer.ep, { interactionId: 'int-8' });
    expect((await acquire(customer.api, snapshotId, customer.ep)).status).toBe(204);
    // What a gateway leaves when it dies between storing a file and sending its command.
    const store = new FileSystemBlobStore(join(stack.dataDir, 'blobs'));
    await store.put('org-s/filetransfers/orphan-of-a-crash', Readable.from([Buffer.from('bytes nobody names')]), { maxBytes: 100 });
    const { BlobSweeper } = await import('../apps/snapshot/src/blob-sweeper');
    const sweeper = stack.services.get('snapshot')!.get(BlobSweeper);
    // Younger than BLOB_SWEEP_AGE_MS (an upload whose command may be on its way): kept.
    expect(await sweeper.sweep()).toEqual([]);
    const named = (await blobs()).filter((k) => k !== 'org-s/filetransfers/orphan-of-a-crash');
    const removed = await sweeper.sweep(0);
    expect(removed).toContain('org-s/filetransfers/orphan-of-a-crash');
    expect(await blobs()).toEqual(named.filter((k) => !removed.includes(k)));
    // The snapshot's image is named by its event: still there, still served.
    const { body } = await agent.api.post('/snapshots/signedUrl', { snapshotId }, referer());
    expect((await fetch(body.url)).status).toBe(200);
  });

  it('sends a camera request to the target endpoint and its answer to the requester, once', async () => {
    const agent = await user('agent-4', ['AGENT']);
    const customer = await user('customer-4', ['CUSTOMER']);
    const wrong = await agent.api.post('/snapshots/cameraRequest', { userEndpointId: agent.ep, targetUserId: 'customer-4', targetUserEndpointId: agent.ep, cameraRequestType: 'CAMERA_SWITCH' });
    expect(wrong.status).toBe(404);
    expect(wrong.body.message).toMatch(/has no registered endpoint/);
    const res = await agent.api.post('/snapshots/cameraRequest', { userEndpointId: agent.ep, targetUserId: 'customer-4', targetUserEndpointId: customer.ep, sessionType: 'CONFERENCE', sessionId: 'c-4', cameraRequestType: 'TORCH_BLINK' });
    expect(res.status).toBe(200);
    expect(typeof res.body).toBe('string');
    const id = res.body as string;
    const asked = await customer.socket.next((d) => d.event.type === 'SnapshotCameraRequestedEvent' && d.event.snapshotCameraRequestId === id, 0, 'the camera request pushed');
    expect(asked.event).toMatchObject({ cameraRequestType: 'TORCH_BLINK', requesterUserId: 'agent-4', sessionType: 'CONFERENCE', sessionId: 'c-4' });
    // A customer may not ask an agent's camera.
    expect((await customer.api.post('/snapshots/cameraRequest', { userEndpointId: customer.ep, targetUserId: 'agent-4', targetUserEndpointId: agent.ep, cameraRequestType: 'FLASH_ON' })).status).toBe(403);
    expect((await agent.api.post('/snapshots/cameraRequestRespond', { snapshotCameraRequestId: id, userEndpointId: agent.ep, succeeded: true })).status).toBe(403);
    expect((await customer.api.post('/snapshots/cameraRequestRespond', { snapshotCameraRequestId: id, userEndpointId: customer.ep, succeeded: false, additionalInformation: 'no second camera' })).status).toBe(204);
    const answered = await agent.socket.next((d) => d.event.type === 'SnapshotCameraRequestRespondedEvent' && d.event.snapshotCameraRequestId === id, 0, 'the answer pushed');
    expect(answered.event).toMatchObject({ succeeded: false, additionalInformation: 'no second camera', userId: 'customer-4' });
    const twice = await customer.api.post('/snapshots/cameraRequestRespond', { snapshotCameraRequestId: id, userEndpointId: customer.ep, succeeded: true });
    expect(twice.status).toBe(409);
    expect(twice.body.message).toMatch(/RESPONDED/);
  });

  it('signs URLs that an expired, tampered or foreign signature, or a page of another origin, cannot use', async () => {
    const agent = await user('agent-5', ['AGENT']);
    const customer = await user('customer-5', ['CUSTOMER']);
    const snapshotId = await requested(agent, 'customer-5', customer.ep);
    expect((await acquire(customer.api, snapshotId, customer.ep)).status).toBe(204);
    const { body } = await agent.api.post('/snapshots/signedUrl', { snapshotId, createInternalSignedUrl: true }, referer());
    const url = new URL(body.url);
    const signature = url.searchParams.get('signature')!;
    expect((await fetch(url)).status).toBe(200);
    const withSignature = (sig: string) => `${url.origin}${url.pathname}?signature=${encodeURIComponent(sig)}`;
    // Tampered: a character of the MAC changed; the organization named changed; another snapshot's path.
    const mac = signature.split('.')[3];
    const flipped = `${signature.slice(0, -mac.length)}${mac[0] === 'A' ? 'B' : 'A'}${mac.slice(1)}`;
    for (const bad of [withSignature(flipped), withSignature(signature.replace('.org-s.', '.org-x.')), withSignature('nonsense'), `${url.origin}${url.pathname.replace(snapshotId, 'other-id')}?signature=${encodeURIComponent(signature)}`]) {
      const res = await fetch(bad);
      expect({ bad, status: res.status, message: ((await res.json()) as { message: string }).message }).toEqual({ bad, status: 403, message: 'This URL is not signed by Parley (or not for this file)' });
    }
    // Expired: genuinely signed (with SIGNED_URL_KEYS, as this gateway is given them), a second in the past.
    const signer = new UrlSigner(parseSigningKeys(TEST_SECRETS.signedUrlKeys));
    const version = signature.split('.')[2];
    const past = Math.floor(Date.now() / 1000) - 1;
    const expired = await fetch(`${origin()}/rtc-api/snapshots/signed/${snapshotId}/${past}?signature=${encodeURIComponent(signer.sign({ kind: 'snapshot', organizationId: 'org-s', id: snapshotId, expiration: past, version }))}`);
    expect(expired.status).toBe(403);
    expect(((await expired.json()) as { message: string }).message).toBe('This signed URL has expired');
    // A file transfer's signature does not open a snapshot of the same id.
    const future = Math.floor(Date.now() / 1000) + 60;
    const otherKind = await fetch(`${origin()}/rtc-api/snapshots/signed/${snapshotId}/${future}?signature=${encodeURIComponent(signer.sign({ kind: 'filetransfer', organizationId: 'org-s', id: snapshotId, expiration: future, version }))}`);
    expect(otherKind.status).toBe(403);
    // The Referer: required, and of the gateway's own origin (SIGNED_URL_ORIGINS unset).
    const noReferer = await agent.api.post('/snapshots/signedUrl', { snapshotId });
    expect(noReferer.status).toBe(400);
    expect(noReferer.body.message).toMatch(/Referer/);
    const elsewhere = await agent.api.post('/snapshots/signedUrl', { snapshotId }, { referer: 'https://evil.example/page' });
    expect(elsewhere.status).toBe(403);
    expect(elsewhere.body.message).toMatch(/not given to pages of https:\/\/evil\.example/);
    // Another organization's caller: 404, as for anything of this one.
    const outsider = await stack.api('agent-5', 'org-other', ['ADMIN']);
    expect((await outsider.post('/snapshots/signedUrl', { snapshotId }, referer())).status).toBe(404);
    expect((await outsider.get(`/snapshots/${snapshotId}`)).status).toBe(404);
    expect((await outsider.get('/snapshots?interactionId=int-1')).body).toEqual([]);
  });

  it('sends a file to every endpoint of a user; a retry with the transaction id answers the same id and keeps one file', async () => {
    const agent = await user('agent-6', ['AGENT']);
    const customer = await user('customer-6', ['CUSTOMER']);
    const second = await EndpointSocket.open(stack.gateway.url, await stack.token('customer-6', 'org-s', ['CUSTOMER']), 'ep-customer-6-b').catch(() => undefined);
    expect(second).toBeUndefined(); // not registered: no socket
    const before = await blobs();
    const bytes = Buffer.from('%PDF-1.4\n% a small pdf\n');
    const send = () =>
      agent.api.upload('/filetransfers?targetType=user', { applicationId: 'app-1', targetId: 'customer-6', conferenceId: 'conf-6', userEndpointId: agent.ep }, { field: 'file', bytes, filename: 'Offer – 2026.pdf', type: 'application/pdf' }, { 'X-Auvious-TransactionId': 'tx-file-1' });
    const first = await send();
    expect(first.status).toBe(200);
    const retry = await send();
    expect(retry).toMatchObject({ status: 200, body: first.body });
    const added = (await blobs()).filter((k) => !before.includes(k));
    expect(added).toHaveLength(1);
    expect(added[0]).toMatch(/^org-s\/filetransfers\//);
    // The same id with another file is another request: 422, and nothing kept.
    const other = await agent.api.upload('/filetransfers?targetType=user', { applicationId: 'app-1', targetId: 'customer-6', conferenceId: 'conf-6', userEndpointId: agent.ep }, { field: 'file', bytes: Buffer.from('another'), filename: 'b.txt' }, { 'X-Auvious-TransactionId': 'tx-file-1' });
    expect(other.status).toBe(422);
    expect((await blobs()).filter((k) => !before.includes(k))).toEqual(added);

    const { fileTransferId } = first.body;
    const pushed = await customer.socket.next((d) => d.event.type === 'FileTransferEvent' && d.event.fileTransferId === fileTransferId, 0, 'the file pushed to the target');
    expect(pushed.event).toMatchObject({ userId: 'agent-6', targetId: 'customer-6', filename: 'Offer – 2026.pdf', mimeType: 'application/pdf', size: bytes.length, conferenceId: 'conf-6' });
    expect(pushed.event.file).toBeUndefined();
    // Both sides list it; another customer does not, even with all=true; staff do with all=true.
    const listed = (api: Api, q: string) => api.get(`/filetransfers${q}`).then((r) => (r.body as { id: string }[]).map((t) => t.id));
    expect(await listed(agent.api, '?conferenceId=conf-6')).toEqual([fileTransferId]);
    expect(await listed(customer.api, '')).toContain(fileTransferId);
    const stranger = await stack.api('customer-6b', 'org-s', ['CUSTOMER']);
    expect(await listed(stranger, '?all=true')).toEqual([]);
    const otherAgent = await stack.api('agent-6b', 'org-s', ['AGENT']);
    expect(await listed(otherAgent, '?conferenceId=conf-6')).toEqual([]);
    expect(await listed(otherAgent, '?conferenceId=conf-6&all=true')).toEqual([fileTransferId]);
    expect((await agent.api.get('/filetransfers?conferenceId=conf-6&interactionId=int-1')).status).toBe(400);
    // The target downloads it under its name.
    const url = await customer.api.post(`/filetransfers/${fileTransferId}/signedUrl`, undefined, referer());
    expect(url.status).toBe(200);
    const download = await fetch(url.body.url);
    expect(download.headers.get('content-disposition')).toBe(`attachment; filename="Offer ? 2026.pdf"; filename*=UTF-8''Offer%20%E2%80%93%202026.pdf`);
    expect(download.headers.get('content-type')).toBe('application/pdf');
    expect(Buffer.from(await download.arrayBuffer()).equals(bytes)).toBe(true);
    expect((await stranger.post(`/filetransfers/${fileTransferId}/signedUrl`, undefined, referer())).status).toBe(404);
    expect((await agent.api.upload('/filetransfers?targetType=group', { applicationId: 'app-1', targetId: 'customer-6' }, { field: 'file', bytes })).status).toBe(400);
  });

  it("keeps an organization's files within QUOTA_ORGANIZATION_STORED_BYTES: past it is 429 with nothing kept, and what is deleted makes room", async () => {
    const admin = await stack.api('admin-q', 'org-q', ['ADMIN']);
    const put = (id: string) => admin.upload(`/assets/${id}`, { applicationId: 'app-q', category: 'doc', rolesAllowedAccess: 'admin' }, { field: 'file', bytes: Buffer.alloc(90_000, id.charCodeAt(id.length - 1)), filename: `${id}.bin` });
    for (const id of ['q1', 'q2', 'q3']) expect((await put(id)).status).toBe(204);
    const before = await blobs();
    const events = await stack.eventCount();
    const over = await put('q4');
    expect({ status: over.status, quota: over.body.details?.quota, limit: over.body.details?.limit }).toEqual({ status: 429, quota: 'organizationStoredBytes', limit: 300_000 });
    expect(over.body.message).toMatch(/keeps 270000 bytes of files, and this one is 90000 more/);
    expect({ blobs: await blobs(), events: await stack.eventCount() }).toEqual({ blobs: before, events });
    // Another organization is not held up.
    expect((await (await stack.api('admin-q2', 'org-q2', ['ADMIN'])).upload('/assets/q1', { applicationId: 'app-q', category: 'doc', rolesAllowedAccess: 'admin' }, { field: 'file', bytes: Buffer.alloc(90_000, 1) })).status).toBe(204);
    expect((await admin.request('DELETE', '/rtc-api/assets/q1')).status).toBe(204);
    expect((await put('q4')).status).toBe(204);
  });

  it('keeps assets for the roles they name: replaced by a new upload (the old URLs do not open it), gone (with their URLs) once deleted', async () => {
    const admin = await stack.api('admin-7', 'org-s', ['ADMIN']);
    const agent = await stack.api('agent-7', 'org-s', ['AGENT']);
    const customer = await stack.api('customer-7', 'org-s', ['CUSTOMER']);
    const logo = pngImage(2, 2, 4);
    const put = (id: string, roles: string, bytes: Uint8Array = logo) => admin.upload(`/assets/${id}`, { applicationId: 'app-7', category: 'logo', rolesAllowedAccess: roles }, { field: 'file', bytes, filename: `${id}.png` });
    expect((await put('logo-a', 'agent,Customer')).status).toBe(204);
    expect((await put('logo-b', 'admin')).status).toBe(204);
    const bad = await put('logo-c', 'agent,wizard');
    expect(bad.status).toBe(400);
    expect(bad.body.message).toMatch(/WIZARD is not one/);
    expect((await agent.upload('/assets/logo-d', { applicationId: 'app-7', category: 'logo', rolesAllowedAccess: 'agent' }, { field: 'file', bytes: logo })).status).toBe(403);
    const ids = async (api: Api) => ((await api.get('/assets?applicationId=app-7')).body as { id: string }[]).map((a) => a.id);
    expect(await ids(admin)).toEqual(['logo-a', 'logo-b']);
    expect(await ids(agent)).toEqual(['logo-a']);
    expect(await ids(customer)).toEqual(['logo-a']);
    expect((await customer.post('/assets/logo-b/signedUrl', undefined, referer())).status).toBe(404);
    const url = await customer.post('/assets/logo-a/signedUrl', undefined, { ...referer(), 'X-Auvious-CreateInternalSignedUrl': 'true' });
    expect(url.status).toBe(200);
    expect(Buffer.from(await (await fetch(url.body.url)).arrayBuffer()).equals(logo)).toBe(true);
    // Replaced: the new file is served; the old one is no one's (the sweeper's).
    const newer = pngImage(3, 3, 8);
    expect((await put('logo-a', 'agent,customer', newer)).status).toBe(204);
    expect(Buffer.from(await (await fetch((await customer.post('/assets/logo-a/signedUrl', undefined, referer())).body.url)).arrayBuffer()).equals(newer)).toBe(true);
    // The earlier file is deleted at once; a URL made for it does not open the new one (it may be meant for other roles).
    expect((await blobs()).filter((k) => k.startsWith('org-s/assets/logo-a/'))).toHaveLength(1);
    const stale = await fetch(url.body.url);
    expect(stale.status).toBe(404);
    expect(((await stale.json()) as { message: string }).message).toMatch(/made for a file asset logo-a no longer has/);
    expect((await admin.get('/assets?applicationId=app-7')).body.find((a: { id: string }) => a.id === 'logo-a')).toMatchObject({ category: 'logo', filename: 'logo-a.png', rolesAllowedAccess: ['AGENT', 'CUSTOMER'], mimeType: 'image/png', size: newer.length, version: 2 });
    // Deleted: its URL stops working at once; deleting again is 204.
    const current = (await customer.post('/assets/logo-a/signedUrl', undefined, referer())).body.url;
    const before = await stack.eventCount();
    expect((await admin.request('DELETE', '/rtc-api/assets/logo-a')).status).toBe(204);
    expect((await fetch(current)).status).toBe(404);
    expect((await blobs()).filter((k) => k.startsWith('org-s/assets/logo-a/'))).toEqual([]);
    expect((await admin.request('DELETE', '/rtc-api/assets/logo-a')).status).toBe(204);
    expect((await admin.request('DELETE', '/rtc-api/assets/never-was')).status).toBe(204);
    expect(await stack.eventCount()).toBe(before + 1);
    expect(await ids(admin)).toEqual(['logo-b']);
    expect((await agent.request('DELETE', '/rtc-api/assets/logo-b')).status).toBe(403);
  });
});

describe('files in an S3 bucket (s3rver, a test server)', () => {
  let s3: S3ServerHandle;
  let stack: Stack;

  beforeAll(async () => {
    s3 = await startS3Server();
    const env = { BLOB_STORE: 's3', S3_ENDPOINT: s3.endpoint, S3_BUCKET: s3.bucket, S3_ACCESS_KEY_ID: s3.accessKeyId, S3_SECRET_ACCESS_KEY: s3.secretAccessKey, S3_FORCE_PATH_STYLE: 'true' };
    stack = await Stack.start({
      presence: {},
      snapshot: { env },
      gateway: { blobStore: 's3', s3Endpoint: s3.endpoint, s3Bucket: s3.bucket, s3AccessKeyId: s3.accessKeyId, s3SecretAccessKey: s3.secretAccessKey, s3ForcePathStyle: 'true' },
    });
  }, 60_000);
  afterAll(async () => {
    await stack?.stop();
    await s3?.stop();
  });

  it("stores a transferred file in the bucket and hands out the S3 service's presigned URL, or Parley's own when asked", async () => {
    const agent = await stack.api('agent-s3', 'org-s3', ['AGENT']);
    const bytes = Buffer.from('%PDF-1.4\nbucket contents\n');
    const sent = await agent.upload('/filetransfers?targetType=user', { applicationId: 'app-1', targetId: 'cust-s3' }, { field: 'file', bytes, filename: 'in-the-bucket.pdf' });
    expect(sent.status).toBe(200);
    const store = new S3BlobStore({ endpoint: s3.endpoint, region: 'us-east-1', bucket: s3.bucket, accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey, forcePathStyle: true });
    const keys: string[] = [];
    for await (const b of store.list('org-s3/filetransfers')) keys.push(b.key);
    store.close();
    expect(keys).toHaveLength(1);
    const referer = { referer: `${stack.gateway.url}/` };
    const presigned = await agent.post(`/filetransfers/${sent.body.fileTransferId}/signedUrl`, undefined, referer);
    expect(presigned.status).toBe(200);
    expect(presigned.body.url.startsWith(`${s3.endpoint}/${s3.bucket}/org-s3/filetransfers/`)).toBe(true);
    expect(presigned.body.url).toMatch(/X-Amz-Expires=3600&/);
    const fromS3 = await fetch(presigned.body.url);
    expect(fromS3.headers.get('content-type')).toBe('application/pdf');
    expect(fromS3.headers.get('content-disposition')).toBe('attachment; filename="in-the-bucket.pdf"');
    expect(Buffer.from(await fromS3.arrayBuffer()).equals(bytes)).toBe(true);
    const own = await agent.post(`/filetransfers/${sent.body.fileTransferId}/signedUrl`, undefined, { ...referer, 'X-Auvious-CreateInternalSignedUrl': 'true' });
    expect(own.body.url.startsWith(`${stack.gateway.url}/rtc-api/filetransfers/signed/${sent.body.fileTransferId}/`)).toBe(true);
    const fromParley = await fetch(own.body.url, { headers: { range: 'bytes=0-7' } });
    expect(fromParley.status).toBe(206);
    expect(await fromParley.text()).toBe('%PDF-1.4');
  });
});
