import { resolve } from 'node:path';

/** The repository's root, from src/ and dist/ alike. */
export const REPOSITORY_ROOT = resolve(__dirname, '../../..');
