import {
  CONFERENCE_CONTEXT,
  CONFERENCE_EVENT_TYPES,
  EVENTS_SUBJECT_ROOT,
  type EndpointHealth,
  USER_ENDPOINT_CONTEXT,
  type UserEndpointDomainEvent,
  type UserEndpointView,
  conferenceOfStream,
  toFeedEvent,
} from '@parley/contracts';
import type { SqlExecutor } from '@parley/eventsourcing';
import { deliverToEndpoints } from '@parley/messaging';
import { jetStreamProjection, stateProjection, tableOf } from '@parley/service-kit';
import { type EndpointState, evolve, initialState, nextDue } from '../domain/decider';

/**
 * The presence service's read models, in its own database, as projections:
 * - `presence_endpoints` (state): one row per endpoint, written in the same transaction as its
 *   events, with `next_due` (the next instant the scheduler must look at it) indexed;
 * - `presence_participations` (jetstream): which endpoint is joined to which conference, from the
 *   conference service's events, so an expiring endpoint knows what to leave without asking the
 *   conference service's database. Each conference event is then pushed, in the feed's shape, to
 *   the sessions of the endpoints joined to it (qos 0, live only: one that connects later reads
 *   the conference's feed, and nothing waits in a queue for an endpoint staff joined without
 *   registering it): the joining endpoint gets its own ConferenceJoinedEvent, the leaving one its
 *   ConferenceLeftEvent.
 */
const ENDPOINTS = tableOf({ name: 'presence_endpoints', version: 1 });
const PARTICIPATIONS = tableOf({ name: 'presence_participations', version: 1 });

/** Conference events older than this when first seen are not pushed (a new consumer replaying history builds participations only). */
export const PUSH_HORIZON_MS = 5 * 60 * 1000;

async function saveEndpoint(sql: SqlExecutor, t: string, s: EndpointState): Promise<void> {
  await sql.query(
    `insert into ${t} (organization_id, user_endpoint_id, user_id, registered, health, keep_alive_seconds, reminder_on, last_seen, next_due, version)
     values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
     on conflict (organization_id, user_endpoint_id) do update set user_id = excluded.user_id, registered = excluded.registered, health = excluded.health,
       keep_alive_seconds = excluded.keep_alive_seconds, reminder_on = excluded.reminder_on, last_seen = excluded.last_seen, next_due = excluded.next_due, version = excluded.version
     where ${t}.version < excluded.version`,
    [s.organizationId, s.userEndpointId, s.userId, s.status === 'registered', s.health, s.keepAliveSeconds, s.reminderOn, s.lastSeen, nextDue(s) ?? null, s.version],
  );
}

export const presenceEndpoints = stateProjection<EndpointState>({
  name: 'presence_endpoints',
  version: 1,
  context: USER_ENDPOINT_CONTEXT,
  schema: (t) => [
    `create table ${t} (
      organization_id text not null,
      user_endpoint_id text not null,
      user_id text not null,
      registered boolean not null,
      health text not null,
      keep_alive_seconds int not null,
      reminder_on boolean not null,
      last_seen timestamptz not null,
      next_due timestamptz,
      version int not null,
      primary key (organization_id, user_endpoint_id)
    )`,
    `create index ${t}_due on ${t} (next_due) where next_due is not null`,
    `create index ${t}_user on ${t} (organization_id, user_id) where registered`,
  ],
  initialState,
  evolve: (s, e) => evolve(s, e as UserEndpointDomainEvent),
  save: saveEndpoint,
});

export const presenceParticipations = jetStreamProjection<string[]>({
  name: 'presence_participations',
  version: 1,
  subject: `${EVENTS_SUBJECT_ROOT}.${CONFERENCE_CONTEXT}.>`,
  eventTypes: CONFERENCE_EVENT_TYPES,
  schema: (t) => [
    `create table ${t} (
      organization_id text not null,
      user_endpoint_id text not null,
      conference_id text not null,
      primary key (organization_id, user_endpoint_id, conference_id)
    )`,
    `create index ${t}_conference on ${t} (organization_id, conference_id)`,
  ],
  // The participation change, and who is joined to receive the event (the joining endpoint included, the leaving one still
  // included), in one statement: a data-modifying WITH runs on the same snapshot as the SELECT, which sees the rows as they
  // were before it (so the leaving endpoint is still listed, and the joining one comes from the INSERT's RETURNING).
  async apply(sql, t, e) {
    const conference = conferenceOfStream(e.streamId, e.metadata.organizationId);
    if (!conference) return [];
    const { organizationId, conferenceId } = conference;
    const endpointOf = (e.data as { userEndpointId?: string }).userEndpointId;
    const joined = `select user_endpoint_id from ${t} where organization_id = $1 and conference_id = $2`;
    const [text, values] =
      e.type === 'ConferenceJoinedEvent' && endpointOf
        ? [`with added as (insert into ${t} values ($1, $3, $2) on conflict do nothing returning user_endpoint_id) ${joined} union select user_endpoint_id from added`, [organizationId, conferenceId, endpointOf]]
        : e.type === 'ConferenceLeftEvent' && endpointOf
          ? [`with gone as (delete from ${t} where organization_id = $1 and conference_id = $2 and user_endpoint_id = $3) ${joined}`, [organizationId, conferenceId, endpointOf]]
          : e.type === 'ConferenceEndedEvent'
            ? [`delete from ${t} where organization_id = $1 and conference_id = $2 returning user_endpoint_id`, [organizationId, conferenceId]]
            : [joined, [organizationId, conferenceId]];
    const { rows } = await sql.query<{ user_endpoint_id: string }>(text, values);
    return rows.map((r) => r.user_endpoint_id).sort();
  },
  async then(e, recipients, kit) {
    const conference = conferenceOfStream(e.streamId, e.metadata.organizationId);
    if (!conference || recipients.length === 0 || kit.clock.now() - Date.parse(e.metadata.time) >= PUSH_HORIZON_MS) return;
    // Live only: an endpoint that connects later reads the conference's feed from the version it knows.
    await deliverToEndpoints(
      kit.nc,
      recipients.map((userEndpointId) => ({ organizationId: conference.organizationId, userEndpointId })),
      { id: e.eventId, qos: 0, event: toFeedEvent(conference.conferenceId, e) as unknown as Record<string, unknown> },
      { liveOnly: true },
    );
  },
});

export interface EndpointKey {
  organizationId: string;
  userEndpointId: string;
}

/** Endpoints with a deadline at or before `now`, soonest first. */
export async function dueEndpoints(sql: SqlExecutor, now: Date, limit: number): Promise<EndpointKey[]> {
  const { rows } = await sql.query<{ organization_id: string; user_endpoint_id: string }>(
    `select organization_id, user_endpoint_id from ${ENDPOINTS} where next_due <= $1 order by next_due limit $2`,
    [now.toISOString(), limit],
  );
  return rows.map((r) => ({ organizationId: r.organization_id, userEndpointId: r.user_endpoint_id }));
}

/** The registered endpoints of a user, or the one named (if registered and the user's). */
export async function endpointsOfUser(sql: SqlExecutor, organizationId: string, userId: string, userEndpointId?: string): Promise<string[]> {
  const { rows } = await sql.query<{ user_endpoint_id: string }>(
    `select user_endpoint_id from ${ENDPOINTS} where organization_id = $1 and user_id = $2 and registered ${userEndpointId ? 'and user_endpoint_id = $3' : ''} order by user_endpoint_id`,
    userEndpointId ? [organizationId, userId, userEndpointId] : [organizationId, userId],
  );
  return rows.map((r) => r.user_endpoint_id);
}

/** The registered endpoints of any of `userIds`. */
export async function endpointsOfUsers(sql: SqlExecutor, organizationId: string, userIds: string[]): Promise<string[]> {
  if (userIds.length === 0) return [];
  const { rows } = await sql.query<{ user_endpoint_id: string }>(
    `select user_endpoint_id from ${ENDPOINTS} where organization_id = $1 and user_id = any($2::text[]) and registered order by user_endpoint_id`,
    [organizationId, userIds],
  );
  return rows.map((r) => r.user_endpoint_id);
}

export async function findEndpoint(sql: SqlExecutor, organizationId: string, userEndpointId: string): Promise<UserEndpointView | undefined> {
  const { rows } = await sql.query<{ user_id: string; health: string; keep_alive_seconds: number; reminder_on: boolean; last_seen: Date | string }>(
    `select user_id, health, keep_alive_seconds, reminder_on, last_seen from ${ENDPOINTS} where organization_id = $1 and user_endpoint_id = $2 and registered`,
    [organizationId, userEndpointId],
  );
  const r = rows[0];
  if (!r) return undefined;
  return {
    id: userEndpointId,
    userId: r.user_id,
    organizationId,
    state: r.health as EndpointHealth,
    keepAliveSeconds: r.keep_alive_seconds,
    serverKeepAliveReminderOn: r.reminder_on,
    lastSeen: new Date(r.last_seen).toISOString(),
  };
}

export async function conferencesOf(sql: SqlExecutor, organizationId: string, userEndpointId: string): Promise<string[]> {
  const { rows } = await sql.query<{ conference_id: string }>(
    `select conference_id from ${PARTICIPATIONS} where organization_id = $1 and user_endpoint_id = $2 order by conference_id`,
    [organizationId, userEndpointId],
  );
  return rows.map((r) => r.conference_id);
}

export async function endpointsInConference(sql: SqlExecutor, organizationId: string, conferenceId: string): Promise<string[]> {
  const { rows } = await sql.query<{ user_endpoint_id: string }>(
    `select user_endpoint_id from ${PARTICIPATIONS} where organization_id = $1 and conference_id = $2 order by user_endpoint_id`,
    [organizationId, conferenceId],
  );
  return rows.map((r) => r.user_endpoint_id);
}
