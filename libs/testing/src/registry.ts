import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

/** One process of Parley, as services.json lists it. */
export interface RegisteredService {
  name: string;
  /** Its directory: `<app>/src/main.ts` is its entry, `<app>/dist/main.js` once built. */
  app: string;
  /** `service`: defined with the kit (its definition is exported as `<name>Service` from `<app>/src`); `gateway`: the HTTP entry. */
  kind: 'service' | 'gateway';
  /** It keeps an event store (a PostgreSQL database or PGlite directory of its own). */
  eventStore: boolean;
  /** What must be on the machine before it starts. */
  needs?: string[];
}

export const REPOSITORY_ROOT = resolve(__dirname, '../../..');

/** Every process of Parley, in start order: services.json at the repository's root, which npm start reads too. */
export function registeredServices(): RegisteredService[] {
  return (JSON.parse(readFileSync(join(REPOSITORY_ROOT, 'services.json'), 'utf8')) as { services: RegisteredService[] }).services;
}
