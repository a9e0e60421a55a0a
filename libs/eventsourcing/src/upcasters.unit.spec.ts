import type { EventMetadata } from './types';
import { UpcasterRegistry, type Upcaster } from './upcasters';

const metadata: EventMetadata = {
  correlationId: 'c',
  causationId: 'c',
  userId: 'u',
  organizationId: 'org-1',
  time: '2024-01-01T00:00:00.000Z',
};

// v1 {name} → v2 {firstName,lastName} → v3 adds the organization from the metadata.
const v1ToV2: Upcaster = {
  type: 'UserRenamed',
  fromSchemaVersion: 1,
  upcast: (data) => {
    const [firstName, lastName = ''] = String((data as { name: string }).name).split(' ');
    return { schemaVersion: 2, data: { firstName, lastName } };
  },
};
const v2ToV3: Upcaster = {
  type: 'UserRenamed',
  fromSchemaVersion: 2,
  upcast: (data, meta) => ({ schemaVersion: 3, data: { ...(data as object), organizationId: meta.organizationId } }),
};

describe('UpcasterRegistry', () => {
  it('chains upcasters from the stored version up to the newest', () => {
    const registry = new UpcasterRegistry().register(v2ToV3, v1ToV2);
    const upcast = registry.upcast({ type: 'UserRenamed', schemaVersion: 1, data: { name: 'Ada Lovelace' }, metadata, extra: 42 });
    expect(upcast).toEqual({
      type: 'UserRenamed',
      schemaVersion: 3,
      data: { firstName: 'Ada', lastName: 'Lovelace', organizationId: 'org-1' },
      metadata,
      extra: 42,
    });
  });

  it('starts the chain at the stored version', () => {
    const registry = new UpcasterRegistry([v1ToV2, v2ToV3]);
    const upcast = registry.upcast({ type: 'UserRenamed', schemaVersion: 2, data: { firstName: 'A', lastName: 'B' }, metadata });
    expect(upcast.schemaVersion).toBe(3);
    expect(upcast.data).toEqual({ firstName: 'A', lastName: 'B', organizationId: 'org-1' });
  });

  it('leaves other types and already current versions untouched (same object)', () => {
    const registry = new UpcasterRegistry([v1ToV2, v2ToV3]);
    const other = { type: 'UserDeleted', schemaVersion: 1, data: { name: 'x' }, metadata };
    const current = { type: 'UserRenamed', schemaVersion: 3, data: { firstName: 'x' }, metadata };
    expect(registry.upcast(other)).toBe(other);
    expect(registry.upcast(current)).toBe(current);
  });

  it('does not mutate the input event', () => {
    const registry = new UpcasterRegistry([v1ToV2]);
    const event = { type: 'UserRenamed', schemaVersion: 1, data: { name: 'Ada Lovelace' }, metadata };
    registry.upcast(event);
    expect(event).toEqual({ type: 'UserRenamed', schemaVersion: 1, data: { name: 'Ada Lovelace' }, metadata });
  });

  it('refuses two upcasters for the same type and version', () => {
    const registry = new UpcasterRegistry([v1ToV2]);
    expect(() => registry.register({ ...v1ToV2 })).toThrow('already registered');
  });

  it('refuses an upcaster that does not move the version forward', () => {
    const registry = new UpcasterRegistry([{ type: 'Loop', fromSchemaVersion: 1, upcast: (data) => ({ schemaVersion: 1, data }) }]);
    expect(() => registry.upcast({ type: 'Loop', schemaVersion: 1, data: {}, metadata })).toThrow('must be greater');
  });
});
