import type { RecordedEvent } from './types';

/** An event as it travels over NATS: JSON, with the bigint position as a decimal string. */
export type RelayedEvent = Omit<RecordedEvent, 'globalPosition' | 'createdAt'> & { globalPosition: string; createdAt: string };

/** Headers set on every relayed message, so consumers can route without parsing the payload. */
export const EVENT_TYPE_HEADER = 'Parley-Event-Type';
export const STREAM_ID_HEADER = 'Parley-Stream-Id';
export const STREAM_VERSION_HEADER = 'Parley-Stream-Version';

const encoder = new TextEncoder();
const decoder = new TextDecoder();

export function encodeRelayedEvent(event: RecordedEvent): Uint8Array {
  const relayed: RelayedEvent = { ...event, globalPosition: event.globalPosition.toString(), createdAt: event.createdAt.toISOString() };
  return encoder.encode(JSON.stringify(relayed));
}

/** The inverse of encodeRelayedEvent, for consumers. */
export function decodeRelayedEvent(data: Uint8Array): RecordedEvent {
  const relayed = JSON.parse(decoder.decode(data)) as RelayedEvent;
  return { ...relayed, globalPosition: BigInt(relayed.globalPosition), createdAt: new Date(relayed.createdAt) };
}
