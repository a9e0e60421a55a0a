import type { Browser, Page } from 'playwright-core';
import { launchChromium } from './support/browser';
import { type Api, Stack } from './support/stack';

/**
 * What an agent does in a call, through the demo page's own buttons in Chromium, on the whole
 * stack (gateway, conference, media, presence, snapshot services): an agent's page and a
 * customer's page in one conference, both publishing their (fake) cameras. The agent's Snapshot
 * button gets a frame of the customer's camera, which the customer's page sends by itself; the
 * agent approves or discards it. The agent's Send file reaches the customer's page as a link.
 */
describe("the demo page's snapshots and file transfers", () => {
  let stack: Stack;
  let browser: Browser;
  let agent: Page;
  let customer: Page;
  /** The API as the agent, to check what the buttons did. */
  let agentApi: Api;

  const TIMEOUT = { timeout: 20_000 };

  beforeAll(async () => {
    stack = await Stack.start({ media: {}, presence: {}, snapshot: {} });
    browser = await launchChromium();
    agentApi = await stack.api('agent-7', 'org-a', ['AGENT']);
    agent = await signedInPage('agent-7', ['AGENT']);
    customer = await signedInPage('cust-7', ['CUSTOMER']);

    await agent.click('#create-button');
    await agent.waitForFunction(() => (globalThis as any).parley.joined, undefined, TIMEOUT);
    await publish(agent);
    await customer.fill('#conference-id', await agent.inputValue('#conference-id'));
    await customer.click('#join-button');
    await customer.waitForFunction(() => (globalThis as any).parley.joined, undefined, TIMEOUT);
    // The customer's page answers a snapshot request with a frame of the camera it publishes.
    await publish(customer);
  });
  afterAll(async () => {
    await browser?.close();
    await stack?.stop();
  });

  /** A page signed in through its own form with a token of `userId`: its endpoint registered and its push channel open. */
  async function signedInPage(userId: string, roles: string[]): Promise<Page> {
    const page = await (await browser.newContext()).newPage();
    page.on('pageerror', (e) => console.warn(`[${userId}] ${e.message}`));
    await page.goto(stack.gateway.url);
    await page.fill('#token', await stack.token(userId, 'org-a', roles));
    await page.click('#signin-button');
    await page.waitForSelector('#share:not([hidden])', TIMEOUT);
    expect(await page.evaluate(() => (globalThis as any).parley.channelOpen)).toBe(true);
    return page;
  }

  async function publish(page: Page): Promise<void> {
    await page.click('#publish-button');
    await page.waitForSelector('#unpublish-button:not([disabled])', TIMEOUT);
  }

  /** Clicks the agent's Snapshot button; answers the id of the snapshot it asked for (its new figure's). */
  async function clickSnapshot(): Promise<string> {
    const known = await agent.$$eval('#snapshots figure', (figures) => figures.map((f: any) => f.dataset.snapshotId as string));
    await agent.click('#snapshot-button');
    const created = await agent.waitForFunction(
      (known) => [...(globalThis as any).document.querySelectorAll('#snapshots figure')].map((f: any) => f.dataset.snapshotId as string).find((id) => !known.includes(id)),
      known,
      TIMEOUT,
    );
    return (await created.jsonValue()) as string;
  }

  /** The snapshot's figure on the agent's page, once its image has loaded: the image's URL. */
  async function shownImage(snapshotId: string): Promise<string> {
    const img = agent.locator(`#snapshots figure[data-snapshot-id="${snapshotId}"][data-state="UPLOADED"] img`);
    await img.waitFor({ state: 'visible', ...TIMEOUT });
    await agent.waitForFunction((el: any) => el.complete && el.naturalWidth > 0, await img.elementHandle(), TIMEOUT);
    return (await img.getAttribute('src'))!;
  }

  const snapshotState = async (snapshotId: string): Promise<string> => (await agentApi.get(`/snapshots/${snapshotId}`)).body.state;

  it("the agent's Snapshot button gets a JPEG of the customer's camera, sent by the customer's page by itself, and Approve keeps it", async () => {
    const snapshotId = await clickSnapshot();
    // Nothing was done on the customer's page: it heard the request on its channel and answered.
    await customer.locator('#log li', { hasText: `sent a frame for snapshot ${snapshotId}` }).waitFor({ state: 'attached', ...TIMEOUT });
    const src = await shownImage(snapshotId);
    expect(src.startsWith(`${stack.gateway.url}/rtc-api/snapshots/signed/${snapshotId}/`)).toBe(true);
    const asked = (await agentApi.get(`/snapshots/${snapshotId}`)).body;
    expect(asked).toMatchObject({ state: 'UPLOADED', requesterUserId: 'agent-7', userId: 'cust-7', sessionType: 'CONFERENCE', sessionId: await agent.inputValue('#conference-id'), mimeType: 'image/jpeg' });

    const download = await fetch(src);
    expect(download.status).toBe(200);
    expect(download.headers.get('content-type')).toBe('image/jpeg');
    const bytes = Buffer.from(await download.arrayBuffer());
    expect([...bytes.subarray(0, 3)]).toEqual([0xff, 0xd8, 0xff]);

    const figure = agent.locator(`#snapshots figure[data-snapshot-id="${snapshotId}"]`);
    await figure.getByRole('button', { name: 'Approve' }).click();
    await agent.locator(`#snapshots figure[data-snapshot-id="${snapshotId}"][data-state="APPROVED"]`).waitFor(TIMEOUT);
    expect(await snapshotState(snapshotId)).toBe('APPROVED');
    expect((await agentApi.get(`/snapshots/${snapshotId}`)).body.approved).toBe(true);
    expect(await figure.getByRole('button', { name: 'Approve' }).isDisabled()).toBe(true);
    expect(await figure.getByRole('button', { name: 'Discard' }).isDisabled()).toBe(true);
    // The customer's page hears of the approval too.
    await customer.locator('#log li', { hasText: `pushed SnapshotApprovedEvent (${snapshotId})` }).waitFor({ state: 'attached', ...TIMEOUT });
  });

  it('Discard on a second snapshot: the snapshot is DISCARDED, its image gone from the page and from its URL', async () => {
    const snapshotId = await clickSnapshot();
    const src = await shownImage(snapshotId);
    const figure = agent.locator(`#snapshots figure[data-snapshot-id="${snapshotId}"]`);
    await figure.getByRole('button', { name: 'Discard' }).click();
    await agent.locator(`#snapshots figure[data-snapshot-id="${snapshotId}"][data-state="DISCARDED"]`).waitFor(TIMEOUT);
    expect(await snapshotState(snapshotId)).toBe('DISCARDED');
    expect(await figure.locator('img').isHidden()).toBe(true);
    expect((await fetch(src)).status).toBe(404);
    await customer.locator('#log li', { hasText: `pushed SnapshotDiscardedEvent (${snapshotId})` }).waitFor({ state: 'attached', ...TIMEOUT });
  });

  it("Send file: the file reaches the customer's page as a link that downloads the same bytes", async () => {
    const content = 'hello from the agent';
    await agent.setInputFiles('#file-input', { name: 'notes.txt', mimeType: 'text/plain', buffer: Buffer.from(content) });
    await agent.click('#send-file-button');
    const link = customer.locator('#files a', { hasText: 'notes.txt' });
    await link.waitFor(TIMEOUT);
    expect(await customer.locator('#files li', { hasText: 'notes.txt' }).innerText()).toMatch(/from agent-7, 20 bytes/);
    const href = (await link.getAttribute('href'))!;
    expect(href.startsWith(`${stack.gateway.url}/rtc-api/filetransfers/signed/`)).toBe(true);
    const download = await fetch(href);
    expect(download.status).toBe(200);
    expect(download.headers.get('content-disposition')).toMatch(/^attachment; filename="notes\.txt"/);
    expect(await download.text()).toBe(content);
    // The agent's input is cleared for the next file.
    expect(await agent.evaluate(() => (globalThis as any).document.querySelector('#file-input').files.length)).toBe(0);
  });

  it("a customer's page has no Snapshot button (only staff may ask for one)", async () => {
    expect(await customer.isHidden('#snapshot-button')).toBe(true);
    expect(await agent.isVisible('#snapshot-button')).toBe(true);
  });
});
