import type { Browser, Page } from 'playwright-core';
import { waitFor } from '@parley/testing';
import { launchChromium, inboundStats } from './support/browser';
import { authConfigFromEnv } from '@parley/auth';
import { type RunningGateway, startGateway } from '../apps/gateway/src';
import { Stack, testGatewayConfig } from './support/stack';

/**
 * Two Chromium pages as two users in one ROUTER conference, through the whole stack: the
 * gateway, the conference service, the media service's mediasoup SFU. Page A publishes its
 * (fake) camera and microphone; page B views them.
 */
describe('a browser call through the SFU', () => {
  let stack: Stack;
  let browser: Browser;

  beforeAll(async () => {
    stack = await Stack.start({ media: {}, presence: {} });
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    await stack?.stop();
  });

  async function openPage(userId: string, roles: string[]): Promise<Page> {
    const page = await (await browser.newContext()).newPage();
    page.on('pageerror', (e) => console.warn(`[${userId}] ${e.message}`));
    await page.goto(stack.gateway.url);
    await page.evaluate((token) => {
      const g = globalThis as any;
      g.testToken = token;
      // POST to the API as this page's user; 204 answers null.
      g.call = (path: string, body: unknown) =>
        fetch(`/rtc-api${path}`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify(body) }).then((r: any): Promise<any> | null => (r.status === 204 ? null : r.json()));
    }, await stack.token(userId, 'org-a', roles));
    return page;
  }

  /** The page joins from `userEndpointId` and publishes its camera and microphone; answers the stream id. */
  function joinAndPublish(page: Page, conferenceId: string, userEndpointId: string): Promise<string> {
    return page.evaluate(
      async ({ conferenceId, userEndpointId }) => {
        const g = globalThis as any;
        await g.call('/conferences/join', { conferenceId, userEndpointId });
        const stream = await g.navigator.mediaDevices.getUserMedia({ audio: true, video: true });
        const pc = new g.RTCPeerConnection();
        for (const track of stream.getTracks()) pc.addTransceiver(track, { direction: 'sendonly', streams: [stream] });
        await pc.setLocalDescription(await pc.createOffer());
        const res = await g.call('/conferences/publishStream', { conferenceId, userEndpointId, conferenceStreamType: 'MIC_AND_CAM', sdpOffer: pc.localDescription.sdp });
        await pc.setRemoteDescription({ type: 'answer', sdp: res.sdpAnswer });
        g.publisherPc = pc;
        return res.streamId as string;
      },
      { conferenceId, userEndpointId },
    );
  }

  /** Two seconds apart, the viewer's inbound video bytes and decoded frames and its audio bytes have all grown. */
  async function expectMediaFlowing(viewer: Page) {
    await waitFor(async () => (await inboundStats(viewer)).framesDecoded > 0, { timeoutMs: 20_000, description: 'decoded video frames at the viewer' });
    const first = await inboundStats(viewer);
    await new Promise((r) => setTimeout(r, 2000));
    const later = await inboundStats(viewer);
    expect(later.videoBytes).toBeGreaterThan(first.videoBytes);
    expect(later.framesDecoded).toBeGreaterThan(first.framesDecoded);
    expect(later.audioBytes).toBeGreaterThan(first.audioBytes);
  }

  it('through API calls: A publishes, B views and receives video and audio; A unpublishes and B is told', async () => {
    const agent = await stack.api('agent-1', 'org-a', ['AGENT']);
    const { body: conf } = await agent.post('/conferences/create', {});
    const a = await openPage('agent-1', ['AGENT']);
    const b = await openPage('cust-1', ['CUSTOMER']);

    const published = await joinAndPublish(a, conf.id, 'ep-a');

    await b.evaluate(
      async ({ conferenceId, streamId }) => {
        const g = globalThis as any;
        // A customer joins with an endpoint it registered.
        await g.call('/users/endpoints/register', { userEndpointId: 'ep-b', keepAliveSeconds: 600 });
        await g.call('/conferences/join', { conferenceId, userEndpointId: 'ep-b' });
        const pc = new g.RTCPeerConnection();
        pc.addTransceiver('audio', { direction: 'recvonly' });
        pc.addTransceiver('video', { direction: 'recvonly' });
        await pc.setLocalDescription(await pc.createOffer());
        const res = await g.call('/conferences/viewStream', { conferenceId, userEndpointId: 'ep-b', streamId, sdpOffer: pc.localDescription.sdp });
        await pc.setRemoteDescription({ type: 'answer', sdp: res.sdpAnswer });
        g.viewerPc = pc;
      },
      { conferenceId: conf.id, streamId: published },
    );
    await expectMediaFlowing(b);

    // B follows the feed; A unpublishes; B sees ConferenceStreamUnpublishedEvent for the stream.
    const version = (await agent.get(`/conferences/${conf.id}`)).body.version;
    const told = b.evaluate(
      async ({ conferenceId, v }) => {
        const g = globalThis as any;
        for (let seen = v; ; ) {
          const events = await fetch(`/rtc-api/conferences/${conferenceId}/events?v=${seen}`, { headers: { authorization: `Bearer ${g.testToken}` } }).then((r: any): Promise<any[]> => r.json());
          for (const e of events) {
            seen = e.conferenceVersion;
            if (e.type === 'ConferenceStreamUnpublishedEvent') return e.streamId as string;
          }
        }
      },
      { conferenceId: conf.id, v: version },
    );
    await a.evaluate(async ({ conferenceId, streamId }) => {
      const g = globalThis as any;
      await g.call('/conferences/unpublishStream', { conferenceId, userEndpointId: 'ep-a', streamId });
    }, { conferenceId: conf.id, streamId: published });
    expect(await told).toBe(published);
  });

  it("through the demo page's own buttons: A creates and publishes, B joins and sees A's video, then loses it when A stops", async () => {
    const a = await openPage('agent-2', ['AGENT']);
    const b = await openPage('cust-2', ['CUSTOMER']);
    for (const page of [a, b]) {
      await page.fill('#token', await page.evaluate(() => (globalThis as any).testToken));
      await page.click('#signin-button');
      await page.waitForSelector('#call:not([hidden])');
    }
    await a.click('#create-button');
    await a.waitForFunction(() => (globalThis as any).parley.joined);
    const conferenceId = await a.inputValue('#conference-id');
    expect(conferenceId).toMatch(/^[A-Za-z0-9_-]{22}$/);
    await a.click('#publish-button');
    await a.waitForSelector('#unpublish-button:not([disabled])');

    await b.fill('#conference-id', conferenceId);
    await b.click('#join-button');
    const tile = b.locator('#videos figure[data-stream-id]');
    await tile.waitFor({ timeout: 20_000 });
    await b.waitForFunction(() => {
      const g = globalThis as any;
      const view = [...g.parley.views.values()][0];
      if (view?.viewerId) g.viewerPc = view.pc;
      return !!g.viewerPc;
    });
    await expectMediaFlowing(b);

    await a.click('#unpublish-button');
    await tile.waitFor({ state: 'detached', timeout: 10_000 });
    expect(await b.locator('#log').innerText()).toMatch(/ConferenceStreamUnpublishedEvent/);
  });

  it('after the conference ends, the worker holds no router, transport, producer or consumer for it', async () => {
    const agent = await stack.api('agent-3', 'org-a', ['AGENT']);
    const { body: conf } = await agent.post('/conferences/create', {});
    const a = await openPage('agent-3', ['AGENT']);
    await joinAndPublish(a, conf.id, 'ep-a3');
    const sfu = stack.sfu;
    const room = `org-a/${conf.id}`; // the SFU's name of the conference (organization/conference)
    expect(sfu.hasRouter(room)).toBe(true);
    const worker = sfu.workerList[0];
    const routerIds = async () => (await worker.dump()).routerIds;
    const before = await routerIds();

    expect((await agent.post('/conferences/end', { conferenceId: conf.id, userEndpointId: 'ep-a3' })).status).toBe(204);
    // The media service closes the router when the conference's ConferenceEndedEvent arrives.
    await waitFor(async () => !sfu.hasRouter(room) && (await routerIds()).length === before.length - 1, { description: "the conference's router closed" });
    const usage = await worker.getResourceUsage();
    expect(usage.ru_maxrss).toBeGreaterThan(0);
  });

  describe('signing in on the demo page', () => {
    let dev: RunningGateway;
    beforeAll(async () => {
      // A second gateway on the same services, in development mode with no JWT_SECRET: the public development secret.
      dev = await startGateway(testGatewayConfig(stack.nats.url), authConfigFromEnv({}));
    });
    afterAll(() => dev?.close());

    it('with the development secret: a form names the user, organization and role, and the page is signed in without a terminal', async () => {
      const page = await (await browser.newContext()).newPage();
      await page.goto(dev.url);
      await page.waitForSelector('#dev-signin:not([hidden])');
      expect(await page.isHidden('#token-label')).toBe(true);
      await page.fill('#dev-user', 'agent-5');
      await page.fill('#dev-org', 'org-z');
      await page.selectOption('#dev-role', 'AGENT');
      await page.click('#signin-button');
      await page.waitForSelector('#call:not([hidden])');
      expect(await page.locator('#me').innerText()).toMatch(/^agent-5 \(org-z\)/);
      // The token endpoint behind it: a bad role is 400 with a message, and nothing is signed.
      const bad = await fetch(`${dev.url}/demo/token`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ userId: 'u', organizationId: 'o', roles: ['ROOT'] }) });
      expect(bad.status).toBe(400);
      expect(await bad.json()).toMatchObject({ message: expect.stringMatching(/each role must be one of: AGENT, CUSTOMER, SERVICE, ADMIN/) });
    });

    it('with a real secret: the page asks for a token, and there is no token endpoint', async () => {
      const page = await (await browser.newContext()).newPage();
      await page.goto(stack.gateway.url);
      expect(await (await fetch(`${stack.gateway.url}/demo.json`)).json()).toEqual({ devSignIn: false });
      expect(await page.isHidden('#dev-signin')).toBe(true);
      expect(await page.isVisible('#token')).toBe(true);
      const res = await fetch(`${stack.gateway.url}/demo/token`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ userId: 'u', organizationId: 'o', roles: ['ADMIN'] }) });
      expect(res.status).toBe(404);
    });
  });
});
