import { Parser } from '@asyncapi/parser';
import Ajv from 'ajv';
import type { NatsConnection } from 'nats';
import { ASSET_EVENT_TYPES, CAMERA_REQUEST_EVENT_TYPES, FILE_TRANSFER_EVENT_TYPES, PUBLISHED_EVENTS, type PublishedEvent, SNAPSHOT_EVENT_TYPES } from '@parley/contracts';
import { waitFor } from '@parley/testing';
import { snapshotServiceFlows } from './support/images';
import { Stack } from './support/stack';

/** The snapshot service's events, each of which the run below publishes. */
const SNAPSHOT_SERVICE_EVENTS = [...SNAPSHOT_EVENT_TYPES, ...CAMERA_REQUEST_EVENT_TYPES, ...FILE_TRANSFER_EVENT_TYPES, ...ASSET_EVENT_TYPES];

/**
 * The events Parley publishes are a contract: the AsyncAPI document served beside the OpenAPI
 * one is valid AsyncAPI 3, names every event type at its version, and every event a real run
 * publishes on JetStream matches the document's schema for its type; the feed's items carry the
 * declared fields only.
 */
describe('the published events (AsyncAPI)', () => {
  let stack: Stack;
  let nc: NatsConnection;
  let doc: any;
  const seen: Array<{ subject: string; body: any }> = [];

  beforeAll(async () => {
    stack = await Stack.start({ presence: {}, interaction: {}, snapshot: {} });
    nc = await stack.connectNats();
    nc.subscribe('parley.evt.>', { callback: (_e, m) => seen.push({ subject: m.subject, body: m.json() }) });
    await nc.flush();
    doc = (await stack.anonymous().request('GET', '/rtc-api/docs/asyncapi.json')).body;
  });
  afterAll(async () => {
    await nc?.close();
    await stack?.stop();
  });

  it('is a valid AsyncAPI 3 document listing every event type with its version', async () => {
    const { document, diagnostics } = await new Parser().parse(doc);
    expect(diagnostics.filter((d) => d.severity === 0).map((d) => `${d.path.join('.')}: ${d.message}`)).toEqual([]);
    expect(document).toBeDefined();
    const messages = document!.allMessages().all().map((m) => m.name());
    for (const [type, e] of Object.entries(PUBLISHED_EVENTS) as Array<[string, PublishedEvent]>) {
      expect(messages).toContain(type);
      expect(document!.allMessages().all().find((m) => m.name() === type)!.title()).toBe(`${type} v${e.version}`);
    }
    expect(document!.channels().all().map((c) => c.address())).toEqual(
      expect.arrayContaining(['parley.evt.conference.{organizationId}.{conferenceId}.{eventType}', 'parley.deliver.{organizationId}.{userEndpointId}', 'parley.dlq.{consumer}']),
    );
  });

  it('describes what a run really publishes, and the feed carries the declared fields only', async () => {
    const agent = await stack.api('agent-1', 'org-a', ['AGENT']);
    const customer = await stack.api('cust-1', 'org-a', ['CUSTOMER']);
    await customer.post('/users/endpoints/register', { userEndpointId: 'ep-c', keepAliveSeconds: 60 });
    await agent.post('/users/endpoints/register', { userEndpointId: 'ep-a', keepAliveSeconds: 60, serverKeepAliveReminderOn: true });
    expect((await customer.post('/users/endpoints/keepalive', { userEndpointId: 'ep-c' })).status).toBe(204);
    await snapshotServiceFlows(agent, customer, { agent: 'agent-1', customer: 'cust-1', agentEp: 'ep-a', customerEp: 'ep-c' }, await stack.api('admin-1', 'org-a', ['ADMIN']));
    const id = (await agent.post('/conferences/create', { metadata: { topic: 'billing' }, interactionId: 'int-1' })).body.id;
    await agent.post('/conferences/join', { conferenceId: id, userEndpointId: 'ep-a' });
    await customer.post('/conferences/join', { conferenceId: id, userEndpointId: 'ep-c', metadata: { name: 'Ann' } });
    await agent.post('/conferences/updateMetadata', { conferenceId: id, userEndpointId: 'ep-a', operation: 'SET', key: 'stage', value: '2' });
    await customer.post('/conferences/updateParticipantMetadata', { conferenceId: id, userEndpointId: 'ep-c', newMetadata: { name: 'Ann B' } });
    await agent.post('/users/endpoints/sendEvent', { userId: 'cust-1', event: { type: 'HelloThereEvent', timestamp: new Date().toISOString() } });
    await customer.post('/conferences/leave', { conferenceId: id, userEndpointId: 'ep-c' });
    await customer.post('/users/endpoints/unregister', { userEndpointId: 'ep-c' });
    await agent.post('/conferences/end', { conferenceId: id, userEndpointId: 'ep-a' });
    await agent.post('/interactions', { interactionId: 'int-1', type: 'video call', data: { queue: 'sales' } });
    await agent.request('PUT', '/rtc-api/interactions/int-1', { data: { queue: 'support' }, version: 1 });
    await customer.post('/ratings', { sessionType: 'CONFERENCE', sessionId: id, interactionId: 'int-1', rating: 5, comment: 'good' });
    const sessions = [(await agent.post('/chat-sessions', { participants: ['agent-1', 'cust-1'], room: id, title: 'Consultation' })).body.id, (await agent.post('/chat-sessions', { participants: ['cust-1'] })).body.id];
    await agent.request('PATCH', `/rtc-api/chat-sessions/${sessions[0]}`, { participants: ['agent-1', 'cust-1', 'nurse-1'], start: true, accept: true, finish: 'done' });
    await agent.request('PATCH', `/rtc-api/chat-sessions/${sessions[1]}`, { start: true, reject: 'busy' });
    const published = (type: string) => seen.some((s) => s.subject.endsWith(`.${type}`));
    await waitFor(
      () => ['ConferenceEndedEvent', 'UserEndpointUnregisteredEvent', 'UserEventSentEvent', 'UserEndpointKeptAliveEvent', 'InteractionCreatedEvent', 'InteractionUpdatedEvent', 'RatingCreatedEvent', 'ChatSessionCreatedEvent', 'ChatSessionChangedEvent', 'ChatSessionStartedEvent', 'ChatSessionAcceptedEvent', 'ChatSessionRejectedEvent', 'ChatSessionFinishedEvent', ...SNAPSHOT_SERVICE_EVENTS].every(published),
      { description: 'the events on NATS' },
    );

    const ajv = new Ajv({ allErrors: true });
    const schemaOf = (type: string) => {
      for (const channel of Object.values(doc.channels) as any[]) if (channel.messages[type]) return channel.messages[type].payload;
      return undefined;
    };
    const types = new Set<string>();
    for (const { subject, body } of seen) {
      const schema = schemaOf(body.type);
      expect({ subject, described: schema !== undefined }).toEqual({ subject, described: true });
      const valid = ajv.validate(schema, body);
      expect({ subject, errors: valid ? [] : ajv.errorsText() }).toEqual({ subject, errors: [] });
      types.add(body.type);
    }
    expect([...types].sort()).toEqual(
      expect.arrayContaining(['ConferenceCreatedEvent', 'ConferenceJoinedEvent', 'ConferenceMetadataUpdatedEvent', 'ConferenceParticipantMetadataUpdatedEvent', 'ConferenceLeftEvent', 'ConferenceEndedEvent', 'UserEndpointRegisteredEvent', 'UserEndpointKeptAliveEvent', 'UserEndpointUnregisteredEvent', 'UserEventSentEvent', 'InteractionCreatedEvent', 'InteractionUpdatedEvent', 'RatingCreatedEvent', 'ChatSessionCreatedEvent', 'ChatSessionChangedEvent', 'ChatSessionStartedEvent', 'ChatSessionAcceptedEvent', 'ChatSessionRejectedEvent', 'ChatSessionFinishedEvent', ...SNAPSHOT_SERVICE_EVENTS]),
    );

    const feed = (await agent.get(`/conferences/${id}/events?v=0`)).body as Array<Record<string, unknown>>;
    for (const item of feed) {
      const declared = Object.keys((PUBLISHED_EVENTS as Record<string, PublishedEvent>)[item.type as string].payload.properties as object);
      const base = ['id', 'type', 'timestamp', 'conferenceId', 'organizationId', 'conferenceVersion'];
      expect(Object.keys(item).filter((k) => !base.includes(k) && !declared.includes(k))).toEqual([]);
    }
    expect(feed[0]).toMatchObject({ type: 'ConferenceCreatedEvent', interactionId: 'int-1', createdAt: expect.any(String), metadata: { topic: { value: 'billing' } } });
  });
});
