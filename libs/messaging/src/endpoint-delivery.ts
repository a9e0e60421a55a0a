import { JSONPath } from 'jsonpath-plus';
import type { NatsConnection } from 'nats';
import { type EndpointDelivery, endpointDeliverySubject, endpointQueuedSubject } from '@parley/contracts';

export interface DeliveryTarget {
  organizationId: string;
  userEndpointId: string;
}

const encoder = new TextEncoder();

/**
 * Sends one event to endpoints: qos 0 on core NATS (whichever gateway holds the endpoint's
 * socket pushes it; nobody listening, nobody gets it), qos 1 into PARLEY_DELIVERY (each publish
 * acknowledged by JetStream before this resolves; `Nats-Msg-Id` = delivery id + endpoint, so a
 * retried send is stored once).
 */
export async function deliverToEndpoints(nc: NatsConnection, targets: DeliveryTarget[], delivery: EndpointDelivery): Promise<void> {
  const data = encoder.encode(JSON.stringify(delivery));
  if (delivery.qos === 1) {
    const js = nc.jetstream();
    await Promise.all(targets.map((t) => js.publish(endpointQueuedSubject(t.organizationId, t.userEndpointId), data, { msgID: `${delivery.id}:${t.organizationId}:${t.userEndpointId}` })));
    return;
  }
  for (const t of targets) nc.publish(endpointDeliverySubject(t.organizationId, t.userEndpointId), data);
  await nc.flush();
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
