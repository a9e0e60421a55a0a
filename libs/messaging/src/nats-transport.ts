import { Logger } from '@nestjs/common';
import { type MicroserviceOptions, Transport } from '@nestjs/microservices';
import { NatsRecordSerializer } from '@nestjs/microservices/serializers';
import { Limits } from '@parley/contracts';
import { natsServers } from './rpc-client';

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
 * How every service listens on NATS: its request/reply handlers in queue group `service` (so
 * replicas share the load), with bounded replies.
 */
export function natsTransport(natsUrl: string, service: string): MicroserviceOptions {
  return {
    transport: Transport.NATS,
    options: { servers: natsServers(natsUrl), queue: service, name: `parley-${service}-rpc`, serializer: new BoundedReplySerializer() },
  };
}
