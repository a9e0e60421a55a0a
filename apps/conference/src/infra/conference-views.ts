import { CONFERENCE_CONTEXT, type Conference, type ConferenceDomainEvent, conferenceStreamId, pageOf, parseScopedStreamId } from '@parley/contracts';
import { type EventStore, type SqlExecutor, START } from '@parley/eventsourcing';
import { evolve } from '../domain/decider';
import { type ConferenceState, initialState } from '../domain/state';
import { toConferenceView } from '../domain/views';

/**
 * The `conference_views_v2` read model: one row per conference (conference ids are unique per
 * organization), written inline in the same transaction as the events it reflects (so /active
 * never lags a command), and rebuilt from the event store when the table is empty. v1
 * (`conference_views`, keyed by the conference id alone) is dropped.
 */
const SCHEMA = [
  'drop table if exists conference_views',
  `create table if not exists conference_views_v2 (
    organization_id text not null,
    conference_id text not null,
    creator text not null,
    ended boolean not null,
    version int not null,
    created_at timestamptz not null default now(),
    doc jsonb not null,
    primary key (organization_id, conference_id)
  )`,
  'create index if not exists conference_views_v2_active on conference_views_v2 (organization_id, created_at, conference_id) where not ended',
  'create index if not exists conference_views_v2_creator on conference_views_v2 (organization_id, creator) where not ended',
];

/**
 * Streams recorded before conference ids were scoped by organization were `conference-<id>`;
 * they become `conference/<organizationId>/<id>` (the organization is in each event's metadata).
 * Idempotent: once done it matches nothing.
 */
const MIGRATE_LEGACY_STREAMS = `
  update events set stream_id = 'conference/' || (metadata->>'organizationId') || '/' || substr(stream_id, length('conference-') + 1)
  where stream_id like 'conference-%'`;

export async function saveConferenceView(sql: SqlExecutor, view: Conference): Promise<void> {
  await sql.query(
    `insert into conference_views_v2 (organization_id, conference_id, creator, ended, version, doc) values ($1, $2, $3, $4, $5, $6)
     on conflict (organization_id, conference_id) do update set ended = excluded.ended, version = excluded.version, doc = excluded.doc
     where conference_views_v2.version < excluded.version`,
    [view.organizationId, view.id, view.creator, view.ended === true, view.version, JSON.stringify(view)],
  );
}

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
 * cursor of the next page when there may be more.
 */
export async function activeConferences(sql: SqlExecutor, organizationId: string, after?: ActiveCursor): Promise<{ conferences: Conference[]; next?: ActiveCursor }> {
  const { rows } = await sql.query<{ doc: Conference | string; created_at: string }>(
    `select doc, created_at::text as created_at from conference_views_v2 where organization_id = $1 and not ended
       and ($2::timestamptz is null or (created_at, conference_id) > ($2::timestamptz, $3::text))
     order by created_at, conference_id limit $4`,
    [organizationId, after?.createdAt ?? null, after?.conferenceId ?? '', ACTIVE_ROWS],
  );
  const conferences = pageOf(rows.map((r) => (typeof r.doc === 'string' ? (JSON.parse(r.doc) as Conference) : r.doc)));
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
    'select count(*) as n from (select 1 from conference_views_v2 where organization_id = $1 and creator = $2 and not ended limit $3) as active',
    [organizationId, creator, upTo],
  );
  return Number(rows[0]?.n ?? 0);
}

/**
 * Migrates legacy stream ids, creates the table and, when it is empty while the store has
 * conference events (a new deployment of the read model, or a dropped table), rebuilds it by
 * folding every stream.
 */
export async function prepareConferenceViews(store: EventStore): Promise<void> {
  await store.transaction(async (sql) => {
    await sql.query(MIGRATE_LEGACY_STREAMS);
    for (const statement of SCHEMA) await sql.query(statement);
  });
  const { rows } = await store.transaction((sql) => sql.query<{ n: string | number }>('select count(*) as n from conference_views_v2'));
  if (Number(rows[0].n) > 0) return;
  const states = new Map<string, ConferenceState>();
  for (let pos = START; ; ) {
    const batch = await store.readAll(pos, 1000);
    if (batch.length === 0) break;
    for (const e of batch) {
      const scoped = parseScopedStreamId(CONFERENCE_CONTEXT, e.streamId);
      if (!scoped) continue;
      const key = conferenceStreamId(scoped.organizationId, scoped.id);
      states.set(key, evolve(states.get(key) ?? initialState(), e as unknown as ConferenceDomainEvent));
    }
    const last = batch[batch.length - 1];
    pos = { transactionId: last.transactionId, globalPosition: last.globalPosition };
  }
  if (states.size === 0) return;
  await store.transaction(async (sql) => {
    for (const s of states.values()) await saveConferenceView(sql, toConferenceView(s));
  });
}
