import { Logger } from '@nestjs/common';
import { type CustomStrategy, type NatsOptions, ServerNats } from '@nestjs/microservices';
import { NatsRecordSerializer } from '@nestjs/microservices/serializers';
import type { Msg } from 'nats';
import { Limits, ParleyError } from '@parley/contracts';
import { CALLER_HEADER, type CallerAssertions } from './caller-assertion';
import { type NatsSettings, natsConnectOptions } from './nats-permissions';
import { recordVerifiedCaller } from './rpc-server';

interface OutgoingPacket {
  id?: string;
  [key: string]: unknown;
}

/**
 * Nest's NATS serializer with a bound: a reply heavier than Limits.replyBytes would throw
 * MAX_PAYLOAD_EXCEEDED inside Nest's transport (uncaught: the process would exit), so it is
 * answered with an INTERNAL error instead and logged. The bounds on what clients store and the
 * paging of list replies keep every legitimate reply far below it; this is the last line.
 */
export class BoundedReplySerializer extends NatsRecordSerializer {
  private readonly logger = new Logger('BoundedReplySerializer');

  constructor(private readonly maxBytes: number = Limits.replyBytes) {
    super();
  }

  override serialize(packet: OutgoingPacket): { data: Uint8Array; headers?: unknown } {
    const out = super.serialize(packet) as { data: Uint8Array; headers?: unknown };
    if (out.data.length <= this.maxBytes) return out;
    this.logger.error(`a reply of ${out.data.length} bytes exceeds the ${this.maxBytes} a NATS reply may weigh; answered with an error instead`);
    return super.serialize({
      id: packet.id,
      err: { code: 'INTERNAL', message: `the answer would be ${out.data.length} bytes, over the ${this.maxBytes} bytes a reply may weigh` },
      isDisposed: true,
    }) as { data: Uint8Array; headers?: unknown };
  }
}

/**
 * Nest's NATS server that checks every request's caller assertion before a handler sees it: a
 * missing, forged, expired, replayed or misbound one is answered UNAUTHORIZED and handled no
 * further; a good one is what requestContextOf gives the handler.
 */
export class VerifyingNatsServer extends ServerNats {
  private readonly refusals = new Logger('VerifyingNatsServer');

  constructor(
    options: NonNullable<NatsOptions['options']>,
    private readonly assertions: CallerAssertions,
  ) {
    super(options);
  }

  override async handleMessage(channel: string, natsMsg: Msg): Promise<unknown> {
    const headers = natsMsg.headers;
    try {
      const { assertedBy, ...caller } = await this.assertions.verify(headers?.get(CALLER_HEADER) || undefined, natsMsg.subject, natsMsg.data);
      recordVerifiedCaller(headers as object, caller, assertedBy);
    } catch (e) {
      const error = e instanceof ParleyError ? e : new ParleyError('UNAUTHORIZED', 'caller assertion refused');
      this.refusals.warn({ msg: 'refused a request', subject: natsMsg.subject, reason: error.message });
      if (natsMsg.reply) natsMsg.respond(this.serializer.serialize({ id: packetId(natsMsg.data) ?? '', err: error.toEnvelope(), isDisposed: true }).data);
      return;
    }
    return super.handleMessage(channel, natsMsg);
  }

  /**
   * Parley's patterns are NATS subjects, never JSON objects: Nest's own version first tries
   * JSON.parse on each request's subject, which throws, so every request paid for an exception
   * and its stack trace (2 % of the conference service's CPU in the issue 12 profile).
   */
  protected override getRouteFromPattern(pattern: string): string {
    return pattern.startsWith('{') ? super.getRouteFromPattern(pattern) : this.normalizePattern(pattern);
  }
}

/** The id of a Nest request packet, so that a refusal answers the request it refuses. */
function packetId(data: Uint8Array): string | undefined {
  try {
    const id = (JSON.parse(new TextDecoder().decode(data)) as { id?: unknown }).id;
    return typeof id === 'string' ? id : undefined;
  } catch {
    return undefined;
  }
}

/**
 * How every service listens on NATS: its request/reply handlers in queue group `service` (so
 * replicas share the load), each request's caller checked, with bounded replies.
 */
export function natsTransport(settings: NatsSettings, service: string, assertions: CallerAssertions): CustomStrategy {
  return {
    strategy: new VerifyingNatsServer({ ...natsConnectOptions(settings, `parley-${service}-rpc`), queue: service, serializer: new BoundedReplySerializer() }, assertions),
  };
}
