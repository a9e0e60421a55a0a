import type { Actor, RatingDomainEvent } from '@parley/contracts';
import { deciderSpec } from '@parley/eventsourcing';
import { type RateCommand, ratingDecider, ratingIdOf, ratingsVisibleTo } from './rating';

const spec = deciderSpec(ratingDecider);
const T0 = '2026-11-30T10:00:00.000Z';
const customer: Actor = { userId: 'cust-1', organizationId: 'org-a', roles: ['CUSTOMER'] };
const agent: Actor = { userId: 'agent-1', organizationId: 'org-a', roles: ['AGENT'] };
const id = ratingIdOf('org-a', 'CONFERENCE', 'conf-1', 'cust-1');

const rate = (actor: Actor, extra: Partial<RateCommand> = {}): RateCommand => ({
  kind: 'rate',
  ratingId: id,
  organizationId: 'org-a',
  actor,
  now: T0,
  sessionType: 'CONFERENCE',
  sessionId: 'conf-1',
  score: 4,
  ...extra,
});
const created = (extra: Partial<RatingDomainEvent['data']> = {}): RatingDomainEvent => ({
  type: 'RatingCreatedEvent',
  schemaVersion: 1,
  data: { ratingId: id, organizationId: 'org-a', userId: 'cust-1', sessionType: 'CONFERENCE', sessionId: 'conf-1', score: 4, createdAt: T0, ...extra },
});

describe('Rating decider', () => {
  it('records the score with the caller, and the optional endpoint, interaction and comment when given', () => {
    spec.given([]).when(rate(customer)).then([created()]);
    spec
      .given([])
      .when(rate(customer, { userEndpointId: 'ep-1', interactionId: 'int-1', comment: 'clear picture', score: 5 }))
      .then([created({ userEndpointId: 'ep-1', interactionId: 'int-1', comment: 'clear picture', score: 5 })]);
  });
  it('lets every role rate', () => {
    for (const roles of [['AGENT'], ['SERVICE'], ['ADMIN']] as const) spec.given([]).when(rate({ ...agent, roles: [...roles] })).then([created({ userId: 'agent-1' })]);
  });
  it('refuses a second rating of the same session by the same user with 409', () => {
    spec.given([created()]).when(rate(customer, { score: 1 })).thenFails({ code: 'CONFLICT', message: /cust-1 has already rated CONFERENCE conf-1/ });
  });
  it('gives each user, session and organization its own rating id, a Parley id whatever the user id holds', () => {
    const ids = new Set([
      ratingIdOf('org-a', 'CONFERENCE', 'conf-1', 'cust-1'),
      ratingIdOf('org-a', 'CONFERENCE', 'conf-1', 'cust-2'),
      ratingIdOf('org-a', 'CALL', 'conf-1', 'cust-1'),
      ratingIdOf('org-a', 'CONFERENCE', 'conf-2', 'cust-1'),
      ratingIdOf('org-b', 'CONFERENCE', 'conf-1', 'cust-1'),
    ]);
    expect(ids.size).toBe(5);
    expect(ratingIdOf('org-a', 'CALL', 'c', 'someone@example.org/with spaces')).toMatch(/^[A-Za-z0-9_-]{22}$/);
  });
  it("shows a customer its own ratings only, and staff everyone's", () => {
    expect(ratingsVisibleTo(customer)).toBe('cust-1');
    expect(ratingsVisibleTo(agent)).toBeUndefined();
    expect(ratingsVisibleTo({ ...agent, roles: ['SERVICE'] })).toBeUndefined();
    expect(ratingsVisibleTo({ ...agent, roles: ['ADMIN'] })).toBeUndefined();
    expect(() => ratingsVisibleTo({ ...agent, roles: [] })).toThrow(/may not see a rating in a list/);
  });
});
