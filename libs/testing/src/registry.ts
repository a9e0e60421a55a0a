import { resolve } from 'node:path';
import { PARLEY_SERVICES, type RegisteredService } from '@parley/contracts';

export type { RegisteredService };

export const REPOSITORY_ROOT = resolve(__dirname, '../../..');

/** Every process of Parley, in start order (PARLEY_SERVICES of libs/contracts, which npm start reads too). */
export function registeredServices(): readonly RegisteredService[] {
  return PARLEY_SERVICES;
}
