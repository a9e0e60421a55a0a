import {
  type Actor,
  type ChatSession,
  type ChatSessionDomainEvent,
  type ChatSessionFields,
  type ChatSessionStateName,
  type ChatSessionType,
  ParleyError,
  authorize,
  mayAccess,
} from '@parley/contracts';
import type { Decider } from '@parley/eventsourcing';

/**
 * A telemedicine chat session as a pure decider: its participants and room, and the state machine
 * its directives drive: created → started → accepted | rejected; accepted → finished. Each
 * directive stamps who gave it and when (the server's time, in the command).
 */
export interface ChatSessionState {
  status: 'none' | ChatSessionStateName;
  version: number;
  id: string;
  organizationId: string;
  createdBy: string;
  createdAt: string;
  type: ChatSessionType;
  participants: string[];
  room?: string;
  title?: string;
  startedAt?: string;
  startedBy?: string;
  acceptedAt?: string;
  acceptedBy?: string;
  rejectedAt?: string;
  rejectedBy?: string;
  rejectReason?: string;
  finishedAt?: string;
  finishedBy?: string;
  finishReason?: string;
}

export const initialChatSessionState = (): ChatSessionState => ({ status: 'none', version: 0, id: '', organizationId: '', createdBy: '', createdAt: '', type: 'telemed', participants: [] });

interface Base {
  chatSessionId: string;
  organizationId: string;
  actor: Actor;
  /** ISO-8601 instant of the decision. */
  now: string;
}

export type ChatSessionCommand = Base &
  (
    | {
        kind: 'create';
        createdAt: string;
        type: ChatSessionType;
        participants: string[];
        room?: string;
        title?: string;
        /** The room is a conference the caller created or joined (the read model knows; asked only where it matters). */
        roomIsCallersConference?: boolean;
      }
    | {
        kind: 'patch';
        fields: ChatSessionFields;
        start?: boolean;
        accept?: boolean;
        reject?: boolean | string;
        finish?: boolean | string;
        /** The caller created or joined the conference the session's room names (the read model knows). */
        inRoomConference?: boolean;
        /** The room given is a conference the caller created or joined (asked only where it matters). */
        roomIsCallersConference?: boolean;
      }
  );

export const chatSessionNotFound = (id: string) => new ParleyError('NOT_FOUND', `Chat session ${id} not found`);

export type ChatSessionSituation = 'one the caller takes part in' | "one in whose room's conference the caller took part" | 'any other of its organization';
type ChangeSituation =
  | ChatSessionSituation
  | 'one the caller takes part in, moved to a room that is not a conference the caller took part in'
  | 'one the caller takes part in, with the caller left out of its participants';

export const chatSessionSituation = (participants: readonly string[], actor: Actor, inRoomConference: boolean): ChatSessionSituation =>
  participants.includes(actor.userId) ? 'one the caller takes part in' : inRoomConference ? "one in whose room's conference the caller took part" : 'any other of its organization';

/** A session of the caller's organization that the caller may see (else it answers not found, as another organization's). */
export const chatSessionReadable = (s: ChatSessionState, actor: Actor, inRoomConference: boolean): boolean =>
  s.status !== 'none' && s.organizationId === actor.organizationId && mayAccess('readChatSession', chatSessionSituation(s.participants, actor, inRoomConference), actor);

/**
 * Whose sessions `actor` sees in a list, by the access table: every session of its organization
 * (undefined) where it may see any, else those of `userId` (a participant, or in the room's conference).
 */
export function chatSessionsVisibleTo(actor: Actor): string | undefined {
  authorize('readChatSession', 'one the caller takes part in', actor, () => new ParleyError('NOT_FOUND', 'Not found'));
  return mayAccess('readChatSession', 'any other of its organization', actor) ? undefined : actor.userId;
}

/** What each directive needs the session to be, and what it makes it. */
const DIRECTIVES = {
  start: { from: 'created', to: 'started' },
  accept: { from: 'started', to: 'accepted' },
  reject: { from: 'started', to: 'rejected' },
  finish: { from: 'accepted', to: 'finished' },
} as const;
type Directive = keyof typeof DIRECTIVES;

const closed = (status: ChatSessionState['status']) => status === 'rejected' || status === 'finished';

/** A reason when the directive was given one; `true` has none. */
const reasonOf = (v: boolean | string | undefined): string | undefined => (typeof v === 'string' ? v : undefined);

/** The fields of `fields` that differ from the session's. */
function changedFields(s: ChatSessionState, fields: ChatSessionFields): ChatSessionFields {
  const out: ChatSessionFields = {};
  if (fields.type !== undefined && fields.type !== s.type) out.type = fields.type;
  if (fields.room !== undefined && fields.room !== s.room) out.room = fields.room;
  if (fields.title !== undefined && fields.title !== s.title) out.title = fields.title;
  if (fields.participants !== undefined && fields.participants.join('\u0000') !== s.participants.join('\u0000')) out.participants = fields.participants;
  return out;
}

/** Where the caller stands to the session and to the change it asks for, in the access table's words. */
function changeSituation(s: ChatSessionState, cmd: Extract<ChatSessionCommand, { kind: 'patch' }>, changed: ChatSessionFields): ChangeSituation {
  const base = chatSessionSituation(s.participants, cmd.actor, cmd.inRoomConference ?? false);
  if (base !== 'one the caller takes part in') return base;
  if (changed.room !== undefined && !cmd.roomIsCallersConference) return 'one the caller takes part in, moved to a room that is not a conference the caller took part in';
  if (changed.participants !== undefined && !changed.participants.includes(cmd.actor.userId)) return 'one the caller takes part in, with the caller left out of its participants';
  return base;
}

function directiveEvent(d: Directive, s: ChatSessionState, cmd: Base, reason: string | undefined): ChatSessionDomainEvent {
  const ref = { chatSessionId: s.id, organizationId: s.organizationId };
  const by = cmd.actor.userId;
  switch (d) {
    case 'start':
      return { type: 'ChatSessionStartedEvent', schemaVersion: 1, data: { ...ref, startedBy: by, startedAt: cmd.now } };
    case 'accept':
      return { type: 'ChatSessionAcceptedEvent', schemaVersion: 1, data: { ...ref, acceptedBy: by, acceptedAt: cmd.now } };
    case 'reject':
      return { type: 'ChatSessionRejectedEvent', schemaVersion: 1, data: { ...ref, rejectedBy: by, rejectedAt: cmd.now, ...(reason !== undefined ? { rejectReason: reason } : {}) } };
    case 'finish':
      return { type: 'ChatSessionFinishedEvent', schemaVersion: 1, data: { ...ref, finishedBy: by, finishedAt: cmd.now, ...(reason !== undefined ? { finishReason: reason } : {}) } };
  }
}

export function decideChatSession(cmd: ChatSessionCommand, s: ChatSessionState): ChatSessionDomainEvent[] {
  switch (cmd.kind) {
    case 'create': {
      authorize(
        'createChatSession',
        !cmd.participants.includes(cmd.actor.userId)
          ? 'one the caller does not take part in'
          : cmd.room !== undefined && !cmd.roomIsCallersConference
            ? 'one the caller takes part in, in a room that is not a conference the caller took part in'
            : 'one the caller takes part in',
        cmd.actor,
        () => chatSessionNotFound(cmd.chatSessionId),
      );
      if (s.status !== 'none') throw new ParleyError('CONFLICT', `Chat session id ${cmd.chatSessionId} is already taken`);
      return [
        {
          type: 'ChatSessionCreatedEvent',
          schemaVersion: 1,
          data: {
            chatSessionId: cmd.chatSessionId,
            organizationId: cmd.organizationId,
            createdBy: cmd.actor.userId,
            createdAt: cmd.createdAt,
            type: cmd.type,
            participants: cmd.participants,
            ...(cmd.room !== undefined ? { room: cmd.room } : {}),
            ...(cmd.title !== undefined ? { title: cmd.title } : {}),
          },
        },
      ];
    }
    case 'patch': {
      if (s.status === 'none' || s.organizationId !== cmd.actor.organizationId) throw chatSessionNotFound(cmd.chatSessionId);
      const changed = changedFields(s, cmd.fields);
      authorize('updateChatSession', changeSituation(s, cmd, changed), cmd.actor, () => chatSessionNotFound(cmd.chatSessionId));
      if (cmd.accept === true && cmd.reject !== undefined && cmd.reject !== false) {
        throw new ParleyError('BAD_REQUEST', 'accept and reject cannot both be given', { fields: ['accept', 'reject'] });
      }
      const events: ChatSessionDomainEvent[] = [];
      let state = s;
      if (Object.keys(changed).length > 0) {
        if (closed(s.status)) throw new ParleyError('CONFLICT', `Chat session ${s.id} is ${s.status}: it can no longer change`, { state: s.status });
        const e: ChatSessionDomainEvent = { type: 'ChatSessionChangedEvent', schemaVersion: 1, data: { chatSessionId: s.id, organizationId: s.organizationId, ...changed, changedBy: cmd.actor.userId, changedAt: cmd.now } };
        events.push(e);
        state = evolveChatSession(state, e);
      }
      const done: Directive[] = [];
      for (const d of Object.keys(DIRECTIVES) as Directive[]) {
        const given = cmd[d];
        if (given === undefined || given === false) continue;
        const { from } = DIRECTIVES[d];
        if (state.status !== from) {
          // Named as it is (nothing of this PATCH is kept), and as the directives before would have left it.
          const after = done.length > 0 ? ` (after ${done.join(', ')} it would be ${state.status})` : '';
          throw new ParleyError('CONFLICT', `Chat session ${s.id} is ${s.status}: ${d} needs it ${from}${after}`, { state: s.status, directive: d });
        }
        done.push(d);
        const e = directiveEvent(d, state, cmd, reasonOf(given));
        events.push(e);
        state = evolveChatSession(state, e);
      }
      return events;
    }
  }
}

export function evolveChatSession(s: ChatSessionState, e: ChatSessionDomainEvent): ChatSessionState {
  const version = s.version + 1;
  switch (e.type) {
    case 'ChatSessionCreatedEvent': {
      const { chatSessionId, organizationId, createdBy, createdAt, type, participants, room, title } = e.data;
      return { status: 'created', version, id: chatSessionId, organizationId, createdBy, createdAt, type, participants, ...(room !== undefined ? { room } : {}), ...(title !== undefined ? { title } : {}) };
    }
    case 'ChatSessionChangedEvent': {
      const { type, room, participants, title } = e.data;
      return { ...s, version, ...(type !== undefined ? { type } : {}), ...(room !== undefined ? { room } : {}), ...(participants !== undefined ? { participants } : {}), ...(title !== undefined ? { title } : {}) };
    }
    case 'ChatSessionStartedEvent':
      return { ...s, version, status: DIRECTIVES.start.to, startedAt: e.data.startedAt, startedBy: e.data.startedBy };
    case 'ChatSessionAcceptedEvent':
      return { ...s, version, status: DIRECTIVES.accept.to, acceptedAt: e.data.acceptedAt, acceptedBy: e.data.acceptedBy };
    case 'ChatSessionRejectedEvent':
      return { ...s, version, status: DIRECTIVES.reject.to, rejectedAt: e.data.rejectedAt, rejectedBy: e.data.rejectedBy, ...(e.data.rejectReason !== undefined ? { rejectReason: e.data.rejectReason } : {}) };
    case 'ChatSessionFinishedEvent':
      return { ...s, version, status: DIRECTIVES.finish.to, finishedAt: e.data.finishedAt, finishedBy: e.data.finishedBy, ...(e.data.finishReason !== undefined ? { finishReason: e.data.finishReason } : {}) };
  }
}

export const chatSessionDecider: Decider<ChatSessionCommand, ChatSessionDomainEvent, ChatSessionState> = { initialState: initialChatSessionState, decide: decideChatSession, evolve: evolveChatSession };

const ms = (iso: string | undefined): number | undefined => (iso === undefined ? undefined : Date.parse(iso));

/** The session as the telemedicine API shows it (times in epoch milliseconds; absent fields left out). */
export function toChatSession(s: ChatSessionState): ChatSession {
  const view: ChatSession = {
    id: s.id,
    createdAt: Date.parse(s.createdAt),
    createdBy: s.createdBy,
    type: s.type,
    room: s.room,
    title: s.title,
    state: s.status === 'none' ? 'created' : s.status,
    startedAt: ms(s.startedAt),
    startedBy: s.startedBy,
    acceptedAt: ms(s.acceptedAt),
    acceptedBy: s.acceptedBy,
    rejectedAt: ms(s.rejectedAt),
    rejectedBy: s.rejectedBy,
    rejectReason: s.rejectReason,
    finishedAt: ms(s.finishedAt),
    finishedBy: s.finishedBy,
    finishReason: s.finishReason,
    participants: s.participants,
    version: s.version,
  };
  return Object.fromEntries(Object.entries(view).filter(([, v]) => v !== undefined)) as unknown as ChatSession;
}
