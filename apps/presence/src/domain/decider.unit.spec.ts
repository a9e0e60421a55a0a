import type { Actor, UserEndpointDomainEvent } from '@parley/contracts';
import { deciderSpec } from '@parley/eventsourcing';
import { type EndpointCommand, endpointDecider, makeEndpointDecider, nextDue } from './decider';

const spec = deciderSpec(endpointDecider);
const T0 = '2026-11-21T10:00:00.000Z';
const plus = (s: number) => new Date(Date.parse(T0) + s * 1000).toISOString();
const alice: Actor = { userId: 'alice', organizationId: 'org-a', roles: ['AGENT'] };
const bob: Actor = { userId: 'bob', organizationId: 'org-a', roles: ['AGENT'] };
const outsider: Actor = { userId: 'alice', organizationId: 'org-b', roles: ['AGENT'] };
const ref = { userEndpointId: 'ep-1', organizationId: 'org-a', userId: 'alice' };

const cmd = (c: Record<string, unknown> & { kind: EndpointCommand['kind'] }, now = T0): EndpointCommand =>
  ({ userEndpointId: 'ep-1', organizationId: 'org-a', now, ...c }) as EndpointCommand;
const registered = (k = 30, reminder = false, when = T0): UserEndpointDomainEvent => ({
  type: 'UserEndpointRegisteredEvent',
  schemaVersion: 1,
  data: { ...ref, keepAliveSeconds: k, serverKeepAliveReminderOn: reminder, at: when },
});
const keptAlive = (when: string): UserEndpointDomainEvent => ({ type: 'UserEndpointKeptAliveEvent', schemaVersion: 1, data: { ...ref, at: when } });
const state = (s: 'SICK' | 'HEALTHY'): UserEndpointDomainEvent => ({ type: 'UserEndpointStateChangedEvent', schemaVersion: 1, data: { ...ref, state: s } });
const unregistered = (reason: string): UserEndpointDomainEvent => ({ type: 'UserEndpointUnregisteredEvent', schemaVersion: 1, data: { ...ref, reason } });
const reminded = (deadline: string): UserEndpointDomainEvent => ({ type: 'UserEndpointKeepAliveRequestedEvent', schemaVersion: 1, data: { ...ref, deadline } });
const check = (atSeconds: number) => cmd({ kind: 'checkDeadlines' }, plus(atSeconds));

describe('UserEndpoint decider', () => {
  describe('register', () => {
    it('registers a new endpoint for the caller', () => {
      spec.given([]).when(cmd({ kind: 'register', actor: alice, keepAliveSeconds: 30, reminderOn: false })).then([registered()]);
    });
    it("refuses another user's id with 409, also after it expired", () => {
      spec.given([registered()]).when(cmd({ kind: 'register', actor: bob, keepAliveSeconds: 30, reminderOn: false })).thenFails({ code: 'CONFLICT' });
      spec.given([registered(), unregistered('expired')]).when(cmd({ kind: 'register', actor: bob, keepAliveSeconds: 30, reminderOn: false })).thenFails({ code: 'CONFLICT' });
    });
    it('refuses a new endpoint past the user\'s quota (429), and still renews one already registered', () => {
      const bounded = deciderSpec(makeEndpointDecider({ endpointsPerUser: 2 }));
      bounded.given([]).when(cmd({ kind: 'register', actor: alice, keepAliveSeconds: 30, reminderOn: false, otherEndpointsOfUser: 1 })).then([registered()]);
      bounded
        .given([])
        .when(cmd({ kind: 'register', actor: alice, keepAliveSeconds: 30, reminderOn: false, otherEndpointsOfUser: 2 }))
        .thenFails({ code: 'TOO_MANY_REQUESTS', details: { quota: 'endpointsPerUser', limit: 2, retryAfterSeconds: 30 } });
      // An expired endpoint registered again is a new one, and counts.
      bounded.given([registered(), unregistered('expired')]).when(cmd({ kind: 'register', actor: alice, keepAliveSeconds: 30, reminderOn: false, otherEndpointsOfUser: 2 })).thenFails({ code: 'TOO_MANY_REQUESTS' });
      bounded.given([registered()]).when(cmd({ kind: 'register', actor: alice, keepAliveSeconds: 30, reminderOn: false, otherEndpointsOfUser: 2 })).then([registered()]);
    });
    it('re-registering a SICK endpoint makes it HEALTHY again', () => {
      spec
        .given([registered(), state('SICK')])
        .when(cmd({ kind: 'register', actor: alice, keepAliveSeconds: 10, reminderOn: true }, plus(40)))
        .then([registered(10, true, plus(40)), state('HEALTHY')]);
    });
    it('an expired endpoint can be registered again by its user, and starts HEALTHY', () => {
      const s = spec.given([registered(), state('SICK'), unregistered('expired')]).when(cmd({ kind: 'register', actor: alice, keepAliveSeconds: 30, reminderOn: false }, plus(100))).then([registered(30, false, plus(100))]);
      expect(s.health).toBe('HEALTHY');
      expect(s.status).toBe('registered');
    });
  });

  describe('keepAlive', () => {
    it('moves the deadlines', () => {
      const s = spec.given([registered()]).when(cmd({ kind: 'keepAlive', actor: alice }, plus(20))).then([keptAlive(plus(20))]);
      expect(nextDue(s)).toBe(plus(50));
    });
    it('brings a SICK endpoint back to HEALTHY', () => {
      spec.given([registered(), state('SICK')]).when(cmd({ kind: 'keepAlive', actor: alice }, plus(45))).then([keptAlive(plus(45)), state('HEALTHY')]);
    });
    it('is 404 for an unknown, unregistered, expired, other user\'s or other organization\'s endpoint', () => {
      spec.given([]).when(cmd({ kind: 'keepAlive', actor: alice })).thenFails({ code: 'NOT_FOUND' });
      spec.given([registered(), unregistered('bye')]).when(cmd({ kind: 'keepAlive', actor: alice })).thenFails({ code: 'NOT_FOUND' });
      spec.given([registered()]).when(cmd({ kind: 'keepAlive', actor: alice }, plus(60))).thenFails({ code: 'NOT_FOUND', message: /expired/ });
      spec.given([registered()]).when(cmd({ kind: 'keepAlive', actor: bob })).thenFails({ code: 'NOT_FOUND' });
      spec.given([registered()]).when(cmd({ kind: 'keepAlive', actor: outsider })).thenFails({ code: 'NOT_FOUND' });
    });
  });

  describe('unregister', () => {
    it('records the reason', () => {
      spec.given([registered()]).when(cmd({ kind: 'unregister', actor: alice, reason: 'logout' })).then([unregistered('logout')]);
      spec.given([registered()]).when(cmd({ kind: 'unregister', actor: alice })).then([unregistered('unregistered')]);
    });
    it("is 404 for another user's endpoint and for one already gone", () => {
      spec.given([registered()]).when(cmd({ kind: 'unregister', actor: bob })).thenFails({ code: 'NOT_FOUND' });
      spec.given([registered(), unregistered('x')]).when(cmd({ kind: 'unregister', actor: alice })).thenFails({ code: 'NOT_FOUND' });
    });
  });

  describe('deadlines (k = 30 s)', () => {
    it('nothing before k; SICK at k, once; expired at 2k', () => {
      spec.given([registered()]).when(check(29.999)).then([]);
      spec.given([registered()]).when(check(30)).then([state('SICK')]);
      spec.given([registered(), state('SICK')]).when(check(45)).then([]);
      spec.given([registered(), state('SICK')]).when(check(60)).then([unregistered('expired')]);
    });
    it('a keepalive restarts the clock', () => {
      spec.given([registered(), keptAlive(plus(25))]).when(check(54)).then([]);
      spec.given([registered(), keptAlive(plus(25))]).when(check(55)).then([state('SICK')]);
    });
    it('a scheduler that was away expires what is overdue at once, without passing through SICK', () => {
      spec.given([registered()]).when(check(500)).then([unregistered('expired')]);
    });
    it('a reminder at two thirds of k, once per deadline, only when asked for', () => {
      spec.given([registered(30, false)]).when(check(25)).then([]);
      spec.given([registered(30, true)]).when(check(19.9)).then([]);
      const s = spec.given([registered(30, true)]).when(check(20)).then([reminded(plus(30))]);
      expect(nextDue(s)).toBe(plus(30));
      spec.given([registered(30, true), reminded(plus(30))]).when(check(25)).then([]);
      spec.given([registered(30, true), reminded(plus(30)), keptAlive(plus(28))]).when(check(48)).then([reminded(plus(58))]);
    });
    it('nothing is due for an endpoint that is gone', () => {
      spec.given([registered(), unregistered('bye')]).when(check(1000)).then([]);
      expect(nextDue(spec.given([registered(), unregistered('bye')]).state)).toBeUndefined();
    });
    it('nextDue follows the state: reminder, then SICK, then expiry', () => {
      expect(nextDue(spec.given([registered(30, true)]).state)).toBe(plus(20));
      expect(nextDue(spec.given([registered(30, false)]).state)).toBe(plus(30));
      expect(nextDue(spec.given([registered(30, false), state('SICK')]).state)).toBe(plus(60));
    });
  });
});
