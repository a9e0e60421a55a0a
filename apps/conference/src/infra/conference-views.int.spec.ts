import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { conferenceStreamId } from '@parley/contracts';
import type { ConferenceDomainEvent } from '@parley/contracts';
import { Projections, openEventStore, tableOf } from '@parley/service-kit';
import { evolve } from '../domain/decider';
import { initialState } from '../domain/state';
import { MIGRATE_LEGACY_STREAMS, activeConferences, activeConferencesCreatedBy, conferenceViews } from './conference-views';

/**
 * The conference read model on PGlite: streams recorded before conference ids were scoped by
 * organization are migrated and folded into the views; the active list pages by bytes.
 */
describe('conference views', () => {
  const dir = mkdtempSync(join(tmpdir(), 'parley-views-'));
  const store = openEventStore('conference', { dataDir: dir });
  const projections = new Projections(store, [conferenceViews]);
  // What the service does at start: the migration, then the projection built if it is not live.
  const prepare = async () => {
    await store.transaction((sql) => sql.query(MIGRATE_LEGACY_STREAMS));
    await projections.prepare();
  };
  const meta = (organizationId: string) => ({ correlationId: 'c', causationId: 'c', userId: 'agent-1', organizationId, time: '2026-01-01T00:00:00.000Z' });
  const created = (conferenceId: string, organizationId: string, metadata: Record<string, unknown> = {}) => ({
    eventId: randomUUID(),
    event: { type: 'ConferenceCreatedEvent', schemaVersion: 3, data: { conferenceId, organizationId, mode: 'ROUTER', creator: 'agent-1', metadata, createdAt: '2026-01-01T00:00:00.000Z' } },
    metadata: meta(organizationId),
  });
  beforeAll(() => store.init());
  afterAll(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('migrates legacy `conference-<id>` streams to `conference/<org>/<id>` and builds their views', async () => {
    // Two organizations once could not both have "call-1"; legacy streams carry the organization in their events.
    await store.append('conference-call-1', 0, [created('call-1', 'org-a')]);
    await store.append('conference-call-2', 0, [created('call-2', 'org-b')]);
    await prepare();
    expect((await store.readStream('conference-call-1')).length).toBe(0);
    expect((await store.readStream(conferenceStreamId('org-a', 'call-1'))).map((e) => e.type)).toEqual(['ConferenceCreatedEvent']);
    expect((await store.readStream(conferenceStreamId('org-b', 'call-2'))).length).toBe(1);
    const a = await store.transaction((sql) => activeConferences(sql, 'org-a'));
    expect(a.conferences.map((c) => c.id)).toEqual(['call-1']);
    expect(await store.transaction((sql) => activeConferencesCreatedBy(sql, 'org-b', 'agent-1', 100))).toBe(1);
    expect(await store.transaction((sql) => activeConferencesCreatedBy(sql, 'org-a', 'agent-1', 0))).toBe(0); // counted only up to the quota
    // Idempotent.
    await prepare();
    expect((await store.readStream(conferenceStreamId('org-a', 'call-1'))).length).toBe(1);
  });

  it('answers the active conferences in pages that fit Limits.pageBytes, each page after the last', async () => {
    // Twelve conferences of about 200 KB each (near Limits.conferenceBytes): four pages at least.
    const blob = { note: { value: 'x'.repeat(200_000), userId: 'agent-1', lastModified: '2026-01-01T00:00:00.000Z' } };
    for (let i = 0; i < 12; i++) {
      const state = evolve(initialState(), created(`big-${i}`, 'org-p', blob).event as ConferenceDomainEvent);
      await store.transaction((sql) => conferenceViews.save(sql, tableOf(conferenceViews), state));
    }
    const seen: string[] = [];
    let pages = 0;
    let page = await store.transaction((sql) => activeConferences(sql, 'org-p'));
    for (;;) {
      expect(JSON.stringify(page.conferences).length).toBeLessThanOrEqual(768 * 1024);
      seen.push(...page.conferences.map((c) => c.id));
      pages++;
      if (!page.next) break;
      const after = page.next;
      page = await store.transaction((sql) => activeConferences(sql, 'org-p', after));
    }
    expect(seen.sort()).toEqual(Array.from({ length: 12 }, (_, i) => `big-${i}`).sort());
    expect(pages).toBeGreaterThanOrEqual(4);
  });
});
