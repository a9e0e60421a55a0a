import { CHAT_SESSION_CONTEXT, CHAT_SESSION_EVENT_TYPES, EVENTS_SUBJECT_ROOT, chatSessionPush, parseScopedStreamId } from '@parley/contracts';
import { deliverToEndpoints } from '@parley/messaging';
import { jetStreamProjection } from '@parley/service-kit';
import { PUSH_HORIZON_MS, endpointsInConference, endpointsOfUsers } from './presence-views';

/** Who hears of one chat session event: its participants (users) and the conferences its room names. */
export interface ChatSessionAudience {
  users: string[];
  rooms: string[];
}

/**
 * `presence_chat_sessions` (a jetstream projection of the interaction service's chat session
 * events): each session's participants and room. Each event is then pushed, as a
 * ChatSessionPush, to the registered endpoints of the participants (before and after a change of
 * participants: one taken out hears that it was) and to the endpoints joined to the conference
 * its room names (before and after a change of room), each once.
 * - Participants' endpoints get it qos 0 and, when they have no session, in their queue: a
 *   patient whose app is closed sees the doctor's start when it connects.
 * - The room's conference endpoints get it live only, as the conference's own events: they
 *   follow the session while they are in the call.
 */
export const presenceChatSessions = jetStreamProjection<ChatSessionAudience>({
  name: 'presence_chat_sessions',
  version: 1,
  subject: `${EVENTS_SUBJECT_ROOT}.${CHAT_SESSION_CONTEXT}.>`,
  eventTypes: CHAT_SESSION_EVENT_TYPES,
  schema: (t) => [
    `create table ${t} (
      organization_id text not null,
      chat_session_id text not null,
      participants text[] not null,
      room text,
      primary key (organization_id, chat_session_id)
    )`,
  ],
  // Idempotent: a create that is there already, or a change applied again, leaves the row as it is.
  async apply(sql, t, e) {
    const session = parseScopedStreamId(CHAT_SESSION_CONTEXT, e.streamId);
    if (!session) return { users: [], rooms: [] };
    const d = e.data as { participants?: string[]; room?: string };
    const key = [session.organizationId, session.id];
    type Row = { participants: string[]; room: string | null; participants_before: string[] | null; room_before: string | null };
    const [text, values] =
      e.type === 'ChatSessionCreatedEvent'
        ? [
            `insert into ${t} as s values ($1, $2, $3, $4) on conflict (organization_id, chat_session_id) do update set participants = s.participants
             returning participants, room, null::text[] as participants_before, null::text as room_before`,
            [...key, d.participants ?? [], d.room ?? null],
          ]
        : e.type === 'ChatSessionChangedEvent'
          ? [
              // The UPDATE's RETURNING sees the new row; the CTE's SELECT, on the statement's snapshot, the row before it.
              `with before as (select participants, room from ${t} where organization_id = $1 and chat_session_id = $2),
                    after as (update ${t} set participants = coalesce($3::text[], participants), room = coalesce($4, room) where organization_id = $1 and chat_session_id = $2 returning participants, room)
               select after.participants, after.room, before.participants as participants_before, before.room as room_before from after, before`,
              [...key, d.participants ?? null, d.room ?? null],
            ]
          : [`select participants, room, null::text[] as participants_before, null::text as room_before from ${t} where organization_id = $1 and chat_session_id = $2`, key];
    const { rows } = await sql.query<Row>(text, values);
    const r = rows[0];
    if (!r) return { users: [], rooms: [] };
    const unique = (xs: Array<string | null | undefined>) => [...new Set(xs.filter((x): x is string => !!x))].sort();
    return { users: unique([...(r.participants_before ?? []), ...r.participants]), rooms: unique([r.room_before, r.room]) };
  },
  async then(e, audience, kit) {
    const push = chatSessionPush(e);
    if (!push || kit.clock.now() - Date.parse(e.metadata.time) >= PUSH_HORIZON_MS) return;
    const { organizationId } = push;
    const toUsers = await endpointsOfUsers(kit.store, organizationId, audience.users);
    const inRooms = (await Promise.all(audience.rooms.map((room) => endpointsInConference(kit.store, organizationId, room)))).flat();
    const toRooms = [...new Set(inRooms)].filter((ep) => !toUsers.includes(ep));
    const delivery = { id: e.eventId, qos: 0 as const, event: push };
    const targets = (eps: string[]) => eps.map((userEndpointId) => ({ organizationId, userEndpointId }));
    await Promise.all([deliverToEndpoints(kit.nc, targets(toUsers), delivery), deliverToEndpoints(kit.nc, targets(toRooms), delivery, { liveOnly: true })]);
  },
});
