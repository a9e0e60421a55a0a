import { randomUUID } from 'node:crypto';
import { type NatsConnection, ErrorCode as NatsErrorCode, JSONCodec, NatsError, headers as natsHeaders } from 'nats';
import { type ErrorEnvelope, ParleyError, type RequestContext, isErrorEnvelope } from '@parley/contracts';
import { CALLER_HEADER, type CallerAssertions } from './caller-assertion';

const codec = JSONCodec<unknown>();

/** The packet shape of @nestjs/microservices' NATS transport (request and response). */
interface NestRequestPacket {
  pattern: string;
  data: unknown;
  id: string;
}
interface NestResponsePacket {
  id: string;
  response?: unknown;
  err?: unknown;
  isDisposed?: boolean;
}

export interface RpcClientOptions {
  /** Upper bound of a request when it names none (default 5 s). */
  timeoutMs?: number;
  /**
   * Whether the caller's transaction id goes with the request. Only the gateway forwards its
   * clients' (X-Auvious-TransactionId); a service's request to another is a request of its own,
   * which must not share the client's key for idempotent answers (default false).
   */
  forwardTransactionIds?: boolean;
}

export interface RequestOptions {
  /** Mandatory upper bound; default from the client. */
  timeoutMs?: number;
}

/**
 * Request/reply over NATS to services built on @nestjs/microservices.
 *
 * Written on the plain nats client (not Nest's ClientNats) because Nest's client publishes
 * without a request, so it cannot tell "nobody listens" from "slow": here NATS's
 * no-responders answer becomes an immediate UNAVAILABLE (503), a timeout a TIMEOUT (504),
 * and the service's error envelope the ParleyError it describes.
 *
 * The caller crosses as a signed assertion bound to the message (see caller-assertion.ts),
 * never as plain headers a handler would have to believe.
 */
export class NatsRpcClient {
  private readonly defaultTimeoutMs: number;
  private readonly forwardTransactionIds: boolean;

  constructor(
    private readonly nc: NatsConnection,
    private readonly assertions: CallerAssertions,
    options: RpcClientOptions = {},
  ) {
    this.defaultTimeoutMs = options.timeoutMs ?? 5000;
    this.forwardTransactionIds = options.forwardTransactionIds ?? false;
  }

  async request<T>(subject: string, payload: unknown, ctx: RequestContext, options: RequestOptions = {}): Promise<T> {
    const packet: NestRequestPacket = { pattern: subject, data: payload, id: randomUUID() };
    const body = codec.encode(packet);
    const h = natsHeaders();
    const { transactionId, ...own } = ctx;
    h.set(CALLER_HEADER, await this.assertions.sign(this.forwardTransactionIds && transactionId !== undefined ? ctx : own, subject, body));
    const timeout = options.timeoutMs ?? this.defaultTimeoutMs;
    let reply;
    try {
      reply = await this.nc.request(subject, body, { timeout, headers: h });
    } catch (e) {
      if (e instanceof NatsError && e.code === NatsErrorCode.NoResponders) {
        throw new ParleyError('UNAVAILABLE', `No service is answering ${subject}; is it running?`, { subject });
      }
      if (e instanceof NatsError && e.code === NatsErrorCode.Timeout) {
        throw new ParleyError('TIMEOUT', `${subject} did not answer within ${timeout} ms`, { subject });
      }
      throw e;
    }
    const res = codec.decode(reply.data) as NestResponsePacket;
    if (res.err !== undefined && res.err !== null) throw toParleyError(res.err, subject);
    return res.response as T;
  }
}

function toParleyError(err: unknown, subject: string): ParleyError {
  if (isErrorEnvelope(err)) return ParleyError.fromEnvelope(err as ErrorEnvelope);
  const message = typeof err === 'string' ? err : ((err as { message?: string })?.message ?? 'internal error');
  return new ParleyError('INTERNAL', `${subject} failed: ${message}`);
}

/**
 * Resolves once `subject` is answered as `ctx`: a service's handlers are subscribed on the server,
 * not just queued in its client's buffer. A service asks itself (serviceContext) before it reports
 * itself ready; an answer that refuses the request fails the wait at its deadline, with the reason.
 */
export async function waitUntilAnswered(rpc: NatsRpcClient, subject: string, ctx: RequestContext, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      await rpc.request(subject, {}, ctx, { timeoutMs: 1000 });
      return;
    } catch (e) {
      if (Date.now() > deadline) throw new Error(`${subject} was not answered within ${timeoutMs} ms: ${String(e)}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }
}

/** NATS_URL may list several servers of a cluster, comma-separated; the client tries each. */
export const natsServers = (url: string): string[] =>
  url
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
