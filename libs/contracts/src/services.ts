/** One process of Parley. */
export interface RegisteredService {
  name: string;
  /** Its directory: `<app>/src/main.ts` is its entry, `<app>/dist/main.js` once built. */
  app: string;
  /** `service`: defined with the service kit (its definition is exported as `<name>Service` from `<app>/src`); `gateway`: the HTTP entry. */
  kind: 'service' | 'gateway';
  /** It keeps an event store (a PostgreSQL database or PGlite directory of its own). */
  eventStore: boolean;
  /** What must be on the machine before it starts. */
  needs?: readonly string[];
}

/**
 * Every process of Parley, in start order: `npm start`, the test harness's stack, the bench, the
 * gateway's /health and the deployment test read this list, so adding a service is one entry
 * here (docs/service-kit.md). Plain data without imports: `npm start` reads it from the build.
 */
export const PARLEY_SERVICES: readonly RegisteredService[] = [
  { name: 'conference', app: 'apps/conference', kind: 'service', eventStore: true },
  { name: 'presence', app: 'apps/presence', kind: 'service', eventStore: true },
  { name: 'interaction', app: 'apps/interaction', kind: 'service', eventStore: true },
  { name: 'snapshot', app: 'apps/snapshot', kind: 'service', eventStore: true },
  { name: 'media', app: 'apps/media', kind: 'service', eventStore: false, needs: ['mediasoup-worker'] },
  { name: 'gateway', app: 'apps/gateway', kind: 'gateway', eventStore: false },
];
