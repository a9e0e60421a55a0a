import type { Conference } from '@parley/contracts';
import { CONFERENCE_STREAM_PREFIX, type ConferenceDomainEvent } from '@parley/contracts';
import { type EventStore, type SqlExecutor, START } from '@parley/eventsourcing';
import { evolve } from '../domain/decider';
import { type ConferenceState, initialState } from '../domain/state';
import { toConferenceView } from '../domain/views';

/**
 * The `conference_views` read model: one row per conference, written inline in the same
 * transaction as the events it reflects (so /active never lags a command), and rebuilt from
 * the event store when the table is empty.
 */
const SCHEMA = [
  `create table if not exists conference_views (
    conference_id text primary key,
    organization_id text not null,
    ended boolean not null,
    version int not null,
    created_at timestamptz not null default now(),
    doc jsonb not null
  )`,
  'create index if not exists conference_views_active on conference_views (organization_id, created_at) where not ended',
];

export async function saveConferenceView(sql: SqlExecutor, view: Conference): Promise<void> {
  await sql.query(
    `insert into conference_views (conference_id, organization_id, ended, version, doc) values ($1, $2, $3, $4, $5)
     on conflict (conference_id) do update set ended = excluded.ended, version = excluded.version, doc = excluded.doc
     where conference_views.version < excluded.version`,
    [view.id, view.organizationId, view.ended === true, view.version, JSON.stringify(view)],
  );
}

export async function activeConferences(sql: SqlExecutor, organizationId: string): Promise<Conference[]> {
  const { rows } = await sql.query<{ doc: Conference | string }>(
    'select doc from conference_views where organization_id = $1 and not ended order by created_at, conference_id',
    [organizationId],
  );
  return rows.map((r) => (typeof r.doc === 'string' ? (JSON.parse(r.doc) as Conference) : r.doc));
}

/**
 * Creates the table and, when it is empty while the store has conference events (a new
 * deployment of the read model, or a dropped table), rebuilds it by folding every stream.
 */
export async function prepareConferenceViews(store: EventStore): Promise<void> {
  await store.transaction(async (sql) => {
    for (const statement of SCHEMA) await sql.query(statement);
  });
  const { rows } = await store.transaction((sql) => sql.query<{ n: string | number }>('select count(*) as n from conference_views'));
  if (Number(rows[0].n) > 0) return;
  const states = new Map<string, ConferenceState>();
  for (let pos = START; ; ) {
    const batch = await store.readAll(pos, 1000);
    if (batch.length === 0) break;
    for (const e of batch) {
      if (!e.streamId.startsWith(CONFERENCE_STREAM_PREFIX)) continue;
      const id = e.streamId.slice(CONFERENCE_STREAM_PREFIX.length);
      states.set(id, evolve(states.get(id) ?? initialState(), e as unknown as ConferenceDomainEvent));
    }
    const last = batch[batch.length - 1];
    pos = { transactionId: last.transactionId, globalPosition: last.globalPosition };
  }
  if (states.size === 0) return;
  await store.transaction(async (sql) => {
    for (const s of states.values()) await saveConferenceView(sql, toConferenceView(s));
  });
}
