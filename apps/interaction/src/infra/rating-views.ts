import { RATING_CONTEXT, RATINGS_LISTED_MAX, type Rating, type RatingDomainEvent, type RatingsQuery, type SessionType } from '@parley/contracts';
import { QueryParams, type SqlExecutor } from '@parley/eventsourcing';
import { stateProjection, tableOf } from '@parley/service-kit';
import { type RatingState, evolveRating, initialRatingState } from '../domain/rating';

/**
 * The `rating_views` read model (a state projection): one row per rating, written in the same
 * transaction as its event, indexed for the two lists (by interaction, by session), newest first.
 */
const VIEWS = { name: 'rating_views', version: 1 };
const TABLE = tableOf(VIEWS);

export const ratingViews = stateProjection<RatingState>({
  ...VIEWS,
  context: RATING_CONTEXT,
  schema: (t) => [
    `create table ${t} (
      organization_id text not null,
      rating_id text not null,
      user_id text not null,
      user_endpoint_id text,
      interaction_id text,
      session_type text not null,
      session_id text not null,
      score int not null,
      comment text,
      created_at timestamptz not null,
      primary key (organization_id, rating_id)
    )`,
    `create index ${t}_interaction on ${t} (organization_id, interaction_id, created_at desc) where interaction_id is not null`,
    `create index ${t}_session on ${t} (organization_id, session_type, session_id, created_at desc)`,
  ],
  initialState: initialRatingState,
  evolve: (s, e) => evolveRating(s, e as RatingDomainEvent),
  async save(sql, t, s) {
    const r = s.rating;
    if (!r) return;
    await sql.query(
      `insert into ${t} (organization_id, rating_id, user_id, user_endpoint_id, interaction_id, session_type, session_id, score, comment, created_at)
       values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) on conflict (organization_id, rating_id) do nothing`,
      [r.organizationId, r.ratingId, r.userId, r.userEndpointId ?? null, r.interactionId ?? null, r.sessionType, r.sessionId, r.score, r.comment ?? null, r.createdAt],
    );
  },
});

interface Row {
  organization_id: string;
  rating_id: string;
  user_id: string;
  user_endpoint_id: string | null;
  interaction_id: string | null;
  session_type: SessionType;
  session_id: string;
  score: number;
  comment: string | null;
  created_at: Date | string;
}

const toRating = (r: Row): Rating => ({
  id: r.rating_id,
  userId: r.user_id,
  ...(r.user_endpoint_id !== null ? { userEndpointId: r.user_endpoint_id } : {}),
  organizationId: r.organization_id,
  ...(r.interaction_id !== null ? { interactionId: r.interaction_id } : {}),
  sessionType: r.session_type,
  sessionId: r.session_id,
  score: r.score,
  ...(r.comment !== null ? { comment: r.comment } : {}),
  createdAt: new Date(r.created_at).toISOString(),
});

/**
 * The organization's ratings of one interaction or one session, newest first, at most
 * RATINGS_LISTED_MAX; only `userId`'s own when `onlyBy` is given.
 */
export async function ratingsOf(sql: SqlExecutor, organizationId: string, q: RatingsQuery, onlyBy?: string): Promise<Rating[]> {
  const params = new QueryParams(organizationId);
  const where = ['organization_id = $1'];
  const add = (column: string, value: unknown) => where.push(`${column} = ${params.add(value)}`);
  if (q.interactionId !== undefined) add('interaction_id', q.interactionId);
  if (q.sessionType !== undefined) add('session_type', q.sessionType);
  if (q.sessionId !== undefined) add('session_id', q.sessionId);
  if (onlyBy !== undefined) add('user_id', onlyBy);
  const { rows } = await sql.query<Row>(`select * from ${TABLE} where ${where.join(' and ')} order by created_at desc, rating_id limit ${RATINGS_LISTED_MAX}`, params.values);
  return rows.map(toRating);
}
