import { Inject, Injectable, type OnModuleDestroy } from '@nestjs/common';
import { type EndpointDelivery, ParleyError, PresenceQueries, type RequestContext, type UserEndpointView } from '@parley/contracts';
import type { NatsRpcClient } from '@parley/messaging';
import { type EndpointSession, EndpointSessions } from './endpoint-sessions';
import type { GatewayConfig } from './config';
import { GATEWAY_CONFIG } from './tokens';

/**
 * The caller's own registered endpoint, or 404: another user's endpoint, and any endpoint of
 * another organization, are indistinguishable from a missing one.
 */
export async function ownEndpoint(rpc: NatsRpcClient, userEndpointId: string, ctx: RequestContext, timeoutMs: number): Promise<UserEndpointView> {
  const view = await rpc.request<UserEndpointView>(PresenceQueries.endpoint, { userEndpointId }, ctx, { timeoutMs });
  if (view.userId !== ctx.actor.userId) throw new ParleyError('NOT_FOUND', `User endpoint ${userEndpointId} is not registered`);
  return view;
}

/** At most this many deliveries wait for the next poll; older qos 0 ones are dropped first. */
const MAX_BUFFERED = 1000;

interface PollState {
  session: EndpointSession;
  buffer: EndpointDelivery[];
  wake?: () => void;
  linger?: NodeJS.Timeout;
  ended?: string;
}

/**
 * Long-poll sessions: the first poll of an endpoint opens an EndpointSession on this gateway
 * whose sink is a buffer; each poll takes what is buffered or waits for the next delivery. The
 * session lives on for `lingerMs` after a poll answers, so events that arrive between polls
 * wait for the next one (polls of one client should reach the same gateway: sticky routing).
 */
@Injectable()
export class LongPollSessions implements OnModuleDestroy {
  private readonly polls = new Map<string, PollState>();
  private readonly lingerMs: number;

  constructor(
    private readonly sessions: EndpointSessions,
    @Inject(GATEWAY_CONFIG) config: GatewayConfig,
  ) {
    this.lingerMs = 2 * config.longPollTimeoutMs + 30_000;
  }

  async poll(organizationId: string, userEndpointId: string, acks: string[], timeoutMs: number, abort: AbortSignal): Promise<EndpointDelivery[]> {
    const key = `${organizationId}/${userEndpointId}`;
    let state = this.polls.get(key);
    if (!state) {
      // Deliveries can arrive while the session opens (queued qos 1): the state exists first.
      const buffer: EndpointDelivery[] = [];
      const created: Omit<PollState, 'session'> & { session?: EndpointSession } = { buffer };
      created.session = await this.sessions.start(organizationId, userEndpointId, {
        push: (d) => {
          buffer.push(d);
          const oldestBestEffort = buffer.length > MAX_BUFFERED ? buffer.findIndex((x) => x.qos === 0) : -1;
          if (oldestBestEffort >= 0) buffer.splice(oldestBestEffort, 1);
          created.wake?.();
        },
        ended: (why, reason) => {
          created.ended = why === 'unregistered' ? `User endpoint ${userEndpointId} was unregistered (${reason ?? 'no reason'})` : `Another session of user endpoint ${userEndpointId} replaced this one`;
          created.wake?.();
          this.polls.delete(key);
        },
      });
      state = created as PollState;
      this.polls.set(key, state);
    }
    const st = state;
    clearTimeout(st.linger);
    st.session.ack(acks);
    if (st.buffer.length === 0 && !st.ended) {
      await new Promise<void>((resolve) => {
        const done = () => {
          clearTimeout(timer);
          abort.removeEventListener('abort', done);
          st.wake = undefined;
          resolve();
        };
        const timer = setTimeout(done, timeoutMs);
        abort.addEventListener('abort', done, { once: true });
        st.wake = done;
      });
    }
    if (abort.aborted) return []; // the client went away: what is buffered waits for its next poll
    if (st.ended && st.buffer.length === 0) throw new ParleyError('NOT_FOUND', st.ended);
    const answer = st.buffer.splice(0, st.buffer.length);
    if (!st.ended) {
      st.linger = setTimeout(() => {
        this.sessions.close(st.session);
        this.polls.delete(key);
      }, this.lingerMs);
    }
    return answer;
  }

  onModuleDestroy(): void {
    for (const st of this.polls.values()) clearTimeout(st.linger);
    this.polls.clear();
  }
}
