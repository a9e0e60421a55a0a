import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { conferenceStreamId, type ConferenceDomainEvent } from '@parley/contracts';
import { openEventStore } from '@parley/service-kit';
import { evolve } from './decider';
import { initialState } from './state';
import { toConferenceView } from './views';

/**
 * A ConferenceCreatedEvent stored in its v1 shape (bare string metadata) reads back as v2
 * (who set each value and when) through the conference service's store, and folds into the
 * same view a v2 event gives.
 */
describe('ConferenceCreatedEvent v1 → v2', () => {
  const dir = mkdtempSync(join(tmpdir(), 'parley-upcast-'));
  const store = openEventStore('conference', { dataDir: dir });
  beforeAll(() => store.init());
  afterAll(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('is upcast on read', async () => {
    const time = '2024-05-01T08:30:00.000Z';
    const metadata = { correlationId: 'c', causationId: 'c', userId: 'agent-1', organizationId: 'org-a', time };
    const v1 = {
      type: 'ConferenceCreatedEvent',
      schemaVersion: 1,
      data: { conferenceId: 'old-1', organizationId: 'org-a', mode: 'ROUTER', creator: 'agent-1', creatorEndpoint: 'ep-a', metadata: { topic: 'billing' } },
    };
    await store.append(conferenceStreamId('org-a', 'old-1'), 0, [{ eventId: randomUUID(), event: v1, metadata }]);

    const [read] = await store.readStream(conferenceStreamId('org-a', 'old-1'));
    expect(read.schemaVersion).toBe(3);
    expect(read.data).toEqual({
      conferenceId: 'old-1',
      organizationId: 'org-a',
      mode: 'ROUTER',
      creator: 'agent-1',
      creatorEndpoint: 'ep-a',
      metadata: { topic: { value: 'billing', userId: 'agent-1', userEndpointId: 'ep-a', lastModified: time } },
      createdAt: time,
    });
    const view = toConferenceView(evolve(initialState(), read as unknown as ConferenceDomainEvent));
    expect(view.metadata.topic.value).toBe('billing');
    expect(view.version).toBe(1);
  });

  it('reads v2 events as v3, created when they were recorded, and leaves v3 events alone', async () => {
    const v2 = {
      type: 'ConferenceCreatedEvent',
      schemaVersion: 2,
      data: { conferenceId: 'new-1', organizationId: 'org-a', mode: 'ROUTER', creator: 'a', metadata: { k: { value: 'v', userId: 'a', lastModified: '2026-01-01T00:00:00.000Z' } } },
    };
    const metadata = { correlationId: 'c', causationId: 'c', userId: 'a', organizationId: 'org-a', time: '2026-01-01T00:00:00.000Z' };
    await store.append(conferenceStreamId('org-a', 'new-1'), 0, [{ eventId: randomUUID(), event: v2, metadata }]);
    const [read] = await store.readStream(conferenceStreamId('org-a', 'new-1'));
    expect(read).toMatchObject({ schemaVersion: 3, data: { ...v2.data, createdAt: '2026-01-01T00:00:00.000Z' } });
    const v3 = { ...v2, schemaVersion: 3, data: { ...v2.data, conferenceId: 'new-2', createdAt: '2026-02-02T00:00:00.000Z' } };
    await store.append(conferenceStreamId('org-a', 'new-2'), 0, [{ eventId: randomUUID(), event: v3, metadata }]);
    expect((await store.readStream(conferenceStreamId('org-a', 'new-2')))[0]).toMatchObject({ schemaVersion: 3, data: v3.data });
  });
});
