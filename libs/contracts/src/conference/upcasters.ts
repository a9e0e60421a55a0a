import type { ConferenceCreatedV1, ConferenceCreatedV2, ConferenceCreatedV3 } from './events';

/**
 * Turns the stored shape of one event type at one schema version into the next. Part of the
 * published contract: every reader of these events (the conference service's store, and every
 * consumer on JetStream) upcasts with the same list, so all see the newest shape.
 */
export interface EventUpcaster {
  type: string;
  fromSchemaVersion: number;
  upcast(data: unknown, metadata: { time: string }): { schemaVersion: number; data: unknown };
}

/**
 * ConferenceCreatedEvent v1 stored metadata as bare strings; v2 records who set each value
 * and when. Old events are upcast on read: the creator set every value at creation time.
 */
export const conferenceCreatedV1toV2: EventUpcaster = {
  type: 'ConferenceCreatedEvent',
  fromSchemaVersion: 1,
  upcast(data: unknown, metadata: { time: string }): { schemaVersion: number; data: ConferenceCreatedV2 } {
    const v1 = data as ConferenceCreatedV1;
    const metadataV2 = Object.fromEntries(
      Object.entries(v1.metadata ?? {}).map(([key, value]) => [
        key,
        { value, userId: v1.creator, ...(v1.creatorEndpoint ? { userEndpointId: v1.creatorEndpoint } : {}), lastModified: new Date(metadata.time).toISOString() },
      ]),
    );
    return { schemaVersion: 2, data: { ...v1, metadata: metadataV2 } };
  },
};

/** ConferenceCreatedEvent v3 carries when the conference was created; for older events that is when they were recorded. */
export const conferenceCreatedV2toV3: EventUpcaster = {
  type: 'ConferenceCreatedEvent',
  fromSchemaVersion: 2,
  upcast(data: unknown, metadata: { time: string }): { schemaVersion: number; data: ConferenceCreatedV3 } {
    return { schemaVersion: 3, data: { ...(data as ConferenceCreatedV2), createdAt: new Date(metadata.time).toISOString() } };
  },
};

export const conferenceUpcasters: readonly EventUpcaster[] = [conferenceCreatedV1toV2, conferenceCreatedV2toV3];
