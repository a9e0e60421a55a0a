import { CONFERENCE_CONTEXT, type Conference, type ConferenceDomainEvent, pageOf } from '@parley/contracts';
import { type SqlExecutor, jsonColumn } from '@parley/eventsourcing';
import { stateProjection } from '@parley/service-kit';
import { evolve } from '../domain/decider';
import { type ConferenceState, initialState } from '../domain/state';
import { toConferenceView } from '../domain/views';

/**
 * The `conference_views` read model (a state projection): one row per conference (conference ids
 * are unique per organization), written inline in the same transaction as the events it reflects
 * (so /active never lags a command), rebuilt from the events by the kit whenever its version
 * changes or on request.
 */
// v3: created_at is the conference's creation time from its events (v2 took the clock of the first write, which a rebuild could not reproduce).
// v4: members (the creator and the joined users), so a customer's active list holds only its own conferences.
const VERSION = 4;
const TABLE = `conference_views_v${VERSION}`;

const schema = (t: string) => [
  `create table ${t} (
    organization_id text not null,
    conference_id text not null,
    creator text not null,
    members text[] not null,
    ended boolean not null,
    version int not null,
    created_at timestamptz not null,
    doc jsonb not null,
    primary key (organization_id, conference_id)
  )`,
  `create index ${t}_active on ${t} (organization_id, created_at, conference_id) where not ended`,
  `create index ${t}_creator on ${t} (organization_id, creator) where not ended`,
  `create index ${t}_members on ${t} using gin (members) where not ended`,
];

/**
 * Streams recorded before conference ids were scoped by organization were `conference-<id>`;
 * they become `conference/<organizationId>/<id>` (the organization is in each event's metadata).
 * Idempotent: once done it matches nothing.
 */
export const MIGRATE_LEGACY_STREAMS = `
  update events set stream_id = 'conference/' || (metadata->>'organizationId') || '/' || substr(stream_id, length('conference-') + 1)
  where stream_id like 'conference-%'`;

async function saveConferenceView(sql: SqlExecutor, table: string, state: ConferenceState): Promise<void> {
  const view = toConferenceView(state);
  const members = [...new Set([state.creator, ...state.participants.map((p) => p.userId)])];
  await sql.query(
    `insert into ${table} (organization_id, conference_id, creator, members, ended, version, created_at, doc) values ($1, $2, $3, $4, $5, $6, $7, $8)
     on conflict (organization_id, conference_id) do update set members = excluded.members, ended = excluded.ended, version = excluded.version, doc = excluded.doc
     where ${table}.version < excluded.version`,
    [view.organizationId, view.id, view.creator, members, view.ended === true, view.version, state.createdAt, JSON.stringify(view)],
  );
}

export const conferenceViews = stateProjection<ConferenceState>({
  name: 'conference_views',
  version: VERSION,
  context: CONFERENCE_CONTEXT,
  schema,
  initialState,
  evolve: (state, event) => evolve(state, event as ConferenceDomainEvent),
  save: saveConferenceView,
});

/** Where a page of active conferences ends: the next page starts after it. */
export interface ActiveCursor {
  /** created_at as PostgreSQL prints it (microseconds kept: a JavaScript Date would drop them). */
  createdAt: string;
  conferenceId: string;
}

/** Rows fetched per page before the byte budget cuts it. */
const ACTIVE_ROWS = 100;

/**
 * One page of the organization's active conferences, oldest first, after `after`: as many as fit
 * in Limits.pageBytes (at least one; each conference is at most Limits.conferenceBytes), and the
 * cursor of the next page when there may be more. With `member`, only those that user created or
 * is joined to.
 */
export async function activeConferences(sql: SqlExecutor, organizationId: string, after?: ActiveCursor, member?: string): Promise<{ conferences: Conference[]; next?: ActiveCursor }> {
  const { rows } = await sql.query<{ doc: Conference | string; created_at: string }>(
    `select doc, created_at::text as created_at from ${TABLE} where organization_id = $1 and not ended
       and ($2::timestamptz is null or (created_at, conference_id) > ($2::timestamptz, $3::text))
       and ($5::text is null or members @> array[$5::text])
     order by created_at, conference_id limit $4`,
    [organizationId, after?.createdAt ?? null, after?.conferenceId ?? '', ACTIVE_ROWS, member ?? null],
  );
  const conferences = pageOf(rows.map((r) => jsonColumn(r.doc)));
  const last = rows[conferences.length - 1];
  const more = conferences.length < rows.length || rows.length === ACTIVE_ROWS;
  return { conferences, ...(more && last ? { next: { createdAt: last.created_at, conferenceId: conferences[conferences.length - 1].id } } : {}) };
}

/**
 * Conferences `creator` created in the organization that have not ended (the per-user quota),
 * counted up to `upTo`: the quota only needs to know whether it is reached, so the cost stays
 * bounded however many there are.
 */
export async function activeConferencesCreatedBy(sql: SqlExecutor, organizationId: string, creator: string, upTo: number): Promise<number> {
  const { rows } = await sql.query<{ n: string | number }>(
    `select count(*) as n from (select 1 from ${TABLE} where organization_id = $1 and creator = $2 and not ended limit $3) as active`,
    [organizationId, creator, upTo],
  );
  return Number(rows[0]?.n ?? 0);
}
