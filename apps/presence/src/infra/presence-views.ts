import type { EndpointHealth, UserEndpointView } from '@parley/contracts';
import type { EventStore, SqlExecutor } from '@parley/eventsourcing';
import { type EndpointState, nextDue } from '../domain/decider';

/**
 * The presence service's read models, in its own database:
 * - `presence_endpoints`: one row per endpoint, written in the same transaction as its events,
 *   with `next_due` (the next instant the scheduler must look at it) indexed;
 * - `presence_participations`: which endpoint is joined to which conference, kept from the
 *   conference service's events (a durable consumer), so expiry knows what to leave.
 */
const SCHEMA = [
  `create table if not exists presence_endpoints (
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
  'create index if not exists presence_endpoints_due on presence_endpoints (next_due) where next_due is not null',
  'create index if not exists presence_endpoints_user on presence_endpoints (organization_id, user_id) where registered',
  `create table if not exists presence_participations (
    organization_id text not null,
    user_endpoint_id text not null,
    conference_id text not null,
    primary key (organization_id, user_endpoint_id, conference_id)
  )`,
  'create index if not exists presence_participations_conference on presence_participations (organization_id, conference_id)',
];

export async function preparePresenceViews(store: EventStore): Promise<void> {
  await store.transaction(async (sql) => {
    for (const statement of SCHEMA) await sql.query(statement);
  });
}

export async function saveEndpoint(sql: SqlExecutor, s: EndpointState): Promise<void> {
  await sql.query(
    `insert into presence_endpoints (organization_id, user_endpoint_id, user_id, registered, health, keep_alive_seconds, reminder_on, last_seen, next_due, version)
     values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
     on conflict (organization_id, user_endpoint_id) do update set user_id = excluded.user_id, registered = excluded.registered, health = excluded.health,
       keep_alive_seconds = excluded.keep_alive_seconds, reminder_on = excluded.reminder_on, last_seen = excluded.last_seen, next_due = excluded.next_due, version = excluded.version
     where presence_endpoints.version < excluded.version`,
    [s.organizationId, s.userEndpointId, s.userId, s.status === 'registered', s.health, s.keepAliveSeconds, s.reminderOn, s.lastSeen, nextDue(s) ?? null, s.version],
  );
}

export interface EndpointKey {
  organizationId: string;
  userEndpointId: string;
}

/** Endpoints with a deadline at or before `now`, soonest first. */
export async function dueEndpoints(sql: SqlExecutor, now: Date, limit: number): Promise<EndpointKey[]> {
  const { rows } = await sql.query<{ organization_id: string; user_endpoint_id: string }>(
    'select organization_id, user_endpoint_id from presence_endpoints where next_due <= $1 order by next_due limit $2',
    [now.toISOString(), limit],
  );
  return rows.map((r) => ({ organizationId: r.organization_id, userEndpointId: r.user_endpoint_id }));
}

/** The registered endpoints of a user, or the one named (if registered and the user's). */
export async function endpointsOfUser(sql: SqlExecutor, organizationId: string, userId: string, userEndpointId?: string): Promise<string[]> {
  const { rows } = await sql.query<{ user_endpoint_id: string }>(
    `select user_endpoint_id from presence_endpoints where organization_id = $1 and user_id = $2 and registered ${userEndpointId ? 'and user_endpoint_id = $3' : ''} order by user_endpoint_id`,
    userEndpointId ? [organizationId, userId, userEndpointId] : [organizationId, userId],
  );
  return rows.map((r) => r.user_endpoint_id);
}

export async function findEndpoint(sql: SqlExecutor, organizationId: string, userEndpointId: string): Promise<UserEndpointView | undefined> {
  const { rows } = await sql.query<{ user_id: string; health: string; keep_alive_seconds: number; reminder_on: boolean; last_seen: Date | string }>(
    'select user_id, health, keep_alive_seconds, reminder_on, last_seen from presence_endpoints where organization_id = $1 and user_endpoint_id = $2 and registered',
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

export async function addParticipation(sql: SqlExecutor, organizationId: string, userEndpointId: string, conferenceId: string): Promise<void> {
  await sql.query('insert into presence_participations values ($1, $2, $3) on conflict do nothing', [organizationId, userEndpointId, conferenceId]);
}

export async function removeParticipation(sql: SqlExecutor, organizationId: string, userEndpointId: string, conferenceId: string): Promise<void> {
  await sql.query('delete from presence_participations where organization_id = $1 and user_endpoint_id = $2 and conference_id = $3', [organizationId, userEndpointId, conferenceId]);
}

export async function endConference(sql: SqlExecutor, organizationId: string, conferenceId: string): Promise<void> {
  await sql.query('delete from presence_participations where organization_id = $1 and conference_id = $2', [organizationId, conferenceId]);
}

export async function conferencesOf(sql: SqlExecutor, organizationId: string, userEndpointId: string): Promise<string[]> {
  const { rows } = await sql.query<{ conference_id: string }>(
    'select conference_id from presence_participations where organization_id = $1 and user_endpoint_id = $2 order by conference_id',
    [organizationId, userEndpointId],
  );
  return rows.map((r) => r.conference_id);
}

export async function endpointsInConference(sql: SqlExecutor, organizationId: string, conferenceId: string): Promise<string[]> {
  const { rows } = await sql.query<{ user_endpoint_id: string }>(
    'select user_endpoint_id from presence_participations where organization_id = $1 and conference_id = $2 order by user_endpoint_id',
    [organizationId, conferenceId],
  );
  return rows.map((r) => r.user_endpoint_id);
}
