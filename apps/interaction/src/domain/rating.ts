import { createHash } from 'node:crypto';
import { type Actor, ParleyError, type RatingDomainEvent, type SessionType, authorize, mayAccess } from '@parley/contracts';
import type { Decider } from '@parley/eventsourcing';

/**
 * A rating as a pure decider: one user's score (1..5) of one call or conference. A user rates a
 * session once: the rating's id is derived from the organization, the session and the user, so
 * a second rating of the same session meets the first (409), and the ratings of one session are
 * at most one per user.
 */
export interface RatingState {
  status: 'none' | 'created';
  version: number;
  rating?: RatingDomainEvent['data'];
}

export const initialRatingState = (): RatingState => ({ status: 'none', version: 0 });

export interface RateCommand {
  kind: 'rate';
  ratingId: string;
  organizationId: string;
  actor: Actor;
  now: string;
  sessionType: SessionType;
  sessionId: string;
  score: number;
  comment?: string;
  userEndpointId?: string;
  interactionId?: string;
}

/** The id of `userId`'s rating of a session: 22 base64url characters of a SHA-256, a Parley id whatever the user id holds. */
export const ratingIdOf = (organizationId: string, sessionType: SessionType, sessionId: string, userId: string): string =>
  createHash('sha256').update([organizationId, sessionType, sessionId, userId].join('\u0000')).digest('base64url').slice(0, 22);

export function decideRating(cmd: RateCommand, s: RatingState): RatingDomainEvent[] {
  authorize('rateSession', 'a call or conference of its own organization', cmd.actor, () => new ParleyError('NOT_FOUND', `${cmd.sessionType} ${cmd.sessionId} not found`));
  if (s.status !== 'none') throw new ParleyError('CONFLICT', `User ${cmd.actor.userId} has already rated ${cmd.sessionType} ${cmd.sessionId}`, { fields: ['sessionId'] });
  return [
    {
      type: 'RatingCreatedEvent',
      schemaVersion: 1,
      data: {
        ratingId: cmd.ratingId,
        organizationId: cmd.organizationId,
        userId: cmd.actor.userId,
        ...(cmd.userEndpointId !== undefined ? { userEndpointId: cmd.userEndpointId } : {}),
        ...(cmd.interactionId !== undefined ? { interactionId: cmd.interactionId } : {}),
        sessionType: cmd.sessionType,
        sessionId: cmd.sessionId,
        score: cmd.score,
        ...(cmd.comment !== undefined ? { comment: cmd.comment } : {}),
        createdAt: cmd.now,
      },
    },
  ];
}

export const evolveRating = (s: RatingState, e: RatingDomainEvent): RatingState => ({ status: 'created', version: s.version + 1, rating: e.data });

export const ratingDecider: Decider<RateCommand, RatingDomainEvent, RatingState> = { initialState: initialRatingState, decide: decideRating, evolve: evolveRating };

/**
 * Whose ratings `actor` sees in a list, by the access table: every user's of its organization
 * (undefined) where it may see one another user gave (staff), else only its own user id's.
 */
export function ratingsVisibleTo(actor: Actor): string | undefined {
  authorize('readRatings', 'one the caller gave', actor, () => new ParleyError('NOT_FOUND', 'Not found'));
  return mayAccess('readRatings', 'one another user gave', actor) ? undefined : actor.userId;
}
