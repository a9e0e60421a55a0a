import type { Actor, ChatSessionDomainEvent } from '@parley/contracts';
import { deciderSpec } from '@parley/eventsourcing';
import { type ChatSessionCommand, chatSessionDecider, chatSessionReadable, chatSessionsVisibleTo, evolveChatSession, initialChatSessionState, toChatSession } from './chat-session';

const spec = deciderSpec(chatSessionDecider);
const T0 = '2026-11-30T10:00:00.000Z';
const T1 = '2026-11-30T10:05:00.000Z';
const doctor: Actor = { userId: 'doc-1', organizationId: 'org-a', roles: ['AGENT'] };
const patient: Actor = { userId: 'pat-1', organizationId: 'org-a', roles: ['CUSTOMER'] };
const otherPatient: Actor = { userId: 'pat-2', organizationId: 'org-a', roles: ['CUSTOMER'] };
const otherAgent: Actor = { userId: 'agent-9', organizationId: 'org-a', roles: ['AGENT'] };
const service: Actor = { userId: 'svc', organizationId: 'org-a', roles: ['SERVICE'] };
const outsider: Actor = { userId: 'doc-1', organizationId: 'org-b', roles: ['ADMIN'] };

const ref = { chatSessionId: 'cs-1', organizationId: 'org-a' };
type Patch = Omit<Extract<ChatSessionCommand, { kind: 'patch' }>, 'kind' | 'chatSessionId' | 'organizationId' | 'actor' | 'now' | 'fields'> & { fields?: Extract<ChatSessionCommand, { kind: 'patch' }>['fields'] };

const create = (actor: Actor, participants = ['doc-1', 'pat-1'], extra: { room?: string; title?: string; createdAt?: string } = {}): ChatSessionCommand => ({
  kind: 'create',
  ...ref,
  actor,
  now: T0,
  createdAt: extra.createdAt ?? T0,
  type: 'telemed',
  participants,
  ...(extra.room !== undefined ? { room: extra.room } : {}),
  ...(extra.title !== undefined ? { title: extra.title } : {}),
});
const patch = (actor: Actor, p: Patch): ChatSessionCommand => ({ kind: 'patch', ...ref, organizationId: actor.organizationId, actor, now: T1, fields: {}, ...p });

const created = (extra: { room?: string; createdBy?: string } = {}): ChatSessionDomainEvent => ({
  type: 'ChatSessionCreatedEvent',
  schemaVersion: 1,
  data: { ...ref, createdBy: extra.createdBy ?? 'doc-1', createdAt: T0, type: 'telemed', participants: ['doc-1', 'pat-1'], ...(extra.room ? { room: extra.room } : {}) },
});
const started = (by = 'doc-1'): ChatSessionDomainEvent => ({ type: 'ChatSessionStartedEvent', schemaVersion: 1, data: { ...ref, startedBy: by, startedAt: T1 } });
const accepted = (by = 'pat-1'): ChatSessionDomainEvent => ({ type: 'ChatSessionAcceptedEvent', schemaVersion: 1, data: { ...ref, acceptedBy: by, acceptedAt: T1 } });
const rejected = (by = 'pat-1', rejectReason?: string): ChatSessionDomainEvent => ({
  type: 'ChatSessionRejectedEvent',
  schemaVersion: 1,
  data: { ...ref, rejectedBy: by, rejectedAt: T1, ...(rejectReason ? { rejectReason } : {}) },
});
const finished = (by = 'doc-1', finishReason?: string): ChatSessionDomainEvent => ({
  type: 'ChatSessionFinishedEvent',
  schemaVersion: 1,
  data: { ...ref, finishedBy: by, finishedAt: T1, ...(finishReason ? { finishReason } : {}) },
});
const changed = (fields: Record<string, unknown>, by = 'doc-1'): ChatSessionDomainEvent => ({ type: 'ChatSessionChangedEvent', schemaVersion: 1, data: { ...ref, ...fields, changedBy: by, changedAt: T1 } });

describe('Chat session decider', () => {
  describe('create', () => {
    it('creates a session in state created with the caller as creator, its participants, room and title', () => {
      const s = spec
        .given([])
        .when(create(doctor, ['doc-1', 'pat-1'], { room: 'conf-1', title: 'Hello' }))
        .then([{ ...created({ room: 'conf-1' }), data: { ...created({ room: 'conf-1' }).data, title: 'Hello' } } as ChatSessionDomainEvent]);
      expect(s).toMatchObject({ status: 'created', version: 1, createdBy: 'doc-1', participants: ['doc-1', 'pat-1'], room: 'conf-1', title: 'Hello' });
    });
    it('lets anyone create a session it takes part in, and only staff one it does not (a customer: 403)', () => {
      spec.given([]).when(create(patient)).then([created({ createdBy: 'pat-1' })]);
      spec.given([]).when(create(service)).then([created({ createdBy: 'svc' })]);
      spec.given([]).when(create(otherPatient)).thenFails({ code: 'FORBIDDEN', message: /create a chat session \(one the caller does not take part in\)/ });
    });
    it('lets a customer put it only in a conference it took part in; staff in any room', () => {
      const inRoom = (actor: Actor, roomIsCallersConference: boolean) => ({ ...create(actor, ['doc-1', 'pat-1'], { room: 'conf-1' }), roomIsCallersConference }) as ChatSessionCommand;
      spec.given([]).when(inRoom(patient, true)).then([created({ createdBy: 'pat-1', room: 'conf-1' })]);
      spec.given([]).when(inRoom(patient, false)).thenFails({ code: 'FORBIDDEN', message: /in a room that is not a conference the caller took part in/ });
      spec.given([]).when(inRoom(doctor, false)).then([created({ room: 'conf-1' })]);
    });
    it('refuses an id that exists (409)', () => {
      spec.given([created()]).when(create(doctor)).thenFails({ code: 'CONFLICT' });
    });
  });

  describe('directives', () => {
    it('start stamps startedAt/By: created → started', () => {
      const s = spec.given([created()]).when(patch(doctor, { start: true })).then([started()]);
      expect(toChatSession(s)).toMatchObject({ state: 'started', startedAt: Date.parse(T1), startedBy: 'doc-1', version: 2 });
    });
    it('accept stamps acceptedAt/By: started → accepted', () => {
      const s = spec.given([created(), started()]).when(patch(patient, { accept: true })).then([accepted()]);
      expect(toChatSession(s)).toMatchObject({ state: 'accepted', acceptedAt: Date.parse(T1), acceptedBy: 'pat-1' });
    });
    it('reject stamps rejectedAt/By, and the reason when one is given: started → rejected', () => {
      spec.given([created(), started()]).when(patch(patient, { reject: true })).then([rejected()]);
      const s = spec.given([created(), started()]).when(patch(patient, { reject: 'busy' })).then([rejected('pat-1', 'busy')]);
      expect(toChatSession(s)).toMatchObject({ state: 'rejected', rejectedBy: 'pat-1', rejectReason: 'busy' });
    });
    it('finish stamps finishedAt/By, and the reason when one is given: accepted → finished', () => {
      spec.given([created(), started(), accepted()]).when(patch(doctor, { finish: true })).then([finished()]);
      const s = spec.given([created(), started(), accepted()]).when(patch(doctor, { finish: 'done' })).then([finished('doc-1', 'done')]);
      expect(toChatSession(s)).toMatchObject({ state: 'finished', finishedBy: 'doc-1', finishReason: 'done', version: 4 });
    });
    it('applies several directives of one PATCH in order: start, accept, finish', () => {
      spec.given([created()]).when(patch(service, { start: true, accept: true, finish: true })).then([started('svc'), accepted('svc'), finished('svc')]);
    });
    it('refuses every directive the state does not allow with 409 naming the state, and decides nothing', () => {
      const refusals: Array<[ChatSessionDomainEvent[], Patch, RegExp]> = [
        [[created()], { accept: true }, /is created: accept needs it started/],
        [[created()], { reject: 'no' }, /is created: reject needs it started/],
        [[created()], { finish: true }, /is created: finish needs it accepted/],
        [[created(), started()], { start: true }, /is started: start needs it created/],
        [[created(), started()], { finish: true }, /is started: finish needs it accepted/],
        [[created(), started(), accepted()], { start: true }, /is accepted: start needs it created/],
        [[created(), started(), accepted()], { accept: true }, /is accepted: accept needs it started/],
        [[created(), started(), accepted()], { reject: true }, /is accepted: reject needs it started/],
        [[created(), started(), rejected()], { finish: true }, /is rejected: finish needs it accepted/],
        [[created(), started(), rejected()], { accept: true }, /is rejected: accept needs it started/],
        [[created(), started(), accepted(), finished()], { finish: true }, /is finished: finish needs it accepted/],
        [[created(), started(), accepted(), finished()], { start: true }, /is finished: start needs it created/],
        // The second of two directives meets the state the first left; the message names the state the session is in.
        [[created()], { start: true, finish: true }, /is created: finish needs it accepted \(after start it would be started\)/],
      ];
      for (const [given, p, message] of refusals) spec.given(given).when(patch(doctor, p)).thenFails({ code: 'CONFLICT', message });
    });
    it('treats false as no directive, and refuses accept with reject (400)', () => {
      spec.given([created()]).when(patch(doctor, { start: false, accept: false, reject: false, finish: false })).then([]);
      spec.given([created(), started()]).when(patch(patient, { accept: true, reject: 'no' })).thenFails({ code: 'BAD_REQUEST', message: /accept and reject/ });
    });
  });

  describe('fields', () => {
    it('records only the fields that differ, before the directives', () => {
      spec
        .given([created({ room: 'conf-1' })])
        .when(patch(doctor, { fields: { room: 'conf-1', participants: ['doc-1', 'pat-1', 'nurse-1'], title: 'Follow-up' }, start: true }))
        .then([changed({ participants: ['doc-1', 'pat-1', 'nurse-1'], title: 'Follow-up' }), started()]);
      spec.given([created()]).when(patch(doctor, { fields: { participants: ['doc-1', 'pat-1'], type: 'telemed' } })).then([]);
    });
    it('refuses a change to a rejected or finished session (409 naming the state)', () => {
      spec.given([created(), started(), rejected()]).when(patch(doctor, { fields: { title: 'x' } })).thenFails({ code: 'CONFLICT', message: /is rejected: it can no longer change/ });
      spec.given([created(), started(), accepted(), finished()]).when(patch(doctor, { fields: { room: 'r' } })).thenFails({ code: 'CONFLICT', message: /is finished/ });
    });
  });

  describe('who may act', () => {
    it('lets participants and staff act, not a customer outside it (404), nor a customer of its room (403)', () => {
      spec.given([created()]).when(patch(patient, { start: true })).then([started('pat-1')]);
      spec.given([created()]).when(patch(otherAgent, { start: true })).then([started('agent-9')]);
      spec.given([created()]).when(patch(otherPatient, { start: true })).thenFails({ code: 'NOT_FOUND' });
      spec.given([created({ room: 'conf-1' })]).when(patch(otherPatient, { start: true, inRoomConference: true })).thenFails({ code: 'FORBIDDEN' });
    });
    it('lets a customer participant move it only to a conference it took part in, and not leave itself out; staff may both', () => {
      spec.given([created()]).when(patch(patient, { fields: { room: 'conf-2' }, roomIsCallersConference: true })).then([changed({ room: 'conf-2' }, 'pat-1')]);
      spec.given([created()]).when(patch(patient, { fields: { room: 'conf-2' } })).thenFails({ code: 'FORBIDDEN', message: /moved to a room that is not a conference the caller took part in/ });
      spec.given([created()]).when(patch(patient, { fields: { participants: ['doc-1'] } })).thenFails({ code: 'FORBIDDEN', message: /with the caller left out of its participants/ });
      spec.given([created()]).when(patch(patient, { fields: { participants: ['pat-1', 'nurse-1'] } })).then([changed({ participants: ['pat-1', 'nurse-1'] }, 'pat-1')]);
      spec.given([created()]).when(patch(doctor, { fields: { room: 'conf-2', participants: ['pat-1'] } })).then([changed({ room: 'conf-2', participants: ['pat-1'] })]);
      // The room it is in already is no move.
      spec.given([created({ room: 'conf-1' })]).when(patch(patient, { fields: { room: 'conf-1' }, start: true })).then([started('pat-1')]);
    });
    it("answers another organization's caller, and a session that is not there, 404", () => {
      spec.given([created()]).when(patch(outsider, { start: true })).thenFails({ code: 'NOT_FOUND' });
      spec.given([]).when(patch(doctor, { start: true })).thenFails({ code: 'NOT_FOUND' });
    });
    it('lets participants, customers of its room and staff read it; no one else', () => {
      const s = [created()].reduce(evolveChatSession, initialChatSessionState());
      expect(chatSessionReadable(s, patient, false)).toBe(true);
      expect(chatSessionReadable(s, otherAgent, false)).toBe(true);
      expect(chatSessionReadable(s, otherPatient, true)).toBe(true);
      expect(chatSessionReadable(s, otherPatient, false)).toBe(false);
      expect(chatSessionReadable(s, outsider, false)).toBe(false);
    });
    it('lists every session for staff, and only its own for anyone else', () => {
      expect(chatSessionsVisibleTo(otherAgent)).toBeUndefined();
      expect(chatSessionsVisibleTo(service)).toBeUndefined();
      expect(chatSessionsVisibleTo(patient)).toBe('pat-1');
    });
  });

  it('shows times as epoch milliseconds and leaves out what is not set', () => {
    const view = toChatSession([created()].reduce(evolveChatSession, initialChatSessionState()));
    expect(view).toEqual({ id: 'cs-1', createdAt: Date.parse(T0), createdBy: 'doc-1', type: 'telemed', state: 'created', participants: ['doc-1', 'pat-1'], version: 1 });
  });
});
