import { decodeRelayedEvent, encodeRelayedEvent } from './relayed-event';
import type { RecordedEvent } from './types';

describe('relayed event encoding', () => {
  const event: RecordedEvent = {
    globalPosition: 9_007_199_254_740_993n, // beyond Number precision on purpose
    transactionId: '123456789012',
    streamId: 'conference-1',
    streamVersion: 3,
    eventId: '0e6f2d4c-4a0e-4a43-9f55-0a4b2b1c3d4e',
    type: 'ConferenceJoinedEvent',
    schemaVersion: 2,
    data: { userId: 'u1', nested: [1, 2] },
    metadata: { correlationId: 'c', causationId: 'd', userId: 'u1', organizationId: 'o1', time: '2024-01-01T00:00:00.000Z' },
    createdAt: new Date('2024-01-01T00:00:01.234Z'),
  };

  it('is JSON with the global position as a decimal string', () => {
    const json = JSON.parse(new TextDecoder().decode(encodeRelayedEvent(event)));
    expect(json.globalPosition).toBe('9007199254740993');
    expect(json.createdAt).toBe('2024-01-01T00:00:01.234Z');
  });

  it('decodes back to the recorded event', () => {
    expect(decodeRelayedEvent(encodeRelayedEvent(event))).toEqual(event);
  });
});
