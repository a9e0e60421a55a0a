import type { Actor, ConferenceDomainEvent } from '@parley/contracts';
import { deciderSpec } from '@parley/eventsourcing';
import type { ConferenceCommand } from './commands';
import { conferenceDecider, guards, makeConferenceDecider } from './decider';
import { toConferenceView, toSimpleView } from './views';

const spec = deciderSpec(conferenceDecider);
const now = '2026-11-21T10:00:00.000Z';
const agent: Actor = { userId: 'agent-1', organizationId: 'org-a', roles: ['AGENT'] };
const customer: Actor = { userId: 'cust-1', organizationId: 'org-a', roles: ['CUSTOMER'] };
const stranger: Actor = { userId: 'cust-9', organizationId: 'org-a', roles: ['CUSTOMER'] };
const outsider: Actor = { userId: 'agent-x', organizationId: 'org-b', roles: ['AGENT'] };
const service: Actor = { userId: 'svc', organizationId: 'org-a', roles: ['SERVICE'] };
const C = 'conf-1';

const cmd = (actor: Actor, c: Record<string, unknown> & { kind: ConferenceCommand['kind'] }): ConferenceCommand =>
  ({ conferenceId: C, actor, now, ...c }) as ConferenceCommand;

const created: ConferenceDomainEvent = {
  type: 'ConferenceCreatedEvent',
  schemaVersion: 3,
  data: {
    conferenceId: C,
    organizationId: 'org-a',
    mode: 'ROUTER',
    creator: 'agent-1',
    creatorEndpoint: 'ep-a',
    metadata: { topic: { value: 'billing', userId: 'agent-1', userEndpointId: 'ep-a', lastModified: now } },
    createdAt: now,
  },
};
const joined = (actor: Actor, ep: string, metadata: Record<string, unknown> = {}): ConferenceDomainEvent => ({
  type: 'ConferenceJoinedEvent',
  schemaVersion: 1,
  data: { userEndpointId: ep, userId: actor.userId, metadata, state: 'HEALTHY' },
});
const published = (actor: Actor, ep: string, streamId: string, streamType: 'CAM' | 'MIC' | 'MIC_AND_CAM' = 'CAM'): ConferenceDomainEvent => ({
  type: 'ConferenceStreamPublishedEvent',
  schemaVersion: 1,
  data: { userEndpointId: ep, userId: actor.userId, streamId, streamType, metadata: {} },
});
const viewing = (actor: Actor, ep: string, streamId: string, viewerId: string, publisherEndpointId: string): ConferenceDomainEvent => ({
  type: 'ConferenceStreamViewStartedEvent',
  schemaVersion: 1,
  data: { userEndpointId: ep, userId: actor.userId, streamId, viewerId, publisherEndpointId },
});
const ended: ConferenceDomainEvent = { type: 'ConferenceEndedEvent', schemaVersion: 1, data: { userEndpointId: 'ep-a', userId: 'agent-1' } };
const inCall = [created, joined(agent, 'ep-a'), joined(customer, 'ep-c')];

describe('Conference decider', () => {
  describe('create', () => {
    const create = (over: Record<string, unknown> = {}) =>
      cmd(agent, { kind: 'create', organizationId: 'org-a', mode: 'ROUTER', creatorEndpoint: 'ep-a', metadata: { topic: 'billing' }, ...over });

    it('records the creator and stores metadata values with who set them and when', () => {
      spec.given([]).when(create()).then([created]);
    });
    it('keeps the interaction id', () => {
      const [e] = conferenceDecider.decide(create({ interactionId: 'i-1', metadata: {} }), conferenceDecider.initialState());
      expect(e.data).toMatchObject({ interactionId: 'i-1', metadata: {} });
    });
    it('rejects an id that is already taken', () => {
      spec.given([created]).when(create()).thenFails({ code: 'CONFLICT', message: /already taken/ });
    });
    it('rejects a mode other than ROUTER', () => {
      spec.given([]).when(create({ mode: 'P2P' })).thenFails({ code: 'BAD_REQUEST', message: /only ROUTER/ });
    });
  });

  describe('join', () => {
    it('adds a healthy participant with its metadata', () => {
      const after = spec.given([created]).when(cmd(customer, { kind: 'join', userEndpointId: 'ep-c', metadata: { name: 'Ann' }, endpointOwner: 'cust-1' })).then([joined(customer, 'ep-c', { name: 'Ann' })]);
      expect(toConferenceView(after).participants).toEqual([{ id: 'ep-c', userId: 'cust-1', state: 'HEALTHY', streams: [], metadata: { name: 'Ann' } }]);
      expect(after.version).toBe(2);
    });
    it('is 404 for an unknown conference', () => {
      spec.given([]).when(cmd(customer, { kind: 'join', userEndpointId: 'ep-c', metadata: {} })).thenFails({ code: 'NOT_FOUND' });
    });
    it("is 404 for another organization's conference", () => {
      spec.given([created]).when(cmd(outsider, { kind: 'join', userEndpointId: 'ep-x', metadata: {} })).thenFails({ code: 'NOT_FOUND', message: `Conference ${C} not found` });
    });
    it('is 422 when the same user and endpoint already joined', () => {
      spec.given(inCall).when(cmd(customer, { kind: 'join', userEndpointId: 'ep-c', metadata: {} })).thenFails({ code: 'UNPROCESSABLE', message: /already joined/ });
    });
    it('is 409 when another user holds the endpoint id', () => {
      spec.given(inCall).when(cmd(service, { kind: 'join', userEndpointId: 'ep-c', metadata: {} })).thenFails({ code: 'CONFLICT' });
    });
    it('is 409 after the conference ended', () => {
      spec.given([created, ended]).when(cmd(customer, { kind: 'join', userEndpointId: 'ep-c', metadata: {} })).thenFails({ code: 'CONFLICT', message: /has ended/ });
    });
  });

  describe('leave', () => {
    it("unpublishes the participant's streams, then leaves, and drops its views", () => {
      const given = [...inCall, published(customer, 'ep-c', 's-1'), published(customer, 'ep-c', 's-2', 'MIC'), published(agent, 'ep-a', 's-a'), viewing(customer, 'ep-c', 's-a', 'v-1', 'ep-a')];
      const after = spec
        .given(given)
        .when(cmd(customer, { kind: 'leave', userEndpointId: 'ep-c', reason: 'bye' }))
        .then([
          { type: 'ConferenceStreamUnpublishedEvent', schemaVersion: 1, data: { userEndpointId: 'ep-c', userId: 'cust-1', streamId: 's-1', streamType: 'CAM', reason: 'left' } },
          { type: 'ConferenceStreamUnpublishedEvent', schemaVersion: 1, data: { userEndpointId: 'ep-c', userId: 'cust-1', streamId: 's-2', streamType: 'MIC', reason: 'left' } },
          { type: 'ConferenceLeftEvent', schemaVersion: 1, data: { userEndpointId: 'ep-c', userId: 'cust-1', reason: 'bye' } },
        ]);
      expect(after.participants.map((p) => p.userEndpointId)).toEqual(['ep-a']);
      expect(after.participants[0].streams[0].viewers).toEqual({});
    });
    it('is 404 for an endpoint that has not joined', () => {
      spec.given(inCall).when(cmd(customer, { kind: 'leave', userEndpointId: 'ep-zz' })).thenFails({ code: 'NOT_FOUND', message: /has not joined/ });
    });
    it("is 403 for another user's endpoint", () => {
      spec.given(inCall).when(cmd(stranger, { kind: 'leave', userEndpointId: 'ep-c' })).thenFails({ code: 'FORBIDDEN' });
    });
    it("a SERVICE may remove anyone's endpoint", () => {
      spec.given(inCall).when(cmd(service, { kind: 'leave', userEndpointId: 'ep-c', reason: 'expired' })).then([
        { type: 'ConferenceLeftEvent', schemaVersion: 1, data: { userEndpointId: 'ep-c', userId: 'cust-1', reason: 'expired' } },
      ]);
    });
  });

  describe('end', () => {
    it('ends the conference', () => {
      const after = spec.given(inCall).when(cmd(agent, { kind: 'end', userEndpointId: 'ep-a' })).then([ended]);
      expect(after.status).toBe('ended');
    });
    it('is 404 for a customer who is neither creator nor participant: it does not see the conference', () => {
      spec.given(inCall).when(cmd(stranger, { kind: 'end', userEndpointId: 'ep-q' })).thenFails({ code: 'NOT_FOUND' });
    });
    it('is 409 when already ended', () => {
      spec.given([created, ended]).when(cmd(agent, { kind: 'end', userEndpointId: 'ep-a' })).thenFails({ code: 'CONFLICT' });
    });
  });

  describe('setInteraction', () => {
    it('records the interaction id', () => {
      spec.given(inCall).when(cmd(agent, { kind: 'setInteraction', interactionId: 'i-9', userEndpointId: 'ep-a' })).then([
        { type: 'ConferenceInteractionSetEvent', schemaVersion: 1, data: { interactionId: 'i-9', userId: 'agent-1', userEndpointId: 'ep-a' } },
      ]);
    });
    it('changes nothing when it is already set to that id', () => {
      const set: ConferenceDomainEvent = { type: 'ConferenceInteractionSetEvent', schemaVersion: 1, data: { interactionId: 'i-9', userId: 'agent-1' } };
      spec.given([...inCall, set]).when(cmd(agent, { kind: 'setInteraction', interactionId: 'i-9' })).then([]);
    });
    it('is 403 for an outsider of the call', () => {
      spec.given(inCall).when(cmd(stranger, { kind: 'setInteraction', interactionId: 'i-9' })).thenFails({ code: 'FORBIDDEN' });
    });
  });

  describe('updateMetadata', () => {
    it('SET adds or replaces a value with who set it and when', () => {
      const after = spec.given(inCall).when(cmd(agent, { kind: 'updateMetadata', userEndpointId: 'ep-a', operation: 'SET', key: 'topic', value: 'sales' })).then([
        { type: 'ConferenceMetadataUpdatedEvent', schemaVersion: 1, data: { operation: 'SET', key: 'topic', value: 'sales', userEndpointId: 'ep-a', userId: 'agent-1', lastModified: now } },
      ]);
      expect(after.metadata.topic).toEqual({ value: 'sales', userId: 'agent-1', userEndpointId: 'ep-a', lastModified: now });
    });
    it('REMOVE deletes a key', () => {
      const after = spec.given(inCall).when(cmd(agent, { kind: 'updateMetadata', userEndpointId: 'ep-a', operation: 'REMOVE', key: 'topic' })).then([
        { type: 'ConferenceMetadataUpdatedEvent', schemaVersion: 1, data: { operation: 'REMOVE', key: 'topic', userEndpointId: 'ep-a', userId: 'agent-1', lastModified: now } },
      ]);
      expect(after.metadata).toEqual({});
    });
    it('SET without a value is 400', () => {
      spec.given(inCall).when(cmd(agent, { kind: 'updateMetadata', userEndpointId: 'ep-a', operation: 'SET', key: 'k' })).thenFails({ code: 'BAD_REQUEST', message: /value is required/ });
    });
    it('REMOVE of a missing key is 404', () => {
      spec.given(inCall).when(cmd(agent, { kind: 'updateMetadata', userEndpointId: 'ep-a', operation: 'REMOVE', key: 'nope' })).thenFails({ code: 'NOT_FOUND' });
    });
    it('is 403 for an outsider of the call', () => {
      spec.given(inCall).when(cmd(stranger, { kind: 'updateMetadata', userEndpointId: 'ep-c', operation: 'SET', key: 'k', value: 'v' })).thenFails({ code: 'FORBIDDEN' });
    });
    it('is 404 from an endpoint that never joined, also for the creator; 403 from another user\'s endpoint', () => {
      spec.given(inCall).when(cmd(agent, { kind: 'updateMetadata', userEndpointId: 'ep-never', operation: 'SET', key: 'k', value: 'v' })).thenFails({ code: 'NOT_FOUND', message: /has not joined/ });
      spec.given(inCall).when(cmd(agent, { kind: 'updateMetadata', userEndpointId: 'ep-c', operation: 'SET', key: 'k', value: 'v' })).thenFails({ code: 'FORBIDDEN' });
    });
  });

  describe('updateParticipantMetadata', () => {
    it("replaces the participant's metadata", () => {
      const after = spec.given(inCall).when(cmd(customer, { kind: 'updateParticipantMetadata', userEndpointId: 'ep-c', metadata: { muted: true } })).then([
        { type: 'ConferenceParticipantMetadataUpdatedEvent', schemaVersion: 1, data: { userEndpointId: 'ep-c', userId: 'cust-1', metadata: { muted: true } } },
      ]);
      expect(after.participants[1].metadata).toEqual({ muted: true });
    });
    it('is 404 for an endpoint that has not joined', () => {
      spec.given(inCall).when(cmd(customer, { kind: 'updateParticipantMetadata', userEndpointId: 'ep-q', metadata: {} })).thenFails({ code: 'NOT_FOUND' });
    });
    it("is 403 for another user's endpoint", () => {
      spec.given(inCall).when(cmd(customer, { kind: 'updateParticipantMetadata', userEndpointId: 'ep-a', metadata: {} })).thenFails({ code: 'FORBIDDEN' });
    });
  });

  describe('updateParticipantState (from the presence service)', () => {
    const sick: ConferenceDomainEvent = { type: 'ConferenceParticipantStateUpdatedEvent', schemaVersion: 1, data: { userEndpointId: 'ep-c', userId: 'cust-1', state: 'SICK' } };
    it('a SERVICE marks a participant SICK and HEALTHY again; the view shows it', () => {
      const s = spec.given([created, joined(customer, 'ep-c')]).when(cmd(service, { kind: 'updateParticipantState', userEndpointId: 'ep-c', state: 'SICK' })).then([sick]);
      expect(toConferenceView(s).participants[0].state).toBe('SICK');
      spec
        .given([created, joined(customer, 'ep-c'), sick])
        .when(cmd(service, { kind: 'updateParticipantState', userEndpointId: 'ep-c', state: 'HEALTHY' }))
        .then([{ type: 'ConferenceParticipantStateUpdatedEvent', schemaVersion: 1, data: { userEndpointId: 'ep-c', userId: 'cust-1', state: 'HEALTHY' } }]);
    });
    it('the same state again changes nothing', () => {
      spec.given([created, joined(customer, 'ep-c'), sick]).when(cmd(service, { kind: 'updateParticipantState', userEndpointId: 'ep-c', state: 'SICK' })).then([]);
    });
    it('only a SERVICE may; an endpoint that has not joined is 404', () => {
      spec.given([created, joined(customer, 'ep-c')]).when(cmd(agent, { kind: 'updateParticipantState', userEndpointId: 'ep-c', state: 'SICK' })).thenFails({ code: 'FORBIDDEN' });
      spec.given([created]).when(cmd(service, { kind: 'updateParticipantState', userEndpointId: 'ep-c', state: 'SICK' })).thenFails({ code: 'NOT_FOUND' });
    });
  });

  describe('streams', () => {
    const withStream = [...inCall, published(customer, 'ep-c', 's-1')];

    it('publishStream adds a stream of the given type', () => {
      const after = spec.given(inCall).when(cmd(customer, { kind: 'publishStream', userEndpointId: 'ep-c', streamId: 's-1', streamType: 'CAM', metadata: {} })).then([published(customer, 'ep-c', 's-1')]);
      expect(toConferenceView(after).participants[1].streams).toEqual([{ id: 's-1', type: 'CAM', metadata: {} }]);
    });
    it('publishStream keeps the requested bitrate', () => {
      const [e] = conferenceDecider.decide(cmd(customer, { kind: 'publishStream', userEndpointId: 'ep-c', streamId: 's-2', streamType: 'MIC_AND_CAM', metadata: { a: 1 }, videoBitrate: 500000 }), spec.given(inCall).state);
      expect(e.data).toMatchObject({ streamType: 'MIC_AND_CAM', metadata: { a: 1 }, videoBitrate: 500000 });
    });
    it('publishStream of a stream id already published is 409', () => {
      spec.given(withStream).when(cmd(agent, { kind: 'publishStream', userEndpointId: 'ep-a', streamId: 's-1', streamType: 'CAM', metadata: {} })).thenFails({ code: 'CONFLICT' });
    });
    it('publishStream of type UNKNOWN is 400', () => {
      spec.given(inCall).when(cmd(customer, { kind: 'publishStream', userEndpointId: 'ep-c', streamId: 's-1', streamType: 'UNKNOWN', metadata: {} })).thenFails({ code: 'BAD_REQUEST' });
    });
    it('publishStream from an endpoint that has not joined is 404', () => {
      spec.given(inCall).when(cmd(customer, { kind: 'publishStream', userEndpointId: 'ep-q', streamId: 's-1', streamType: 'CAM', metadata: {} })).thenFails({ code: 'NOT_FOUND' });
    });
    it('unpublishStream removes the stream', () => {
      const after = spec.given(withStream).when(cmd(customer, { kind: 'unpublishStream', userEndpointId: 'ep-c', streamId: 's-1' })).then([
        { type: 'ConferenceStreamUnpublishedEvent', schemaVersion: 1, data: { userEndpointId: 'ep-c', userId: 'cust-1', streamId: 's-1', streamType: 'CAM', reason: 'unpublished' } },
      ]);
      expect(after.participants[1].streams).toEqual([]);
    });
    it('unpublishStream of an unknown stream is 404', () => {
      spec.given(withStream).when(cmd(customer, { kind: 'unpublishStream', userEndpointId: 'ep-c', streamId: 's-9' })).thenFails({ code: 'NOT_FOUND' });
    });
    it('updateStreamMetadata replaces the stream metadata', () => {
      const after = spec.given(withStream).when(cmd(customer, { kind: 'updateStreamMetadata', userEndpointId: 'ep-c', streamId: 's-1', metadata: { label: 'front' } })).then([
        { type: 'ConferenceStreamMetadataUpdatedEvent', schemaVersion: 1, data: { userEndpointId: 'ep-c', userId: 'cust-1', streamId: 's-1', metadata: { label: 'front' } } },
      ]);
      expect(toSimpleView(after).participants[1].endpoints[0].streams).toEqual([{ id: 's-1', type: 'CAM', metadata: { label: 'front' } }]);
    });
    it('updateStreamMetadata of a stream of another endpoint is 404', () => {
      spec.given([...withStream, published(agent, 'ep-a', 's-a')]).when(cmd(customer, { kind: 'updateStreamMetadata', userEndpointId: 'ep-c', streamId: 's-a', metadata: {} })).thenFails({ code: 'NOT_FOUND' });
    });
    it('updateBitrate sets the bitrate of one stream', () => {
      const after = spec.given(withStream).when(cmd(customer, { kind: 'updateBitrate', userEndpointId: 'ep-c', streamId: 's-1', videoBitrate: 250000 })).then([
        { type: 'ConferenceStreamBitrateUpdatedEvent', schemaVersion: 1, data: { userEndpointId: 'ep-c', userId: 'cust-1', streamId: 's-1', videoBitrate: 250000 } },
      ]);
      expect(toConferenceView(after).participants[1].streams[0].videoBitrate).toBe(250000);
    });
    it('updateBitrate without a stream id sets every stream of the endpoint', () => {
      const events = conferenceDecider.decide(cmd(customer, { kind: 'updateBitrate', userEndpointId: 'ep-c', videoBitrate: 1000 }), spec.given([...withStream, published(customer, 'ep-c', 's-2', 'MIC')]).state);
      expect(events.map((e) => (e.data as { streamId: string }).streamId)).toEqual(['s-1', 's-2']);
    });
    it('updateBitrate of an unknown stream, or with no stream at all, is 404', () => {
      spec.given(withStream).when(cmd(customer, { kind: 'updateBitrate', userEndpointId: 'ep-c', streamId: 's-9', videoBitrate: 1000 })).thenFails({ code: 'NOT_FOUND' });
      spec.given(inCall).when(cmd(customer, { kind: 'updateBitrate', userEndpointId: 'ep-c', videoBitrate: 1000 })).thenFails({ code: 'NOT_FOUND' });
    });
  });

  describe('viewing', () => {
    const withStream = [...inCall, published(customer, 'ep-c', 's-1')];
    const watched = [...withStream, viewing(agent, 'ep-a', 's-1', 'v-1', 'ep-c')];

    it('viewStream records the viewer of a published stream', () => {
      const after = spec.given(withStream).when(cmd(agent, { kind: 'viewStream', userEndpointId: 'ep-a', streamId: 's-1', viewerId: 'v-1' })).then([viewing(agent, 'ep-a', 's-1', 'v-1', 'ep-c')]);
      expect(after.participants[1].streams[0].viewers).toEqual({ 'v-1': { userEndpointId: 'ep-a', userId: 'agent-1' } });
    });
    it('viewStream of an unknown stream is 404', () => {
      spec.given(withStream).when(cmd(agent, { kind: 'viewStream', userEndpointId: 'ep-a', streamId: 's-9', viewerId: 'v-1' })).thenFails({ code: 'NOT_FOUND' });
    });
    it('viewStream with a viewer id in use is 409', () => {
      spec.given(watched).when(cmd(agent, { kind: 'viewStream', userEndpointId: 'ep-a', streamId: 's-1', viewerId: 'v-1' })).thenFails({ code: 'CONFLICT' });
    });
    it('stopViewStream ends the view', () => {
      const after = spec.given(watched).when(cmd(agent, { kind: 'stopViewStream', userEndpointId: 'ep-a', streamId: 's-1', viewerId: 'v-1' })).then([
        { type: 'ConferenceStreamViewStoppedEvent', schemaVersion: 1, data: { userEndpointId: 'ep-a', userId: 'agent-1', streamId: 's-1', viewerId: 'v-1' } },
      ]);
      expect(after.participants[1].streams[0].viewers).toEqual({});
    });
    it('stopViewStream of an unknown viewer is 404', () => {
      spec.given(watched).when(cmd(agent, { kind: 'stopViewStream', userEndpointId: 'ep-a', streamId: 's-1', viewerId: 'v-2' })).thenFails({ code: 'NOT_FOUND' });
    });
    it('unpublishing a stream drops its viewers with it', () => {
      const after = spec.given(watched).when(cmd(customer, { kind: 'unpublishStream', userEndpointId: 'ep-c', streamId: 's-1' })).then([
        { type: 'ConferenceStreamUnpublishedEvent', schemaVersion: 1, data: { userEndpointId: 'ep-c', userId: 'cust-1', streamId: 's-1', streamType: 'CAM', reason: 'unpublished' } },
      ]);
      expect(guards.viewerOf.bind(null, after, agent, C, 'ep-a', 's-1', 'v-1')).toThrow(/not published/);
    });
  });

  describe('guards (no events)', () => {
    const state = spec.given([...inCall, published(customer, 'ep-c', 's-1'), viewing(agent, 'ep-a', 's-1', 'v-1', 'ep-c')]).state;
    it('ICE candidates need the caller’s published stream or view', () => {
      expect(() => guards.publishedStreamOf(state, customer, C, 'ep-c', 's-1')).not.toThrow();
      expect(() => guards.publishedStreamOf(state, customer, C, 'ep-c', 's-2')).toThrow(/publishes no stream/);
      expect(() => guards.viewerOf(state, agent, C, 'ep-a', 's-1', 'v-1')).not.toThrow();
      expect(() => guards.viewerOf(state, customer, C, 'ep-c', 's-1', 'v-1')).toThrow(/not found/);
    });
    it('sendEvent reaches every joined endpoint', () => {
      expect(guards.joinedEndpoints(state, service, C)).toEqual([
        { userEndpointId: 'ep-a', userId: 'agent-1' },
        { userEndpointId: 'ep-c', userId: 'cust-1' },
      ]);
    });
    it("another organization's conference is not readable", () => {
      expect(() => guards.readable(state, outsider, C)).toThrow(`Conference ${C} not found`);
      expect(() => guards.readable(state, customer, C)).not.toThrow();
    });
  });

  describe('bounds and quotas', () => {
    const quotas = { participants: 3, publicationsPerParticipant: 2, viewsPerParticipant: 2, transports: 5, activeConferencesPerUser: 2 };
    const bounded = deciderSpec(makeConferenceDecider(quotas));
    const create = (over: Record<string, unknown> = {}) => cmd(agent, { kind: 'create', organizationId: 'org-a', mode: 'ROUTER', metadata: {}, ...over });

    it('create is 429 for a user with as many unended conferences as the quota, naming it', () => {
      const [createdEvent] = conferenceDecider.decide(create(), conferenceDecider.initialState());
      bounded.given([]).when(create({ activeCreatedByCaller: 1 })).then([createdEvent]);
      bounded.given([]).when(create({ activeCreatedByCaller: 2 })).thenFails({ code: 'TOO_MANY_REQUESTS', details: { quota: 'activeConferencesPerUser', limit: 2, retryAfterSeconds: 30 } });
    });
    it('join is 403 with an endpoint another user registered, and fine with one of the caller\'s own', () => {
      spec.given(inCall).when(cmd(stranger, { kind: 'join', userEndpointId: 'ep-z', metadata: {}, endpointOwner: 'someone-else' })).thenFails({ code: 'FORBIDDEN', message: /may not join a conference \(with an endpoint another user registered\)/ });
      spec.given(inCall).when(cmd(stranger, { kind: 'join', userEndpointId: 'ep-z', metadata: {}, endpointOwner: 'cust-9' })).then([joined(stranger, 'ep-z')]);
    });
    it('join is 429 once the conference has its most participants', () => {
      bounded.given([...inCall, joined(stranger, 'ep-s')]).when(cmd(service, { kind: 'join', userEndpointId: 'ep-4', metadata: {} })).thenFails({ code: 'TOO_MANY_REQUESTS', details: { quota: 'participants', limit: 3, retryAfterSeconds: 30 } });
    });
    it('publishStream is 429 past the publications of one participant, and past the conference\'s transports', () => {
      const two = [...inCall, published(customer, 'ep-c', 's-1'), published(customer, 'ep-c', 's-2')];
      bounded.given(two).when(cmd(customer, { kind: 'publishStream', userEndpointId: 'ep-c', streamId: 's-3', streamType: 'MIC', metadata: {} })).thenFails({ code: 'TOO_MANY_REQUESTS', details: { quota: 'publicationsPerParticipant', limit: 2, retryAfterSeconds: 30 } });
      const five = [...two, published(agent, 'ep-a', 's-a'), viewing(agent, 'ep-a', 's-1', 'v-1', 'ep-c'), viewing(agent, 'ep-a', 's-2', 'v-2', 'ep-c')];
      bounded.given(five).when(cmd(agent, { kind: 'publishStream', userEndpointId: 'ep-a', streamId: 's-b', streamType: 'MIC', metadata: {} })).thenFails({ code: 'TOO_MANY_REQUESTS', details: { quota: 'transports', limit: 5, retryAfterSeconds: 30 } });
    });
    it('viewStream is 429 past the views of one participant', () => {
      const viewed = [...inCall, published(customer, 'ep-c', 's-1'), published(customer, 'ep-c', 's-2'), viewing(agent, 'ep-a', 's-1', 'v-1', 'ep-c'), viewing(agent, 'ep-a', 's-2', 'v-2', 'ep-c')];
      bounded.given(viewed).when(cmd(agent, { kind: 'viewStream', userEndpointId: 'ep-a', streamId: 's-1', viewerId: 'v-3' })).thenFails({ code: 'TOO_MANY_REQUESTS', details: { quota: 'viewsPerParticipant', limit: 2, retryAfterSeconds: 30 } });
    });
    it('a command that would grow the conference past Limits.conferenceBytes is 413 naming the bound; smaller ones pass', () => {
      const value = 'v'.repeat(16_000);
      let state = spec.given(inCall).state;
      let refused: unknown;
      for (let i = 0; i < 40 && !refused; i++) {
        try {
          state = conferenceDecider.decide(cmd(agent, { kind: 'updateMetadata', userEndpointId: 'ep-a', operation: 'SET', key: `k${i}`, value }), state).reduce(conferenceDecider.evolve, state);
        } catch (e) {
          refused = e;
        }
      }
      expect(refused).toMatchObject({ code: 'PAYLOAD_TOO_LARGE', details: { bound: 'conferenceBytes', limit: 262144 } });
      expect(JSON.stringify(toConferenceView(state)).length).toBeLessThanOrEqual(262144);
      // Replacing a value by a smaller one still passes.
      expect(() => conferenceDecider.decide(cmd(agent, { kind: 'updateMetadata', userEndpointId: 'ep-a', operation: 'SET', key: 'k0', value: 'small' }), state)).not.toThrow();
    });
  });

  describe('views', () => {
    it('groups endpoints of one user in the simple view', () => {
      const s = spec.given([created, joined(agent, 'ep-a'), joined(agent, 'ep-a2'), joined(customer, 'ep-c')]).state;
      expect(toSimpleView(s).participants.map((p) => [p.id, p.endpoints.map((e) => e.id)])).toEqual([
        ['agent-1', ['ep-a', 'ep-a2']],
        ['cust-1', ['ep-c']],
      ]);
      expect(toConferenceView(s)).toMatchObject({ id: C, mode: 'ROUTER', organizationId: 'org-a', creator: 'agent-1', creatorEndpoint: 'ep-a', version: 4, empty: false, ended: false });
    });
  });

  describe('who may do what (the ACCESS table)', () => {
    const admin: Actor = { userId: 'adm', organizationId: 'org-a', roles: ['ADMIN'] };
    const create = (actor: Actor, over: Record<string, unknown> = {}) => cmd(actor, { kind: 'create', organizationId: 'org-a', mode: 'ROUTER', metadata: {}, idChosenByCaller: false, ...over });
    const made = (actor: Actor) => conferenceDecider.decide(create(actor), conferenceDecider.initialState());

    it('a customer creates with an id the server chooses, and not with one of its own', () => {
      expect(made(customer)).toHaveLength(1);
      spec.given([]).when(create(customer, { idChosenByCaller: true })).thenFails({ code: 'FORBIDDEN', message: /may not create a conference \(with an id the caller chooses\)/ });
      expect(conferenceDecider.decide(create(agent, { idChosenByCaller: true }), conferenceDecider.initialState())).toHaveLength(1);
    });
    it('only a SERVICE whose client may act for the organization creates there; never for any other, and a taken id there stays unknown', () => {
      const bound: Actor = { ...service, actsFor: ['org-b'] };
      expect(conferenceDecider.decide(create(bound, { organizationId: 'org-b' }), conferenceDecider.initialState())).toHaveLength(1);
      spec.given([]).when(create(service, { organizationId: 'org-b' })).thenFails({ code: 'FORBIDDEN', message: /\(for any other organization\)/ });
      spec.given([]).when(create({ ...admin, actsFor: ['org-b'] }, { organizationId: 'org-b' })).thenFails({ code: 'FORBIDDEN' });
      spec.given([created]).when(create(service, { organizationId: 'org-b' })).thenFails({ code: 'FORBIDDEN' });
    });
    it('a customer joins only with an endpoint it registered; staff also with one nobody registered', () => {
      spec.given([created]).when(cmd(customer, { kind: 'join', userEndpointId: 'ep-c', metadata: {} })).thenFails({ code: 'FORBIDDEN', message: /\(with an endpoint nobody registered\)/ });
      spec.given([created]).when(cmd(agent, { kind: 'join', userEndpointId: 'ep-a', metadata: {} })).then([joined(agent, 'ep-a')]);
    });
    it('a customer cannot end a conference it did not create, nor set its interaction; staff can', () => {
      spec.given(inCall).when(cmd(customer, { kind: 'end', userEndpointId: 'ep-c' })).thenFails({ code: 'FORBIDDEN', message: /may not end a conference \(one the caller joined but did not create\)/ });
      spec.given(inCall).when(cmd(customer, { kind: 'setInteraction', interactionId: 'i-1' })).thenFails({ code: 'FORBIDDEN' });
      spec.given(inCall).when(cmd(admin, { kind: 'end', userEndpointId: 'ep-a' })).then([{ type: 'ConferenceEndedEvent', schemaVersion: 1, data: { userEndpointId: 'ep-a', userId: 'adm' } }]);
      const ownCall = [{ ...created, data: { ...created.data, creator: 'cust-1' } } as ConferenceDomainEvent, joined(customer, 'ep-c')];
      spec.given(ownCall).when(cmd(customer, { kind: 'end', userEndpointId: 'ep-c' })).then([{ type: 'ConferenceEndedEvent', schemaVersion: 1, data: { userEndpointId: 'ep-c', userId: 'cust-1' } }]);
    });
    it("a customer cannot change the conference's metadata, even as a participant", () => {
      spec.given(inCall).when(cmd(customer, { kind: 'updateMetadata', userEndpointId: 'ep-c', operation: 'SET', key: 'k', value: 'v' })).thenFails({ code: 'FORBIDDEN', message: /may not change a conference's metadata/ });
    });
    it('a customer cannot read a conference it neither created nor joined (404); staff can', () => {
      const state = [...inCall].reduce(conferenceDecider.evolve, conferenceDecider.initialState());
      expect(() => guards.readable(state, stranger, C)).toThrow(expect.objectContaining({ code: 'NOT_FOUND' }));
      expect(() => guards.readable(state, customer, C)).not.toThrow();
      expect(() => guards.readable(state, { ...agent, userId: 'agent-2' }, C)).not.toThrow();
    });
    it('refuses in the domain too what the gateway already refuses by role: a customer setting the interaction, an agent sending events or judging a participant', () => {
      // The route's guard lets these roles no further; the decider must say no by itself all the same.
      spec.given(inCall).when(cmd(customer, { kind: 'setInteraction', interactionId: 'i-1' })).thenFails({ code: 'FORBIDDEN', message: /may not set a conference's interaction/ });
      spec.given(inCall).when(cmd(agent, { kind: 'updateParticipantState', userEndpointId: 'ep-c', state: 'SICK' })).thenFails({ code: 'FORBIDDEN', message: /may not set a participant's health/ });
      const state = inCall.reduce(conferenceDecider.evolve, conferenceDecider.initialState());
      expect(() => guards.joinedEndpoints(state, agent, C)).toThrow(expect.objectContaining({ code: 'FORBIDDEN', message: expect.stringMatching(/may not send an event to a conference's endpoints/) }));
      expect(guards.joinedEndpoints(state, service, C)).toHaveLength(2);
    });
    it("only SERVICE and ADMIN act for another user's participant endpoint", () => {
      const streams = [...inCall, published(customer, 'ep-c', 's-1')];
      spec.given(streams).when(cmd(agent, { kind: 'unpublishStream', userEndpointId: 'ep-c', streamId: 's-1' })).thenFails({ code: 'FORBIDDEN', message: /\(another user's participant endpoint\)/ });
      expect(conferenceDecider.decide(cmd(admin, { kind: 'unpublishStream', userEndpointId: 'ep-c', streamId: 's-1' }), streams.reduce(conferenceDecider.evolve, conferenceDecider.initialState()))).toHaveLength(1);
    });
  });
});
