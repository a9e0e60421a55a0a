import type { SqlEventStore } from '@parley/eventsourcing';
import { Projections, eventProjection } from './projections';

const projection = (name: string, companions?: string[]) =>
  eventProjection({ name, version: 1, mode: 'inline', eventTypes: [], ...(companions ? { companions } : {}), schema: () => [], apply: async () => undefined });
const store = {} as SqlEventStore;

describe('Projections refuses definitions whose tables a swap would confuse', () => {
  it('refuses two of one name, a name that is no SQL name, and a companion suffix that is none', () => {
    expect(() => new Projections(store, [projection('a_b'), projection('a_b')])).toThrow(/two projections are named a_b/);
    expect(() => new Projections(store, [projection('A-b')])).toThrow(/a lowercase SQL name/);
    expect(() => new Projections(store, [projection('a_b', ['Hours'])])).toThrow(/a companion's suffix is a lowercase SQL name/);
  });

  it("refuses a projection whose table or companion looks like a companion of another's (a swap of that one would drop it)", () => {
    // foo_v1's table is foo_v1_v1, which a swap of foo takes for a companion of foo_v1.
    expect(() => new Projections(store, [projection('foo'), projection('foo_v1')])).toThrow(/projection foo_v1's tables would be taken for companions of foo's/);
    expect(() => new Projections(store, [projection('foo'), projection('foo_v2_x')])).toThrow(/would be taken for companions of foo's/);
    // Names that only share a beginning are fine, and so are companions of one's own.
    expect(() => new Projections(store, [projection('foo', ['hours']), projection('foo_bar', ['hours']), projection('foobar')])).not.toThrow();
  });
});
