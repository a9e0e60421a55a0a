import { CHAT_SESSION_CONTEXT, type ChatSession, type ChatSessionDomainEvent, type ChatSessionListQuery } from '@parley/contracts';
import { QueryParams, type SqlExecutor, jsonColumn } from '@parley/eventsourcing';
import { stateProjection, tableOf } from '@parley/service-kit';
import { type ChatSessionState, evolveChatSession, initialChatSessionState, toChatSession } from '../domain/chat-session';
import { conferencesWithMember } from './interaction-conferences';

/**
 * The `chat_session_views` read model (a state projection): one row per chat session, written in
 * the same transaction as its events: the session as the API shows it (`view`), and what a list
 * filters and orders by (state, participants, room, createdAt).
 */
const VIEWS = { name: 'chat_session_views', version: 1 };
const TABLE = tableOf(VIEWS);

export const chatSessionViews = stateProjection<ChatSessionState>({
  ...VIEWS,
  context: CHAT_SESSION_CONTEXT,
  schema: (t) => [
    `create table ${t} (
      organization_id text not null,
      chat_session_id text not null,
      created_at timestamptz not null,
      state text not null,
      participants text[] not null,
      room text,
      view jsonb not null,
      version int not null,
      primary key (organization_id, chat_session_id)
    )`,
    `create index ${t}_created on ${t} (organization_id, created_at desc, chat_session_id)`,
    `create index ${t}_participants on ${t} using gin (participants)`,
    `create index ${t}_room on ${t} (organization_id, room) where room is not null`,
  ],
  initialState: initialChatSessionState,
  evolve: (s, e) => evolveChatSession(s, e as ChatSessionDomainEvent),
  async save(sql, t, s) {
    await sql.query(
      `insert into ${t} (organization_id, chat_session_id, created_at, state, participants, room, view, version) values ($1, $2, $3, $4, $5, $6, $7, $8)
       on conflict (organization_id, chat_session_id) do update set state = excluded.state, participants = excluded.participants, room = excluded.room, view = excluded.view, version = excluded.version
       where ${t}.version < excluded.version`,
      [s.organizationId, s.id, s.createdAt, s.status, s.participants, s.room ?? null, JSON.stringify(toChatSession(s)), s.version],
    );
  },
});

/**
 * A page of the organization's chat sessions, newest first (then by id), of `q.state` and with
 * `q.participant` among the participants when given; only those `visibleTo` takes part in (or
 * whose room is a conference it created or joined) when given.
 */
export async function chatSessionsPage(sql: SqlExecutor, organizationId: string, q: ChatSessionListQuery, visibleTo: string | undefined): Promise<ChatSession[]> {
  const params = new QueryParams(organizationId);
  const where = ['organization_id = $1'];
  if (q.state !== undefined) where.push(`state = ${params.add(q.state)}`);
  if (q.participant !== undefined) where.push(`participants @> array[${params.add(q.participant)}]::text[]`);
  if (visibleTo !== undefined) {
    const rooms = await conferencesWithMember(sql, organizationId, visibleTo);
    where.push(`(participants @> array[${params.add(visibleTo)}]::text[] or room = any(${params.add(rooms)}::text[]))`);
  }
  const { rows } = await sql.query<{ view: ChatSession | string }>(
    `select view from ${TABLE} where ${where.join(' and ')} order by created_at desc, chat_session_id limit ${q.size} offset ${q.page * q.size}`,
    params.values,
  );
  return rows.map((r) => jsonColumn(r.view));
}
