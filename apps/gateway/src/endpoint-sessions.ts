import { randomUUID } from 'node:crypto';
import { Inject, Injectable, Logger, type OnModuleDestroy } from '@nestjs/common';
import { AckPolicy, type ConsumerMessages, DeliverPolicy, type JsMsg, type NatsConnection, type Subscription, nanos } from 'nats';
import {
  DELIVERY_STREAM,
  type EndpointDelivery,
  type EndpointSessionControl,
  type GroupDelivery,
  deliveryConsumerName,
  endpointDeliverySubject,
  endpointQueuedSubject,
  endpointSessionSubject,
  organizationDeliverySubject,
} from '@parley/contracts';
import { NATS_CONNECTION } from './tokens';

/** How an endpoint's deliveries leave this gateway: a socket, or the long-poll buffer. */
export interface DeliverySink {
  push(delivery: EndpointDelivery): void;
  /** The session ended from outside: a newer session of the endpoint opened, or the endpoint was unregistered. */
  ended(why: 'replaced' | 'unregistered', reason?: string): void;
}

/** An unacknowledged qos 1 delivery is delivered again after this long, even to a session that stays open. */
const ACK_WAIT_MS = 30_000;

const decoder = new TextDecoder();

/**
 * The live-only group deliveries of a connection's sessions (deliverToEndpoints with liveOnly:
 * a conference's events): one subscription to `parley.deliverg.<org>` per organization that has
 * a session on this connection, made with its first session and dropped with its last. Each
 * message names its targets; those with a session here get it pushed, the rest are another
 * gateway's (or have no session: nothing is kept for them).
 */
class OrganizationDeliveries {
  private readonly organizations = new Map<string, { sub: Subscription; sessions: Map<string, Set<EndpointSession>> }>();

  constructor(private readonly nc: NatsConnection) {}

  /** Subscribed once the connection's next flush completes (EndpointSession.open flushes before it announces itself). */
  attach(session: EndpointSession): void {
    let org = this.organizations.get(session.organizationId);
    if (!org) {
      const sessions = new Map<string, Set<EndpointSession>>();
      const sub = this.nc.subscribe(organizationDeliverySubject(session.organizationId), {
        callback: (err, m) => {
          if (err) return;
          const group = JSON.parse(decoder.decode(m.data)) as GroupDelivery;
          for (const target of group.targets) for (const s of sessions.get(target) ?? []) s.pushLive(group.delivery);
        },
      });
      this.organizations.set(session.organizationId, (org = { sub, sessions }));
    }
    const mine = org.sessions.get(session.userEndpointId);
    if (mine) mine.add(session);
    else org.sessions.set(session.userEndpointId, new Set([session]));
  }

  detach(session: EndpointSession): void {
    const org = this.organizations.get(session.organizationId);
    const mine = org?.sessions.get(session.userEndpointId);
    if (!org || !mine?.delete(session)) return;
    if (mine.size === 0) org.sessions.delete(session.userEndpointId);
    if (org.sessions.size > 0) return;
    org.sub.unsubscribe();
    this.organizations.delete(session.organizationId);
  }
}

const groupDeliveries = new WeakMap<NatsConnection, OrganizationDeliveries>();
function groupDeliveriesOf(nc: NatsConnection): OrganizationDeliveries {
  let g = groupDeliveries.get(nc);
  if (!g) groupDeliveries.set(nc, (g = new OrganizationDeliveries(nc)));
  return g;
}

/**
 * One endpoint's delivery session on this gateway:
 * - live (qos 0): a core subscription to `parley.deliver.<org>.<endpoint>`, pushed as it comes.
 *   While no session anywhere is subscribed, NATS answers the sender "no responders" and the
 *   sender stores the delivery in the endpoint's queue instead (deliverToEndpoints); live-only
 *   deliveries to many endpoints come once per organization (OrganizationDeliveries);
 * - queued (qos 1, and qos 0 sent while the endpoint had no session): the endpoint's durable
 *   consumer on PARLEY_DELIVERY. A qos 0 delivery is acknowledged to JetStream as soon as it is
 *   pushed (the client does not acknowledge qos 0); a qos 1 delivery only when the client
 *   acknowledges its id, and what is unacknowledged when the session closes is handed back
 *   (nak) so the next session gets it at once. A queued delivery whose `expiresAt` has passed is
 *   acknowledged and dropped, not pushed;
 * - control: a newer session of the same endpoint (on any gateway) replaces this one, and the
 *   presence service closes it when the endpoint is unregistered or expires.
 */
export class EndpointSession {
  readonly id = randomUUID();
  private subs: Subscription[] = [];
  private messages?: ConsumerMessages;
  private readonly unacked = new Map<string, JsMsg>();
  private closed = false;

  constructor(
    private readonly nc: NatsConnection,
    readonly organizationId: string,
    readonly userEndpointId: string,
    private readonly sink: DeliverySink,
  ) {}

  async open(): Promise<void> {
    const { organizationId: org, userEndpointId: ep } = this;
    const control = this.nc.subscribe(endpointSessionSubject(org, ep), {
      callback: (_err, m) => {
        const c = JSON.parse(decoder.decode(m.data)) as EndpointSessionControl;
        if (c.kind === 'opened' && c.sessionId !== this.id) this.end('replaced');
        if (c.kind === 'unregistered') this.end('unregistered', c.reason);
      },
    });
    const live = this.nc.subscribe(endpointDeliverySubject(org, ep), {
      callback: (_err, m) => {
        if (!this.closed) this.sink.push(JSON.parse(decoder.decode(m.data)) as EndpointDelivery);
      },
    });
    this.subs = [control, live];
    groupDeliveriesOf(this.nc).attach(this);
    await this.nc.flush(); // subscribed on the server before anything is announced
    this.nc.publish(endpointSessionSubject(org, ep), JSON.stringify({ kind: 'opened', sessionId: this.id } satisfies EndpointSessionControl));

    const name = deliveryConsumerName(org, ep);
    const jsm = await this.nc.jetstreamManager();
    await jsm.consumers.add(DELIVERY_STREAM, {
      durable_name: name,
      filter_subject: endpointQueuedSubject(org, ep),
      ack_policy: AckPolicy.Explicit,
      deliver_policy: DeliverPolicy.All,
      ack_wait: nanos(ACK_WAIT_MS),
      max_ack_pending: 1000,
    });
    if (this.closed) return;
    const consumer = await this.nc.jetstream().consumers.get(DELIVERY_STREAM, name);
    const messages = await consumer.consume({ max_messages: 100 });
    this.messages = messages;
    void (async () => {
      for await (const m of messages) {
        if (this.closed) {
          m.nak();
          continue;
        }
        const delivery = m.json<EndpointDelivery>();
        if (delivery.expiresAt !== undefined && Date.parse(delivery.expiresAt) <= Date.now()) {
          m.ack(); // waited past its use (a keepalive reminder past its deadline): dropped
          continue;
        }
        if (delivery.qos === 1) this.unacked.set(delivery.id, m);
        this.sink.push(delivery);
        if (delivery.qos !== 1) m.ack();
      }
    })();
  }

  /** A live-only delivery addressed to this session's endpoint among others. */
  pushLive(delivery: EndpointDelivery): void {
    if (!this.closed) this.sink.push(delivery);
  }

  /** The client handled these qos 1 deliveries. Unknown ids (already acknowledged, another session's) are ignored. */
  ack(ids: string[]): void {
    for (const id of ids) {
      const m = this.unacked.get(id);
      if (!m) continue;
      m.ack();
      this.unacked.delete(id);
    }
  }

  get pendingAcks(): number {
    return this.unacked.size;
  }

  private end(why: 'replaced' | 'unregistered', reason?: string): void {
    if (this.closed) return;
    this.close();
    this.sink.ended(why, reason);
  }

  /** Stops delivering; unacknowledged qos 1 deliveries go back to JetStream for the next session. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const s of this.subs) s.unsubscribe();
    groupDeliveriesOf(this.nc).detach(this);
    this.messages?.stop();
    for (const m of this.unacked.values()) m.nak();
    this.unacked.clear();
  }
}

/** The sessions this gateway holds, for metrics and orderly shutdown. */
@Injectable()
export class EndpointSessions implements OnModuleDestroy {
  private readonly logger = new Logger(EndpointSessions.name);
  private readonly open = new Set<EndpointSession>();

  constructor(@Inject(NATS_CONNECTION) private readonly nc: NatsConnection) {}

  async start(organizationId: string, userEndpointId: string, sink: DeliverySink): Promise<EndpointSession> {
    const session = new EndpointSession(this.nc, organizationId, userEndpointId, {
      push: (d) => sink.push(d),
      ended: (why, reason) => {
        this.open.delete(session);
        sink.ended(why, reason);
      },
    });
    this.open.add(session);
    try {
      await session.open();
    } catch (err) {
      this.close(session);
      throw err;
    }
    return session;
  }

  close(session: EndpointSession): void {
    session.close();
    this.open.delete(session);
  }

  get count(): number {
    return this.open.size;
  }

  onModuleDestroy(): void {
    this.logger.log(`closing ${this.open.size} endpoint session(s)`);
    for (const s of this.open) s.close();
    this.open.clear();
  }
}
