import { Inject, Injectable, type OnModuleDestroy } from '@nestjs/common';
import { type Actor, type EndpointDelivery, ParleyError, PresenceQueries, type RequestContext, type UserEndpointView, authorizeEndpointUse } from '@parley/contracts';
import type { NatsRpcClient } from '@parley/messaging';
import { type EndpointSession, EndpointSessions } from './endpoint-sessions';
import type { GatewayConfig } from './config';
import { GATEWAY_CONFIG } from './tokens';
import { UserQuotas } from './user-quotas';

/**
 * The caller's own registered endpoint, or 404: another user's endpoint, and any endpoint of
 * another organization, are indistinguishable from a missing one.
 */
export async function ownEndpoint(rpc: NatsRpcClient, userEndpointId: string, ctx: RequestContext, timeoutMs: number): Promise<UserEndpointView> {
  const view = await rpc.request<UserEndpointView>(PresenceQueries.endpoint, { userEndpointId }, ctx, { timeoutMs });
  authorizeEndpointUse(view.userId, ctx.actor, () => new ParleyError('NOT_FOUND', `User endpoint ${userEndpointId} is not registered`));
  return view;
}

/** At most this many deliveries wait for the next poll; older qos 0 ones are dropped first. */
const MAX_BUFFERED = 1000;

interface PollState {
  /** Resolves once the endpoint session listens; rejects (and the state is gone) if it could not open. */
  ready: Promise<void>;
  session?: EndpointSession;
  buffer: EndpointDelivery[];
  /** Polls waiting for the next delivery. */
  waiting: Set<() => void>;
  linger?: NodeJS.Timeout;
  ended?: string;
  /** Gives the user's poll-session place back. */
  release: () => void;
}

/**
 * Long-poll sessions: the first poll of an endpoint opens an EndpointSession on this gateway
 * whose sink is a buffer; each poll takes what is buffered or waits for the next delivery. The
 * session lives on for `lingerMs` after a poll answers, so events that arrive between polls
 * wait for the next one (polls of one client should reach the same gateway: sticky routing).
 *
 * The state of an endpoint's session is in the map before its session starts opening, so polls
 * that arrive together share one session instead of each opening one (and replacing each other).
 */
@Injectable()
export class LongPollSessions implements OnModuleDestroy {
  private readonly polls = new Map<string, PollState>();
  private readonly lingerMs: number;

  constructor(
    private readonly sessions: EndpointSessions,
    private readonly quotas: UserQuotas,
    @Inject(GATEWAY_CONFIG) config: GatewayConfig,
  ) {
    this.lingerMs = 2 * config.longPollTimeoutMs + 30_000;
  }

  async poll(actor: Actor, userEndpointId: string, acks: string[], timeoutMs: number, abort: AbortSignal): Promise<EndpointDelivery[]> {
    const key = `${actor.organizationId}/${userEndpointId}`;
    const st = this.polls.get(key) ?? this.open(actor, key, userEndpointId);
    await st.ready;
    clearTimeout(st.linger);
    st.session?.ack(acks);
    if (st.buffer.length === 0 && !st.ended) {
      await new Promise<void>((resolve) => {
        const done = () => {
          clearTimeout(timer);
          abort.removeEventListener('abort', done);
          st.waiting.delete(done);
          resolve();
        };
        const timer = setTimeout(done, timeoutMs);
        abort.addEventListener('abort', done, { once: true });
        st.waiting.add(done);
      });
    }
    if (abort.aborted) return []; // the client went away: what is buffered waits for its next poll
    if (st.ended && st.buffer.length === 0) throw new ParleyError('NOT_FOUND', st.ended);
    const answer = st.buffer.splice(0, st.buffer.length);
    if (!st.ended) {
      clearTimeout(st.linger);
      st.linger = setTimeout(() => this.drop(key, st), this.lingerMs);
    }
    return answer;
  }

  /** Creates the endpoint's state (within the user's quota) and starts its session. */
  private open(actor: Actor, key: string, userEndpointId: string): PollState {
    const release = this.quotas.pollSessions.acquire(actor);
    const st: PollState = { ready: Promise.resolve(), buffer: [], waiting: new Set(), release };
    const wakeAll = () => {
      for (const wake of [...st.waiting]) wake();
    };
    this.polls.set(key, st);
    // Deliveries can arrive while the session opens (queued qos 1): the buffer exists first.
    st.ready = this.sessions
      .start(actor.organizationId, userEndpointId, {
        push: (d) => {
          st.buffer.push(d);
          const oldestBestEffort = st.buffer.length > MAX_BUFFERED ? st.buffer.findIndex((x) => x.qos === 0) : -1;
          if (oldestBestEffort >= 0) st.buffer.splice(oldestBestEffort, 1);
          wakeAll();
        },
        ended: (why, reason) => {
          st.ended = why === 'unregistered' ? `User endpoint ${userEndpointId} was unregistered (${reason ?? 'no reason'})` : `Another session of user endpoint ${userEndpointId} replaced this one`;
          wakeAll();
          this.forget(key, st);
        },
      })
      .then(
        (session) => {
          st.session = session;
        },
        (err: unknown) => {
          this.forget(key, st);
          throw err;
        },
      );
    return st;
  }

  /** Closes the endpoint's session (its linger is over) and forgets it. */
  private drop(key: string, st: PollState): void {
    if (st.session) this.sessions.close(st.session);
    this.forget(key, st);
  }

  /** Removes the state, if it is still the endpoint's current one, and gives the user's place back. */
  private forget(key: string, st: PollState): void {
    clearTimeout(st.linger);
    if (this.polls.get(key) === st) this.polls.delete(key);
    st.release();
  }

  onModuleDestroy(): void {
    for (const st of this.polls.values()) clearTimeout(st.linger);
    this.polls.clear();
  }
}
