import { CONFERENCE_CONTEXT, EVENTS_SUBJECT_ROOT, conferenceOfStream } from '@parley/contracts';
import type { SqlExecutor } from '@parley/eventsourcing';
import { jetStreamProjection, tableOf } from '@parley/service-kit';

/**
 * `interaction_conferences` (a jetstream projection of the conference service's events): for
 * each conference, the interactions it named (at creation, or later with POST
 * /conferences/interaction; the last 32) and its members (its creator and every user that
 * joined it). It answers which conferences an interaction lists, and whether a user took part
 * in an interaction through one of them (what lets a customer read it), and which conferences a
 * user took part in (whose chat sessions, by their room, it may read). It follows the
 * conference's events a moment after they are committed, as every consumer of PARLEY_EVENTS.
 */
const LINKS = { name: 'interaction_conferences', version: 2 };
const TABLE = tableOf(LINKS);
/** The interactions one conference's row keeps, newest last. */
const INTERACTIONS_KEPT = 32;
/** The most conferences one interaction lists (the newest). */
export const CONFERENCES_LISTED_MAX = 1000;

interface ConferenceFacts {
  interactionId?: string;
  creator?: string;
  userId?: string;
  createdAt?: string;
}

export const interactionConferences = jetStreamProjection<void>({
  ...LINKS,
  subject: `${EVENTS_SUBJECT_ROOT}.${CONFERENCE_CONTEXT}.>`,
  eventTypes: ['ConferenceCreatedEvent', 'ConferenceJoinedEvent', 'ConferenceInteractionSetEvent'],
  schema: (t) => [
    `create table ${t} (
      organization_id text not null,
      conference_id text not null,
      interactions text[] not null,
      members text[] not null,
      created_at timestamptz not null,
      primary key (organization_id, conference_id)
    )`,
    `create index ${t}_interactions on ${t} using gin (interactions)`,
    // v2: who took part, for the chat sessions whose room is one of a user's conferences.
    `create index ${t}_members on ${t} using gin (members)`,
  ],
  // Idempotent (JetStream delivers at least once): an interaction or member already listed is not added again.
  async apply(sql, t, e) {
    const conference = conferenceOfStream(e.streamId, e.metadata.organizationId);
    if (!conference) return;
    const d = e.data as ConferenceFacts;
    const interactions = e.type !== 'ConferenceJoinedEvent' && d.interactionId ? [d.interactionId] : [];
    const members = e.type === 'ConferenceCreatedEvent' ? (d.creator ? [d.creator] : []) : e.type === 'ConferenceJoinedEvent' && d.userId ? [d.userId] : [];
    await sql.query(
      `insert into ${t} as c (organization_id, conference_id, interactions, members, created_at) values ($1, $2, $3, $4, $5)
       on conflict (organization_id, conference_id) do update set
         interactions = case when excluded.interactions <@ c.interactions then c.interactions
                             else (c.interactions || excluded.interactions)[greatest(1, cardinality(c.interactions) + 2 - ${INTERACTIONS_KEPT}):] end,
         members = case when excluded.members <@ c.members then c.members else c.members || excluded.members end`,
      [conference.organizationId, conference.conferenceId, interactions, members, d.createdAt ?? e.metadata.time],
    );
  },
});

/** The conferences that named an interaction, newest first. */
export async function conferencesOfInteraction(sql: SqlExecutor, organizationId: string, interactionId: string): Promise<string[]> {
  const { rows } = await sql.query<{ conference_id: string }>(
    `select conference_id from ${TABLE} where organization_id = $1 and interactions @> array[$2]::text[] order by created_at desc, conference_id limit ${CONFERENCES_LISTED_MAX}`,
    [organizationId, interactionId],
  );
  return rows.map((r) => r.conference_id);
}

/** Whether `userId` created or joined a conference that named the interaction. */
export async function tookPart(sql: SqlExecutor, organizationId: string, interactionId: string, userId: string): Promise<boolean> {
  const { rows } = await sql.query(`select 1 from ${TABLE} where organization_id = $1 and interactions @> array[$2]::text[] and members @> array[$3]::text[] limit 1`, [
    organizationId,
    interactionId,
    userId,
  ]);
  return rows.length > 0;
}

/** The most conferences of one user a chat session list looks at (the newest). */
const MEMBER_CONFERENCES_MAX = 1000;

/** The conferences `userId` created or joined, newest first (at most MEMBER_CONFERENCES_MAX). */
export async function conferencesWithMember(sql: SqlExecutor, organizationId: string, userId: string): Promise<string[]> {
  const { rows } = await sql.query<{ conference_id: string }>(
    `select conference_id from ${TABLE} where organization_id = $1 and members @> array[$2]::text[] order by created_at desc, conference_id limit ${MEMBER_CONFERENCES_MAX}`,
    [organizationId, userId],
  );
  return rows.map((r) => r.conference_id);
}

/** Whether `userId` created or joined the conference. */
export async function tookPartInConference(sql: SqlExecutor, organizationId: string, conferenceId: string, userId: string): Promise<boolean> {
  const { rows } = await sql.query(`select 1 from ${TABLE} where organization_id = $1 and conference_id = $2 and members @> array[$3]::text[]`, [organizationId, conferenceId, userId]);
  return rows.length > 0;
}
