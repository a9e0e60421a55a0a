import { INTERACTION_CONTEXT, TALKDESK_CONTACT_KEY, type Interaction, type InteractionDomainEvent, type InteractionPageQuery, type InteractionSortProperty } from '@parley/contracts';
import type { SqlExecutor } from '@parley/eventsourcing';
import { eventProjection, stateProjection, tableOf } from '@parley/service-kit';
import { type InteractionState, evolve, initialState } from '../domain/decider';

/**
 * The `interaction_views` read model (a state projection): one row per interaction, written in
 * the same transaction as its events. The range query of GET /interactions reads it through
 * `(organization_id, created_at, id)`; a `params` filter is `data @> {…}`, which the GIN index
 * (jsonb_path_ops) answers.
 */
const VIEWS = { name: 'interaction_views', version: 1 };
const TABLE = tableOf(VIEWS);

async function saveView(sql: SqlExecutor, t: string, s: InteractionState): Promise<void> {
  await sql.query(
    `insert into ${t} (organization_id, interaction_id, created_by, created_at, type, data, version) values ($1, $2, $3, $4, $5, $6, $7)
     on conflict (organization_id, interaction_id) do update set type = excluded.type, data = excluded.data, version = excluded.version
     where ${t}.version < excluded.version`,
    [s.organizationId, s.id, s.createdBy, s.createdAt, s.type ?? null, JSON.stringify(s.data), s.version],
  );
}

export const interactionViews = stateProjection<InteractionState>({
  ...VIEWS,
  context: INTERACTION_CONTEXT,
  schema: (t) => [
    `create table ${t} (
      organization_id text not null,
      interaction_id text not null,
      created_by text not null,
      created_at timestamptz not null,
      type text,
      data jsonb not null,
      version int not null,
      primary key (organization_id, interaction_id)
    )`,
    `create index ${t}_created on ${t} (organization_id, created_at, interaction_id)`,
    `create index ${t}_data on ${t} using gin (data jsonb_path_ops)`,
  ],
  initialState,
  evolve: (s, e) => evolve(s, e as InteractionDomainEvent),
  save: saveView,
});

/**
 * `interaction_counts` (inline, in the append's transaction): how many interactions each
 * organization created in each hour (hours since the epoch, so no time zone moves them). A page
 * of GET /interactions without `params` counts its whole hours here and only its partial first
 * and last hours in the view, so its totalElements costs the same over a day or a year.
 */
const COUNTS = { name: 'interaction_counts', version: 1 };
const COUNTS_TABLE = tableOf(COUNTS);

export const interactionCounts = eventProjection({
  ...COUNTS,
  mode: 'inline',
  eventTypes: ['InteractionCreatedEvent'],
  schema: (t) => [`create table ${t} (organization_id text not null, hour bigint not null, n bigint not null, primary key (organization_id, hour))`],
  async apply(sql, t, e) {
    const d = e.data as { organizationId: string; createdAt: string };
    await sql.query(`insert into ${t} as c values ($1, floor(extract(epoch from $2::timestamptz) / 3600), 1) on conflict (organization_id, hour) do update set n = c.n + 1`, [d.organizationId, d.createdAt]);
  },
});

/** The interactions of [$2, $3) of organization $1, counted: whole hours from interaction_counts, the partial ones in the view. */
const COUNT_BY_HOURS = `
  with b as (select ceil(extract(epoch from $2::timestamptz) / 3600)::bigint as lo, floor(extract(epoch from $3::timestamptz) / 3600)::bigint as hi)
  select case when b.lo >= b.hi then (select count(*) from ${TABLE} where organization_id = $1 and created_at >= $2 and created_at < $3)
    else (select coalesce(sum(n), 0) from ${COUNTS_TABLE} where organization_id = $1 and hour >= b.lo and hour < b.hi)
      + (select count(*) from ${TABLE} where organization_id = $1 and created_at >= $2 and created_at < to_timestamp(b.lo * 3600))
      + (select count(*) from ${TABLE} where organization_id = $1 and created_at >= to_timestamp(b.hi * 3600) and created_at < $3)
    end as n
  from b`;

interface Row {
  organization_id: string;
  interaction_id: string;
  created_by: string;
  created_at: Date | string;
  type: string | null;
  data: Record<string, unknown> | string;
  version: number;
}

const toInteraction = (r: Row): Interaction => ({
  id: r.interaction_id,
  organizationId: r.organization_id,
  createdBy: r.created_by,
  createdAt: new Date(r.created_at).toISOString(),
  ...(r.type !== null ? { type: r.type } : {}),
  data: typeof r.data === 'string' ? (JSON.parse(r.data) as Record<string, unknown>) : r.data,
  version: r.version,
});

/** Columns by the spec's property names (a fixed list: nothing of the request reaches the SQL text but these). */
const COLUMN: Record<InteractionSortProperty, string> = { createdAt: 'created_at', type: 'type', id: 'interaction_id' };

/**
 * One page of the organization's interactions created in [start, end) whose data holds every
 * `params` pair, in the order asked (then by id, so pages never overlap), and how many match
 * (without `params`, by hours: COUNT_BY_HOURS).
 */
export async function interactionsPage(sql: SqlExecutor, organizationId: string, q: InteractionPageQuery): Promise<{ content: Interaction[]; total: number }> {
  const values: unknown[] = [organizationId, q.start, q.end];
  let where = `organization_id = $1 and created_at >= $2 and created_at < $3`;
  const filtered = Object.keys(q.params).length > 0;
  if (filtered) {
    values.push(JSON.stringify(q.params));
    where += ` and data @> $${values.length}::jsonb`;
  }
  // Ties go by id in the direction of the first order, so the (created_at, interaction_id) index gives the rows in order either way.
  const tie = q.sort[0]?.direction ?? 'ASC';
  const order = [...q.sort.map((o) => `${COLUMN[o.property]} ${o.direction}`), `interaction_id ${tie}`].join(', ');
  const [{ rows }, counted] = await Promise.all([
    sql.query<Row>(`select * from ${TABLE} where ${where} order by ${order} limit ${q.size} offset ${q.page * q.size}`, values),
    sql.query<{ n: string | number }>(filtered ? `select count(*) as n from ${TABLE} where ${where}` : COUNT_BY_HOURS, values),
  ]);
  return { content: rows.map(toInteraction), total: Number(counted.rows[0].n) };
}

/** A Talkdesk contact's interactions (its id in the data), of `types` when given, newest first. */
export async function interactionsOfContact(sql: SqlExecutor, organizationId: string, contactId: string, types: string[] | undefined, limit: number): Promise<Interaction[]> {
  const values: unknown[] = [organizationId, JSON.stringify({ [TALKDESK_CONTACT_KEY]: contactId })];
  let where = 'organization_id = $1 and data @> $2::jsonb';
  if (types) {
    values.push(types);
    where += ' and type = any($3::text[])';
  }
  const { rows } = await sql.query<Row>(`select * from ${TABLE} where ${where} order by created_at desc, interaction_id limit ${limit}`, values);
  return rows.map(toInteraction);
}
