import { type Actor, type EndpointHealth, ParleyError, QUOTA_RETRY_AFTER_SECONDS, type UserEndpointDomainEvent, authorizeEndpointUse, quotaExceeded } from '@parley/contracts';
import type { Decider } from '@parley/eventsourcing';

/**
 * The UserEndpoint aggregate as a pure decider: one registered client of one user, kept alive
 * by its keepalives. Time comes in with every command (`now`), so the deadlines are exact in
 * tests and the scheduler is only a clock that asks "anything due?".
 *
 * Deadlines, with k = keepAliveSeconds and t = the last register or keepalive:
 *   t + 2k/3  a reminder (UserEndpointKeepAliveRequestedEvent), if the endpoint asked for them;
 *   t + k     SICK (its conference participations too);
 *   t + 2k    expired: unregistered with reason 'expired' (it leaves its conferences).
 */

export interface EndpointState {
  status: 'none' | 'registered' | 'unregistered';
  version: number;
  userEndpointId: string;
  organizationId: string;
  userId: string;
  keepAliveSeconds: number;
  reminderOn: boolean;
  /** ISO instant of the last register or keepalive. */
  lastSeen: string;
  health: EndpointHealth;
  /** The SICK deadline the last reminder was for (one reminder per deadline). */
  remindedFor?: string;
}

export const initialState = (): EndpointState => ({
  status: 'none',
  version: 0,
  userEndpointId: '',
  organizationId: '',
  userId: '',
  keepAliveSeconds: 0,
  reminderOn: false,
  lastSeen: '',
  health: 'HEALTHY',
});

interface Base {
  userEndpointId: string;
  organizationId: string;
  /** ISO-8601 instant of the decision. */
  now: string;
}
export type EndpointCommand = Base &
  (
    | {
        kind: 'register';
        actor: Actor;
        keepAliveSeconds: number;
        reminderOn: boolean;
        /** The user's other registered endpoints (its quota); 0 when not known. */
        otherEndpointsOfUser?: number;
      }
    | { kind: 'keepAlive'; actor: Actor }
    | { kind: 'unregister'; actor: Actor; reason?: string }
    /** The scheduler's question: is a reminder, SICK or expiry due at `now`? */
    | { kind: 'checkDeadlines' }
  );

const at = (iso: string, plusSeconds: number) => new Date(Date.parse(iso) + plusSeconds * 1000).toISOString();

export const deadlines = (s: EndpointState) => ({
  remind: at(s.lastSeen, (s.keepAliveSeconds * 2) / 3),
  sick: at(s.lastSeen, s.keepAliveSeconds),
  expire: at(s.lastSeen, s.keepAliveSeconds * 2),
});

/** The next instant at which checkDeadlines would decide something, or undefined when none will. */
export function nextDue(s: EndpointState): string | undefined {
  if (s.status !== 'registered') return undefined;
  const d = deadlines(s);
  if (s.health === 'SICK') return d.expire;
  if (s.reminderOn && s.remindedFor !== d.sick) return d.remind;
  return d.sick;
}

const notFound = (id: string) => new ParleyError('NOT_FOUND', `User endpoint ${id} is not registered`);
const past = (now: string, instant: string) => Date.parse(now) >= Date.parse(instant);

/** The caller's own registered endpoint; another organization's is not found, and so (ACCESS.useEndpoint) is another user's. */
function own(s: EndpointState, actor: Actor, id: string): void {
  if (s.status !== 'registered' || s.organizationId !== actor.organizationId) throw notFound(id);
  authorizeEndpointUse(s.userId, actor, () => notFound(id));
}

/** What one user may hold (QUOTA_* settings of the presence service). */
export interface PresenceQuotas {
  /** Endpoints registered at once: each holds a delivery session, a durable consumer and a qos 1 queue. */
  endpointsPerUser: number;
}
export const DEFAULT_PRESENCE_QUOTAS: PresenceQuotas = { endpointsPerUser: 20 };

export function decide(cmd: EndpointCommand, s: EndpointState, quotas: PresenceQuotas = DEFAULT_PRESENCE_QUOTAS): UserEndpointDomainEvent[] {
  const ref = { userEndpointId: cmd.userEndpointId, organizationId: cmd.organizationId, userId: s.userId };
  switch (cmd.kind) {
    case 'register': {
      // An id stays with the user that first registered it, even after it expired: a later
      // registration by someone else must not inherit its queued (qos 1) events.
      if (s.status !== 'none' && s.userId !== cmd.actor.userId) {
        throw new ParleyError('CONFLICT', `User endpoint id ${cmd.userEndpointId} is registered by another user; leave userEndpointId out to get a fresh one`);
      }
      // A registration renewed is no new endpoint; a new one must fit the user's quota.
      if (s.status !== 'registered' && (cmd.otherEndpointsOfUser ?? 0) >= quotas.endpointsPerUser) {
        throw quotaExceeded(
          `User ${cmd.actor.userId} has ${quotas.endpointsPerUser} registered endpoints, the most one user may have; unregister one (or let it expire) first`,
          'endpointsPerUser',
          quotas.endpointsPerUser,
          QUOTA_RETRY_AFTER_SECONDS,
        );
      }
      const events: UserEndpointDomainEvent[] = [
        {
          type: 'UserEndpointRegisteredEvent',
          schemaVersion: 1,
          data: { ...ref, userId: cmd.actor.userId, keepAliveSeconds: cmd.keepAliveSeconds, serverKeepAliveReminderOn: cmd.reminderOn, at: cmd.now },
        },
      ];
      if (s.status === 'registered' && s.health === 'SICK') events.push({ type: 'UserEndpointStateChangedEvent', schemaVersion: 1, data: { ...ref, state: 'HEALTHY' } });
      return events;
    }
    case 'keepAlive': {
      own(s, cmd.actor, cmd.userEndpointId);
      // Silent past its expiry: it is gone, even if the scheduler has not recorded it yet.
      if (past(cmd.now, deadlines(s).expire)) throw new ParleyError('NOT_FOUND', `User endpoint ${cmd.userEndpointId} has expired; register it again`);
      const events: UserEndpointDomainEvent[] = [{ type: 'UserEndpointKeptAliveEvent', schemaVersion: 1, data: { ...ref, at: cmd.now } }];
      if (s.health === 'SICK') events.push({ type: 'UserEndpointStateChangedEvent', schemaVersion: 1, data: { ...ref, state: 'HEALTHY' } });
      return events;
    }
    case 'unregister':
      own(s, cmd.actor, cmd.userEndpointId);
      return [{ type: 'UserEndpointUnregisteredEvent', schemaVersion: 1, data: { ...ref, reason: cmd.reason ?? 'unregistered' } }];
    case 'checkDeadlines': {
      if (s.status !== 'registered') return [];
      const d = deadlines(s);
      if (past(cmd.now, d.expire)) return [{ type: 'UserEndpointUnregisteredEvent', schemaVersion: 1, data: { ...ref, reason: 'expired' } }];
      if (past(cmd.now, d.sick)) return s.health === 'SICK' ? [] : [{ type: 'UserEndpointStateChangedEvent', schemaVersion: 1, data: { ...ref, state: 'SICK' } }];
      if (s.reminderOn && s.remindedFor !== d.sick && past(cmd.now, d.remind)) {
        return [{ type: 'UserEndpointKeepAliveRequestedEvent', schemaVersion: 1, data: { ...ref, deadline: d.sick } }];
      }
      return [];
    }
    default:
      return assertNever(cmd);
  }
}

export function evolve(s: EndpointState, e: UserEndpointDomainEvent): EndpointState {
  const next = { ...s, version: s.version + 1 };
  switch (e.type) {
    case 'UserEndpointRegisteredEvent': {
      const d = e.data;
      return {
        ...next,
        status: 'registered',
        userEndpointId: d.userEndpointId,
        organizationId: d.organizationId,
        userId: d.userId,
        keepAliveSeconds: d.keepAliveSeconds,
        reminderOn: d.serverKeepAliveReminderOn,
        lastSeen: d.at,
        // A new registration after an expiry starts healthy; a re-registration of a SICK one is followed by its StateChanged.
        health: s.status === 'registered' ? s.health : 'HEALTHY',
        remindedFor: undefined,
      };
    }
    case 'UserEndpointKeptAliveEvent':
      return { ...next, lastSeen: e.data.at, remindedFor: undefined };
    case 'UserEndpointKeepAliveRequestedEvent':
      return { ...next, remindedFor: e.data.deadline };
    case 'UserEndpointStateChangedEvent':
      return { ...next, health: e.data.state };
    case 'UserEndpointUnregisteredEvent':
      return { ...next, status: 'unregistered' };
    default:
      return assertNever(e);
  }
}

function assertNever(x: never): never {
  throw new Error(`unhandled case: ${JSON.stringify(x)}`);
}

/** The decider with these quotas. */
export const makeEndpointDecider = (quotas: PresenceQuotas): Decider<EndpointCommand, UserEndpointDomainEvent, EndpointState> => ({
  initialState,
  decide: (cmd, s) => decide(cmd, s, quotas),
  evolve,
});

export const endpointDecider = makeEndpointDecider(DEFAULT_PRESENCE_QUOTAS);
