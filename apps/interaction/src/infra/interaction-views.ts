import { createHash } from 'node:crypto';
import { INTERACTION_CONTEXT, TALKDESK_CONTACT_KEY, type Interaction, type InteractionDomainEvent, type InteractionPageQuery, type InteractionSortProperty } from '@parley/contracts';
import { QueryParams, type SqlExecutor, jsonColumn } from '@parley/eventsourcing';
import { companionOf, stateProjection, tableOf } from '@parley/service-kit';
import { type InteractionState, evolve, initialState } from '../domain/decider';

/**
 * The `interaction_views` read model (a state projection): one row per interaction, written in
 * the same transaction as its events. The range query of GET /interactions reads it through
 * `(organization_id, created_at, id)`; a `params` filter is `data @> {…}`, which the GIN index
 * (jsonb_path_ops) answers.
 */
const VIEWS = { name: 'interaction_views', version: 1 };
const TABLE = tableOf(VIEWS);

/** Hours since the epoch of an instant, in SQL (no time zone moves them). */
const hourOf = (instant: string) => `floor(extract(epoch from ${instant}) / 3600)::bigint`;

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
 * `interaction_pairs` (a state projection, in the append's transaction): one row per top-level
 * string value of each interaction's data, keyed by `pairKey(key, value)`, and one more for the
 * interaction itself (EVERY, an empty key), each with its createdAt; and, its companion `…_hours`,
 * how many interactions created in each hour (since the epoch: no time zone moves them) hold each
 * pair. A count of one pair, or of every interaction, sums its whole hours from `…_hours` and
 * counts only the partial first and last hours in the slice, so it costs the same over a day or a
 * year; several pairs' count is the intersection of their slices. A page with `params` in
 * createdAt order walks the first pair's slice of the primary key without a sort. An update
 * replaces the interaction's rows and moves its counts by the difference.
 */
const PAIRS = { name: 'interaction_pairs', version: 3 };
const PAIRS_TABLE = tableOf(PAIRS);
const HOURS = 'hours';

/**
 * A (key, string value) pair of the data as 16 bytes, in hex (the drivers pass text alike): the
 * first half of SHA-256 of `["key","value"]` as JSON, a fixed-size index key whatever the value's length.
 */
export const pairKey = (key: string, value: string): string => createHash('sha256').update(JSON.stringify([key, value])).digest('hex').slice(0, 32);

/** The key every interaction has: an empty one (no pairKey is empty). */
const EVERY = '';

const pairsOf = (data: Record<string, unknown>): string[] => [
  EVERY,
  ...Object.entries(data)
    .filter((kv): kv is [string, string] => typeof kv[1] === 'string')
    .map(([k, v]) => pairKey(k, v)),
];

export const interactionPairs = stateProjection<InteractionState>({
  ...PAIRS,
  companions: [HOURS],
  schema: (t) => [
    `create table ${t} (
      organization_id text not null,
      pair bytea not null,
      created_at timestamptz not null,
      interaction_id text not null,
      primary key (organization_id, pair, created_at, interaction_id)
    )`,
    `create index ${t}_interaction on ${t} (organization_id, interaction_id)`,
    `create table ${companionOf(t, HOURS)} (organization_id text not null, pair bytea not null, hour bigint not null, n bigint not null, primary key (organization_id, pair, hour))`,
  ],
  context: INTERACTION_CONTEXT,
  initialState,
  evolve: (s, e) => evolve(s, e as InteractionDomainEvent),
  // Counts move in the pairs' order, so two transactions that touch the same hours take their locks in one order; saving a
  // state again changes nothing.
  async save(sql, t, s) {
    const hours = companionOf(t, HOURS);
    const hour = hourOf('$3::timestamptz');
    const upsert = `on conflict (organization_id, pair, hour) do update set n = h.n + excluded.n`;
    // The interaction's rows ($1 its organization, $2 its id, $3 its createdAt, $4 its pairs' keys).
    const insertRows = `insert into ${t} select $1, decode(p, 'hex'), $3, $2 from unnest($4::text[]) p on conflict do nothing`;
    const now = pairsOf(s.data);
    if (s.version === 1) {
      // A create, in one statement: its rows, and one more in its hour for each pair whose row it added.
      await sql.query(
        `with added as (${insertRows} returning pair)
         insert into ${hours} as h select $1, pair, ${hour}, 1 from added order by pair ${upsert}`,
        [s.organizationId, s.id, s.createdAt, now],
      );
      return;
    }
    // An update: the rows written anew (the state does not say what changed), the counts moved by the difference.
    const { rows } = await sql.query<{ pair: string }>(`delete from ${t} where organization_id = $1 and interaction_id = $2 returning encode(pair, 'hex') as pair`, [s.organizationId, s.id]);
    const before = new Set(rows.map((r) => r.pair));
    await sql.query(insertRows, [s.organizationId, s.id, s.createdAt, now]);
    const removed = [...before].filter((p) => !now.includes(p));
    const moves = [...removed.map((pair) => ({ pair, n: -1 })), ...now.filter((p) => !before.has(p)).map((pair) => ({ pair, n: 1 }))].sort((x, y) => (x.pair < y.pair ? -1 : 1));
    if (moves.length === 0) return;
    const itsHour = hourOf('$2::timestamptz');
    await sql.query(`insert into ${hours} as h select $1, decode(m.pair, 'hex'), ${itsHour}, m.n from unnest($3::text[], $4::int[]) as m(pair, n) order by m.pair ${upsert}`, [
      s.organizationId,
      s.createdAt,
      moves.map((m) => m.pair),
      moves.map((m) => m.n),
    ]);
    // An hour a pair no longer has is no row (as a rebuild would leave it).
    if (removed.length > 0) {
      await sql.query(`delete from ${hours} where organization_id = $1 and pair = any(select decode(p, 'hex') from unnest($3::text[]) p) and hour = ${itsHour} and n = 0`, [s.organizationId, s.createdAt, removed]);
    }
  },
});

/**
 * How many interactions organization $1 created in [$2, $3) that hold `pair` (an SQL expression
 * of a key): whole hours summed from the hours companion, only the partial first and last hours
 * counted in the pair's slice.
 */
const countByHours = (pair: string): string => {
  const rows = `${PAIRS_TABLE} where organization_id = $1 and pair = ${pair}`;
  return `
  with b as (select ceil(extract(epoch from $2::timestamptz) / 3600)::bigint as lo, floor(extract(epoch from $3::timestamptz) / 3600)::bigint as hi)
  select case when b.lo >= b.hi then (select count(*) from ${rows} and created_at >= $2 and created_at < $3)
    else (select coalesce(sum(n), 0) from ${companionOf(PAIRS_TABLE, HOURS)} where organization_id = $1 and pair = ${pair} and hour >= b.lo and hour < b.hi)
      + (select count(*) from ${rows} and created_at >= $2 and created_at < to_timestamp(b.lo * 3600))
      + (select count(*) from ${rows} and created_at >= to_timestamp(b.hi * 3600) and created_at < $3)
    end as n
  from b`;
};

/** The interactions of [$2, $3) of organization $1. */
const COUNT_BY_HOURS = countByHours(`decode('${EVERY}', 'hex')`);
/** The same of those whose data holds the pair $4[1]. */
const COUNT_PAIR_BY_HOURS = countByHours(`decode(($4::text[])[1], 'hex')`);

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
  data: jsonColumn(r.data),
  version: r.version,
});

/** Columns by the spec's property names (a fixed list: nothing of the request reaches the SQL text but these). */
const COLUMN: Record<InteractionSortProperty, string> = { createdAt: 'created_at', type: 'type', id: 'interaction_id' };

/**
 * The ids of organization $1's interactions created in [$2, $3) whose data holds each of `n`
 * pairs ($4: their keys): the intersection of the pairs' slices of `interaction_pairs`.
 */
const withAllPairs = (n: number): string =>
  Array.from({ length: n }, (_, i) => `select interaction_id from ${PAIRS_TABLE} where organization_id = $1 and pair = decode(($4::text[])[${i + 1}], 'hex') and created_at >= $2 and created_at < $3`).join(
    ' intersect ',
  );

/**
 * One page of the organization's interactions created in [start, end) whose data holds every
 * `params` pair, in the order asked (then by id, so pages never overlap), and how many match.
 * Without `params` the count is by hours (COUNT_BY_HOURS), with one pair by the pair's hours
 * (COUNT_PAIR_BY_HOURS), with several the intersection of the pairs' slices of
 * `interaction_pairs`; and a page in createdAt order walks the first pair's slice in that order, looking up each other pair's row (any other order filters the view with
 * `data @>`, which the GIN index answers, and sorts).
 */
export async function interactionsPage(sql: SqlExecutor, organizationId: string, q: InteractionPageQuery): Promise<{ content: Interaction[]; total: number }> {
  const range = [organizationId, q.start, q.end];
  // Ties go by id in the direction of the first order, so the (created_at, interaction_id) index gives the rows in order either way.
  const tie = q.sort[0]?.direction ?? 'ASC';
  const orders = [...q.sort.map((o) => `${COLUMN[o.property]} ${o.direction}`), `interaction_id ${tie}`];
  const window = `limit ${q.size} offset ${q.page * q.size}`;
  const pairs = Object.entries(q.params);
  if (pairs.length === 0) {
    const where = 'organization_id = $1 and created_at >= $2 and created_at < $3';
    const [{ rows }, counted] = await Promise.all([sql.query<Row>(`select * from ${TABLE} where ${where} order by ${orders.join(', ')} ${window}`, range), sql.query<{ n: string | number }>(COUNT_BY_HOURS, range)]);
    return { content: rows.map(toInteraction), total: Number(counted.rows[0].n) };
  }
  const keys = pairs.map(([k, v]) => pairKey(k, v));
  // createdAt alone (the ties by id follow it): the first pair's slice is already in that order, and each other pair is a
  // lookup of its own row (the planner is given no filter on the view's data, which it could be tempted to answer with the GIN index and a sort).
  const inCreatedOrder = q.sort.length === 1 && q.sort[0].property === 'createdAt';
  const others = keys
    .slice(1)
    .map((_, i) => `and exists (select 1 from ${PAIRS_TABLE} o where o.organization_id = p.organization_id and o.pair = decode(($4::text[])[${i + 2}], 'hex') and o.created_at = p.created_at and o.interaction_id = p.interaction_id)`)
    .join(' ');
  const page = inCreatedOrder
    ? sql.query<Row>(
        `select v.* from ${PAIRS_TABLE} p join ${TABLE} v on v.organization_id = p.organization_id and v.interaction_id = p.interaction_id
         where p.organization_id = $1 and p.pair = decode(($4::text[])[1], 'hex') and p.created_at >= $2 and p.created_at < $3 ${others}
         order by p.created_at ${tie}, p.interaction_id ${tie} ${window}`,
        [...range, keys],
      )
    : sql.query<Row>(`select * from ${TABLE} where organization_id = $1 and created_at >= $2 and created_at < $3 and data @> $4::jsonb order by ${orders.join(', ')} ${window}`, [...range, JSON.stringify(q.params)]);
  const count = keys.length === 1 ? COUNT_PAIR_BY_HOURS : `select count(*) as n from (${withAllPairs(keys.length)}) matched`;
  const [{ rows }, counted] = await Promise.all([page, sql.query<{ n: string | number }>(count, [...range, keys])]);
  return { content: rows.map(toInteraction), total: Number(counted.rows[0].n) };
}

/** A Talkdesk contact's interactions (its id in the data), of `types` when given, newest first. */
export async function interactionsOfContact(sql: SqlExecutor, organizationId: string, contactId: string, types: string[] | undefined, limit: number): Promise<Interaction[]> {
  const params = new QueryParams(organizationId, JSON.stringify({ [TALKDESK_CONTACT_KEY]: contactId }));
  let where = 'organization_id = $1 and data @> $2::jsonb';
  if (types) where += ` and type = any(${params.add(types)}::text[])`;
  const { rows } = await sql.query<Row>(`select * from ${TABLE} where ${where} order by created_at desc, interaction_id limit ${limit}`, params.values);
  return rows.map(toInteraction);
}
