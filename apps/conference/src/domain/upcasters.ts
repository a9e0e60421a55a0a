import type { ConferenceCreatedV1, ConferenceCreatedV2 } from '@parley/contracts';
import type { EventMetadata } from '@parley/eventsourcing';

/**
 * ConferenceCreatedEvent v1 stored metadata as bare strings; v2 records who set each value
 * and when. Old events are upcast on read: the creator set every value at creation time.
 */
export const conferenceCreatedV1toV2 = {
  type: 'ConferenceCreatedEvent',
  fromSchemaVersion: 1,
  upcast(data: unknown, metadata: EventMetadata): { schemaVersion: number; data: ConferenceCreatedV2 } {
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

export const conferenceUpcasters = [conferenceCreatedV1toV2];
