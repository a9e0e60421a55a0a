import websocket from '@fastify/websocket';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { WebSocket } from 'ws';
import { type Actor, type EndpointDelivery, ID_PATTERN, ParleyError } from '@parley/contracts';
import type { TokenVerifier } from '@parley/auth';
import type { NatsRpcClient } from '@parley/messaging';
import type { EndpointSessions } from './endpoint-sessions';
import { describeError, sendError } from './http-error.filter';
import { bearerTokenOf } from './http-params';
import { ownEndpoint } from './long-poll-sessions';
import type { PerUserQuota } from './user-quotas';

export interface WsChannelDeps {
  verifier: TokenVerifier;
  rpc: NatsRpcClient;
  sessions: EndpointSessions;
  rpcTimeoutMs: number;
  /** Sockets per user on this gateway. */
  sockets: PerUserQuota;
  /** Sockets that answer no ping for this long are dropped. */
  pingIntervalMs?: number;
}

/** Close codes (4000–4999 are the application's). */
export const WS_CLOSE = { replaced: 4001, unregistered: 4004, shuttingDown: 1001 } as const;

interface Bound {
  actor: Actor;
  userEndpointId: string;
}

/**
 * `GET /rtc-api/ws?userEndpointId=…` upgraded to a WebSocket that pushes every event addressed
 * to that endpoint, as JSON text frames `{"id","qos","event"}`. The token comes in the
 * Authorization header or, for browsers (which cannot set headers on a WebSocket), as
 * `access_token` in the query (RFC 6750 §2.3). The endpoint must be a registered endpoint of
 * the token's user, else the upgrade is refused with 401/404. Once the session listens, the
 * first frame (after any queued qos 1 ones) is a UserEndpointSessionOpenedEvent: from then on
 * nothing sent to the endpoint misses this socket. The client acknowledges qos 1
 * deliveries with `{"ack": "<id>"}` (or a list); one socket per endpoint: a newer one replaces
 * an older one, on whichever gateway.
 */
export async function registerWebSocketChannel(fastify: FastifyInstance, prefix: string, deps: WsChannelDeps): Promise<void> {
  await fastify.register(websocket, { options: { maxPayload: 64 * 1024 } });
  const bound = new WeakMap<FastifyRequest, Bound>();

  fastify.get(
    `/${prefix}/ws`,
    {
      websocket: true,
      // Runs before the upgrade, so a refusal is a plain HTTP answer with the reason.
      preValidation: async (req, reply) => {
        try {
          const q = req.query as Record<string, string | undefined>;
          const token = bearerTokenOf(req);
          if (!token) throw new ParleyError('UNAUTHORIZED', 'A bearer token is required (Authorization header, or access_token in the query)');
          const actor = await deps.verifier.verify(token).catch((e: unknown) => {
            throw new ParleyError('UNAUTHORIZED', e instanceof Error ? e.message : 'Invalid token');
          });
          const userEndpointId = q.userEndpointId ?? '';
          if (!ID_PATTERN.test(userEndpointId)) throw new ParleyError('BAD_REQUEST', 'userEndpointId (query) must be 1 to 128 letters, digits, "-" or "_"', { fields: ['userEndpointId'] });
          const ctx = { actor, correlationId: req.id, causationId: req.id };
          await ownEndpoint(deps.rpc, userEndpointId, ctx, deps.rpcTimeoutMs);
          // The user's place is held for as long as the connection lives (upgraded or not).
          req.raw.socket.once('close', deps.sockets.acquire(actor));
          bound.set(req, { actor, userEndpointId });
        } catch (e) {
          const described = describeError(e instanceof ParleyError ? e : new ParleyError('INTERNAL', 'Could not open the channel'), 0);
          sendError(reply, described);
          return reply;
        }
      },
    },
    async (socket: WebSocket, req: FastifyRequest) => {
      const b = bound.get(req);
      if (!b) return socket.close(1011, 'unbound');
      socket.pause?.();
      let alive = true;
      const session = await deps.sessions
        .start(b.actor.organizationId, b.userEndpointId, {
          push: (d) => socket.send(JSON.stringify(d)),
          ended: (why, reason) => socket.close(WS_CLOSE[why], why === 'unregistered' ? `unregistered: ${reason ?? ''}`.slice(0, 120) : 'replaced by a newer session'),
        })
        .catch((err: unknown) => {
          socket.close(1011, 'delivery unavailable');
          req.log.warn({ err }, 'could not open an endpoint session');
          return undefined;
        });
      if (!session) return;
      if (socket.readyState !== socket.OPEN) return deps.sessions.close(session); // gone while the session opened
      // Unregistered between the check before the upgrade and the session's control subscription?
      // The session listens now, so asking again closes that gap.
      const stillOwned = await ownEndpoint(deps.rpc, b.userEndpointId, { actor: b.actor, correlationId: req.id, causationId: req.id }, deps.rpcTimeoutMs).then(
        () => true,
        () => false,
      );
      if (!stillOwned) {
        deps.sessions.close(session);
        return socket.close(WS_CLOSE.unregistered, 'unregistered');
      }
      const ping = setInterval(() => {
        if (!alive) return socket.terminate();
        alive = false;
        socket.ping();
      }, deps.pingIntervalMs ?? 30_000);
      socket.on('pong', () => (alive = true));
      socket.on('message', (data) => {
        try {
          const msg = JSON.parse(String(data)) as { ack?: string | string[] };
          if (msg.ack !== undefined) session.ack(Array.isArray(msg.ack) ? msg.ack.map(String) : [String(msg.ack)]);
        } catch {
          socket.send(JSON.stringify({ error: 'Messages must be JSON, e.g. {"ack": "<delivery id>"}' }));
        }
      });
      socket.on('close', () => {
        clearInterval(ping);
        deps.sessions.close(session);
      });
      socket.resume?.();
      // Everything sent from now on reaches this socket: clients may wait for this frame.
      const opened: EndpointDelivery = { id: session.id, qos: 0, event: { type: 'UserEndpointSessionOpenedEvent', timestamp: new Date().toISOString(), userEndpointId: b.userEndpointId } };
      socket.send(JSON.stringify(opened));
    },
  );
}
