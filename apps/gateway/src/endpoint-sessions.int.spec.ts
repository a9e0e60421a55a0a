import { type NatsConnection, connect } from 'nats';
import { DELIVERY_STREAM, type EndpointDelivery, endpointDeliverySubject, endpointQueuedSubject } from '@parley/contracts';
import { NATS_PERMISSIONS, deliverToEndpoints, natsConnectOptions, provisionStreams, renderNatsAuthorization } from '@parley/messaging';
import { type NatsServerHandle, startNats, waitFor } from '@parley/testing';
import { EndpointSession } from './endpoint-sessions';

/**
 * Delivery to endpoints on real NATS with the deployment's users and permissions: the presence
 * service's connection sends (deliverToEndpoints), the gateway's holds the endpoint sessions.
 */
describe('endpoint delivery: deliverToEndpoints and the gateway sessions', () => {
  const org = 'org-1';
  const password = (user: string) => `password-of-${user}-for-this-test-only`;
  let nats: NatsServerHandle;
  let operator: NatsConnection;
  let presence: NatsConnection;
  let gateway: NatsConnection;
  const open: EndpointSession[] = [];

  const as = (user: string) => connect(natsConnectOptions({ natsUrl: nats.url, natsUser: user, natsPassword: password(user) }, `test-${user}`));

  beforeAll(async () => {
    const config = renderNatsAuthorization((user) => JSON.stringify(password(user)));
    expect(Object.keys(NATS_PERMISSIONS)).toEqual(expect.arrayContaining(['operator', 'gateway', 'presence']));
    nats = await startNats({ authorization: { config, user: 'operator', pass: password('operator') } });
    operator = await as('operator');
    await provisionStreams(await operator.jetstreamManager(), { replicas: 1 });
    presence = await as('presence');
    gateway = await as('gateway');
  });
  afterAll(async () => {
    for (const s of open) s.close();
    await Promise.all([presence?.close(), gateway?.close(), operator?.close()]);
    await nats?.stop();
  });

  /** A session of the endpoint on the gateway's connection (or another gateway's), and what it pushed. */
  const session = async (userEndpointId: string, on: NatsConnection = gateway, organizationId = org) => {
    const pushed: EndpointDelivery[] = [];
    const s = new EndpointSession(on, organizationId, userEndpointId, { push: (d) => pushed.push(d), ended: () => undefined });
    open.push(s);
    await s.open();
    return { s, pushed, ids: () => pushed.map((d) => d.id) };
  };
  const send = (userEndpointIds: string[], delivery: EndpointDelivery) =>
    deliverToEndpoints(presence, userEndpointIds.map((userEndpointId) => ({ organizationId: org, userEndpointId })), delivery);
  const note = (id: string, qos: 0 | 1 = 0, extra: Partial<EndpointDelivery> = {}): EndpointDelivery => ({ id, qos, event: { type: 'NoteAddedEvent', timestamp: new Date().toISOString() }, ...extra });
  /** Whether the endpoint's queue holds anything (a work queue: what was acknowledged is gone). */
  const queued = async (userEndpointId: string) => {
    const jsm = await operator.jetstreamManager();
    return jsm.streams.getMessage(DELIVERY_STREAM, { last_by_subj: endpointQueuedSubject(org, userEndpointId) }).then(
      () => true,
      () => false,
    );
  };

  it('qos 0 to an endpoint with no session is queued; its next session gets it once, and acknowledges it to JetStream at once', async () => {
    expect(await send(['ep-later'], note('d-1'))).toEqual({ live: 0, queued: 1, unconfirmed: 0 });
    expect(await queued('ep-later')).toBe(true);
    const first = await session('ep-later');
    await waitFor(() => first.pushed.length === 1, { description: 'the queued delivery' });
    expect(first.pushed[0]).toMatchObject({ id: 'd-1', qos: 0 });
    expect(first.s.pendingAcks).toBe(0); // the client does not acknowledge qos 0
    await waitFor(async () => !(await queued('ep-later')), { description: 'the queue emptied' });
    first.s.close();

    const second = await session('ep-later');
    // Sent while the session is open: pushed, not queued.
    expect(await send(['ep-later'], note('marker'))).toEqual({ live: 1, queued: 0, unconfirmed: 0 });
    // The sender's flush says the server routed it; the gateway's connection hands it on when it reads it.
    await waitFor(() => second.pushed.length > 0, { description: 'the live delivery' });
    expect(second.ids()).toEqual(['marker']);
    expect(await queued('ep-later')).toBe(false);
    second.s.close();
  });

  it('one call to several endpoints: those with a session get it now, the others when they connect', async () => {
    const here = await session('ep-here');
    expect(await send(['ep-here', 'ep-away-1', 'ep-away-2'], note('d-2'))).toEqual({ live: 1, queued: 2, unconfirmed: 0 });
    await waitFor(() => here.pushed.length > 0, { description: 'the live delivery' });
    expect(here.ids()).toEqual(['d-2']);
    for (const ep of ['ep-away-1', 'ep-away-2']) {
      const later = await session(ep);
      await waitFor(() => later.pushed.length === 1, { description: `${ep}'s queued delivery` });
      expect(later.ids()).toEqual(['d-2']);
      later.s.close();
    }
    here.s.close();
  });

  it('a retried send (the same delivery id) is queued once', async () => {
    await send(['ep-retry'], note('d-3'));
    await send(['ep-retry'], note('d-3'));
    const subject = endpointQueuedSubject(org, 'ep-retry');
    const info = await (await operator.jetstreamManager()).streams.info(DELIVERY_STREAM, { subjects_filter: subject });
    expect(info.state.subjects).toEqual({ [subject]: 1 });
  });

  it('a queued qos 1 delivery waits for the client to acknowledge it; a queued qos 0 one does not', async () => {
    await send(['ep-mixed'], note('q1', 1));
    await send(['ep-mixed'], note('q0', 0));
    const s = await session('ep-mixed');
    await waitFor(() => s.pushed.length === 2, { description: 'both queued deliveries' });
    expect(s.ids()).toEqual(['q1', 'q0']);
    expect(s.s.pendingAcks).toBe(1);
    const subject = endpointQueuedSubject(org, 'ep-mixed');
    const jsm = await operator.jetstreamManager();
    await waitFor(async () => (await jsm.streams.info(DELIVERY_STREAM, { subjects_filter: subject })).state.subjects?.[subject] === 1, { description: 'only the qos 1 delivery left in the queue' });
    s.s.ack(['q1']);
    expect(s.s.pendingAcks).toBe(0);
    await waitFor(async () => !(await queued('ep-mixed')), { description: 'the queue emptied' });
    s.s.close();
  });

  it('a queued delivery whose expiresAt has passed is acknowledged and dropped, not pushed (qos 0 and qos 1)', async () => {
    const past = new Date(Date.now() - 1000).toISOString();
    const future = new Date(Date.now() + 60_000).toISOString();
    await send(['ep-stale'], note('stale-0', 0, { expiresAt: past }));
    await send(['ep-stale'], note('stale-1', 1, { expiresAt: past }));
    await send(['ep-stale'], note('fresh', 0, { expiresAt: future }));
    await send(['ep-stale'], note('plain', 0));
    const s = await session('ep-stale');
    await waitFor(() => s.ids().includes('plain'), { description: 'the last queued delivery' });
    expect(s.ids()).toEqual(['fresh', 'plain']);
    expect(s.pushed[0].expiresAt).toBe(future);
    expect(s.s.pendingAcks).toBe(0);
    await waitFor(async () => !(await queued('ep-stale')), { description: 'the expired deliveries gone from the queue' });
    s.s.close();
  });

  it('a subscribed session counts as reached, even when its gateway is stuck: nothing is queued for it', async () => {
    // A subscription that never hands its messages on stands for a session whose gateway's event loop is stuck.
    const stalled = gateway.subscribe(endpointDeliverySubject(org, 'ep-stalled'));
    await gateway.flush();
    expect(await send(['ep-stalled', 'ep-nobody'], note('d-4'))).toEqual({ live: 1, queued: 1, unconfirmed: 0 });
    expect(await queued('ep-stalled')).toBe(false);
    expect(await queued('ep-nobody')).toBe(true);
    stalled.unsubscribe();
  });

  it('live only: one message per organization reaches every gateway holding its sessions, each pushing to its own targets; nothing is queued', async () => {
    const secondGateway = await as('gateway');
    try {
      const a = await session('ep-live-a');
      const b = await session('ep-live-b', secondGateway);
      const notTargeted = await session('ep-live-c');
      const otherOrg = await session('ep-live-a', gateway, 'org-2');
      const closed = await session('ep-live-closed', secondGateway);
      closed.s.close();
      const messages: string[] = [];
      // Every delivery subject: per endpoint (parley.deliver.>), queued (parley.deliverq.>), per organization (parley.deliverg.>).
      const watch = operator.subscribe('parley.*.>', { callback: (_e, m) => m.subject.startsWith('parley.deliver') && messages.push(m.subject) });
      await operator.flush();

      const targets = ['ep-live-a', 'ep-live-b', 'ep-live-closed', 'ep-live-absent'];
      expect(await deliverToEndpoints(presence, targets.map((userEndpointId) => ({ organizationId: org, userEndpointId })), note('live-1'), { liveOnly: true })).toEqual({ live: 4, queued: 0, unconfirmed: 0 });
      await waitFor(() => a.pushed.length === 1 && b.pushed.length === 1, { description: 'both gateways pushed it' });
      await presence.flush();
      await operator.flush();
      expect(messages).toEqual([`parley.deliverg.${org}`]);
      expect([a.ids(), b.ids(), notTargeted.ids(), otherOrg.ids(), closed.ids()]).toEqual([['live-1'], ['live-1'], [], [], []]);
      for (const ep of targets) expect(await queued(ep)).toBe(false);

      // The last session of an organization on a gateway gone, that gateway no longer receives its group messages.
      b.s.close();
      await secondGateway.flush();
      await deliverToEndpoints(presence, [{ organizationId: org, userEndpointId: 'ep-live-a' }], note('live-2'), { liveOnly: true });
      await waitFor(() => a.pushed.length === 2, { description: 'the second delivery' });
      expect(b.ids()).toEqual(['live-1']);
      const subjects = (secondGateway as unknown as { protocol: { subscriptions: { all(): Array<{ subject: string }> } } }).protocol.subscriptions.all().map((x) => x.subject);
      expect(subjects.filter((x) => x.startsWith('parley.'))).toEqual([]);
      watch.unsubscribe();
      for (const x of [a, notTargeted, otherOrg]) x.s.close();
    } finally {
      await secondGateway.close();
    }
  });
});
