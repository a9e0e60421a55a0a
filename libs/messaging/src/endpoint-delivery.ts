import { JSONPath } from 'jsonpath-plus';
import { type ConnectionOptions, type NatsConnection, createInbox } from 'nats';
import { DELIVERY_STREAM, type EndpointDelivery, type GroupDelivery, deliveryConsumerName, endpointDeliverySubject, endpointQueuedSubject, organizationDeliverySubject } from '@parley/contracts';

export interface DeliveryTarget {
  organizationId: string;
  userEndpointId: string;
}

/** What became of one call's deliveries, by endpoint count. */
export interface DeliveryOutcome {
  /** qos 0: sent to the session that is subscribed to the endpoint (on whichever gateway). */
  live: number;
  /** Stored in the endpoint's queue (PARLEY_DELIVERY): every qos 1 target, and the qos 0 targets that had no session. */
  queued: number;
  /** qos 0: NATS did not say within DELIVERY_CONFIRM_TIMEOUT_MS whether a session was there; counted as delivered, not queued (at most once). */
  unconfirmed: number;
}

export interface DeliveryOptions {
  /**
   * qos 0 only: send to the endpoints' sessions and keep nothing for an endpoint without one.
   * For what an endpoint can read again elsewhere: a conference's events are in its feed
   * (`GET /conferences/{id}/events?v=`), so a client that connects late catches up there, and a
   * conference of many endpoints that have not connected yet does not fill a queue each.
   * Sent as one message per organization (`parley.deliverg.<org>`, naming the targets), which
   * each gateway holding a session of the organization receives once.
   */
  liveOnly?: boolean;
}

/** Targets per live-only group message: keeps a message far below NATS's payload limit (1 MB) with ids of up to 128 characters. */
export const GROUP_DELIVERY_TARGETS = 1000;

/** The most a qos 0 delivery waits for the NATS server to say which endpoints have no session (normally one round trip). */
export const DELIVERY_CONFIRM_TIMEOUT_MS = 2000;

/** The status NATS answers a message with a reply subject that no subscription receives. */
const NO_RESPONDERS = 503;

const encoder = new TextEncoder();

/**
 * Sends one event to endpoints; resolves once each target's delivery is sent to its session or
 * stored in its queue.
 * - qos 0: a core NATS message to each endpoint, all at once, each with a reply subject. The
 *   gateway that holds the endpoint's session (socket or long poll) is subscribed and pushes it
 *   as it comes; when no session is subscribed anywhere, the server answers "no responders" at
 *   once, and the delivery is then stored in the endpoint's queue for its next session. The
 *   gateway does not answer: a flush (the server's PONG comes after its "no responders" answers
 *   to everything sent before it) tells which endpoints had no session. qos 0 is delivered at
 *   most once: what reached a subscribed session is not queued, even if that gateway is slow.
 * - qos 1: stored in each endpoint's queue; the endpoint's sessions deliver it until the client
 *   acknowledges it.
 * With `liveOnly`, qos 0 goes to the sessions there are and nothing is kept (see DeliveryOptions):
 * one message per organization (and per GROUP_DELIVERY_TARGETS targets) for the gateways holding
 * its sessions, instead of one per endpoint; it resolves once the messages are handed to the
 * connection.
 * A stored delivery has `Nats-Msg-Id` = delivery id + endpoint, so a retried send is stored once.
 * The queue is PARLEY_DELIVERY: at most 1,000 per endpoint (the oldest go first) and 24 h; the
 * presence service purges an endpoint's queue when it is unregistered or expires (twice its
 * keepAliveSeconds after its last register or keepalive).
 */
export async function deliverToEndpoints(nc: NatsConnection, targets: DeliveryTarget[], delivery: EndpointDelivery, options: DeliveryOptions = {}): Promise<DeliveryOutcome> {
  if (delivery.qos === 1) {
    await queue(nc, targets, delivery.id, encoder.encode(JSON.stringify(delivery)));
    return { live: 0, queued: targets.length, unconfirmed: 0 };
  }
  if (options.liveOnly) {
    // Handed to the connection, which sends them at once: no flush (a round trip) to wait for, as nothing depends on the server's answer.
    const byOrganization = new Map<string, string[]>();
    for (const t of targets) {
      const endpoints = byOrganization.get(t.organizationId);
      if (endpoints) endpoints.push(t.userEndpointId);
      else byOrganization.set(t.organizationId, [t.userEndpointId]);
    }
    for (const [organizationId, endpoints] of byOrganization) {
      for (let i = 0; i < endpoints.length; i += GROUP_DELIVERY_TARGETS) {
        nc.publish(organizationDeliverySubject(organizationId), encoder.encode(JSON.stringify({ targets: endpoints.slice(i, i + GROUP_DELIVERY_TARGETS), delivery } satisfies GroupDelivery)));
      }
    }
    return { live: targets.length, queued: 0, unconfirmed: 0 };
  }
  const data = encoder.encode(JSON.stringify(delivery));
  const found = await sendLive(nc, targets, data);
  const absent = targets.filter((_, i) => found[i] === 'no session');
  await queue(nc, absent, delivery.id, data);
  return { live: found.filter((f) => f === 'session').length, queued: absent.length, unconfirmed: found.filter((f) => f === 'unconfirmed').length };
}

/** Stores the delivery in each target's queue; each publish is acknowledged by JetStream before this resolves. */
async function queue(nc: NatsConnection, targets: DeliveryTarget[], deliveryId: string, data: Uint8Array): Promise<void> {
  if (targets.length === 0) return;
  const js = nc.jetstream();
  await Promise.all(targets.map((t) => js.publish(endpointQueuedSubject(t.organizationId, t.userEndpointId), data, { msgID: `${deliveryId}:${t.organizationId}:${t.userEndpointId}` })));
}

type Found = 'session' | 'no session' | 'unconfirmed';

/**
 * Where a connection hears NATS's "no responders" answers: one subscription for all its calls
 * (`<inbox>.<call>.<target>`), made once, since subscribing and unsubscribing on every call would
 * churn the server's subject index under load. The inbox is under the connection's own prefix,
 * the only one its NATS user may subscribe to.
 */
class NoRespondersInbox {
  private readonly inbox: string;
  private readonly calls = new Map<string, Set<number>>();
  private next = 0;
  private failed: unknown;

  constructor(nc: NatsConnection) {
    this.inbox = createInbox((nc as Partial<{ options: ConnectionOptions }>).options?.inboxPrefix);
    nc.subscribe(`${this.inbox}.*.*`, {
      callback: (err, m) => {
        if (err) {
          this.failed = err;
          return;
        }
        if (m.data.length !== 0 || m.headers?.code !== NO_RESPONDERS) return;
        const [call, target] = m.subject.slice(this.inbox.length + 1).split('.');
        this.calls.get(call)?.add(Number(target));
      },
    });
  }

  /** A call's reply subjects, and the targets NATS has so far said nobody receives. */
  open(): { replyTo: (target: number) => string; absent: Set<number>; close: () => void } {
    if (this.failed) throw this.failed;
    const call = String(this.next++);
    const absent = new Set<number>();
    this.calls.set(call, absent);
    return { replyTo: (target) => `${this.inbox}.${call}.${target}`, absent, close: () => this.calls.delete(call) };
  }
}

const inboxes = new WeakMap<NatsConnection, NoRespondersInbox>();

/**
 * Publishes the delivery to each target's live subject with a reply subject of this call, then
 * flushes: the server answers "no responders" for each target nobody is subscribed to while it
 * processes that message, so every such answer has arrived by the time the flush's PONG does (on
 * a cluster too: routes tell each server about the others' subscriptions). The rest had a
 * subscribed session. The messages leave as plain publishes would, and a session gets its
 * delivery exactly as before; only the sender waits, one round trip.
 */
async function sendLive(nc: NatsConnection, targets: DeliveryTarget[], data: Uint8Array): Promise<Found[]> {
  if (targets.length === 0) return [];
  let inbox = inboxes.get(nc);
  if (!inbox) inboxes.set(nc, (inbox = new NoRespondersInbox(nc)));
  const call = inbox.open();
  let timer: NodeJS.Timeout | undefined;
  try {
    targets.forEach((t, i) => nc.publish(endpointDeliverySubject(t.organizationId, t.userEndpointId), data, { reply: call.replyTo(i) }));
    const flush = nc.flush().then(() => true);
    flush.catch(() => undefined); // a flush that fails after the timeout won the race: nobody waits for it any more
    const flushed = await Promise.race([flush, new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), DELIVERY_CONFIRM_TIMEOUT_MS)))]);
    return targets.map((_, i) => (call.absent.has(i) ? 'no session' : flushed ? 'session' : 'unconfirmed'));
  } finally {
    clearTimeout(timer);
    call.close();
  }
}

/**
 * Empties an endpoint's queue: when an id is registered for the first time, what was sent to it
 * before (while staff used it unregistered) is not its new owner's. No delivery consumer exists
 * yet: only a registered endpoint opens sessions.
 */
export async function purgeEndpointQueue(nc: NatsConnection, organizationId: string, userEndpointId: string): Promise<void> {
  const jsm = await nc.jetstreamManager();
  await jsm.streams.purge(DELIVERY_STREAM, { filter: endpointQueuedSubject(organizationId, userEndpointId) });
}

/** Empties the queue of an endpoint that is gone (unregistered, expired) and deletes its delivery consumer. */
export async function forgetEndpointQueue(nc: NatsConnection, organizationId: string, userEndpointId: string): Promise<void> {
  await purgeEndpointQueue(nc, organizationId, userEndpointId);
  const jsm = await nc.jetstreamManager();
  await jsm.consumers.delete(DELIVERY_STREAM, deliveryConsumerName(organizationId, userEndpointId)).catch((err: unknown) => {
    if (!/consumer not found/i.test(String(err))) throw err;
  });
}

/**
 * Masks are JSONPath expressions (Jayway/Goessner syntax, e.g. `$.card.number`, `$..email`,
 * `$.items[*].note`). Script expressions are refused: masks come from clients.
 */
export function problemWithMasks(masks: string[]): string | null {
  for (const m of masks) {
    if (!m.startsWith('$')) return `mask "${m}" must be a JSONPath expression starting with "$"`;
    if (/[()]/.test(m)) return `mask "${m}": filter and script expressions are not allowed`;
    try {
      JSONPath({ path: m, json: {}, eval: false, wrap: true });
    } catch (e) {
      return `mask "${m}" is not a valid JSONPath expression: ${(e as Error).message}`;
    }
  }
  return null;
}

/**
 * A copy of `event` in which every string value a mask selects is replaced by as many '*'; other
 * values (numbers, objects) are left alone, as the spec asks masks to name strings. The
 * original is not touched: it is what the recipient receives.
 */
export function maskEvent<T extends Record<string, unknown>>(event: T, masks: readonly string[]): T {
  if (masks.length === 0) return event;
  const copy = structuredClone(event);
  for (const path of masks) {
    const hits = JSONPath({ path, json: copy, resultType: 'all', eval: false, wrap: true }) as Array<{ value: unknown; parent: Record<string, unknown> | null; parentProperty: string | number | null }>;
    for (const h of hits) {
      if (typeof h.value === 'string' && h.parent && h.parentProperty !== null) (h.parent as Record<string | number, unknown>)[h.parentProperty] = '*'.repeat(h.value.length);
    }
  }
  return copy;
}
