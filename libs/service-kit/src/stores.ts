import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { eventUpcasters } from '@parley/contracts';
import { PgliteEventStore, PostgresEventStore, type SqlEventStore, UpcasterRegistry } from '@parley/eventsourcing';

/** Every upcaster of every published event: the one registry stores and consumers read with. */
export const upcasterRegistry = (): UpcasterRegistry => new UpcasterRegistry([...eventUpcasters]);

/** The event store of a service: PostgreSQL when DATABASE_URL is set, else PGlite under DATA_DIR/<service>. */
export function openEventStore(name: string, settings: { databaseUrl?: string; dataDir: string }): SqlEventStore {
  const upcasters = upcasterRegistry();
  if (settings.databaseUrl) return new PostgresEventStore(settings.databaseUrl, { upcasters });
  const dir = join(settings.dataDir, name);
  mkdirSync(dir, { recursive: true });
  return new PgliteEventStore(dir, { upcasters });
}

