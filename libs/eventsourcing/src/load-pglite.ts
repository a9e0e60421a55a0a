import * as nodeModule from 'node:module';

type PgliteModule = typeof import('@electric-sql/pglite');
type CreateRequire = typeof nodeModule.createRequire;

let cached: PgliteModule | undefined;

/**
 * Loads @electric-sql/pglite through Node's own `require`, bypassing any module sandbox.
 *
 * In a normal Node process this is exactly `require('@electric-sql/pglite')` (same module
 * cache). It matters under jest: jest evaluates modules in a VM context whose dynamic
 * `import()` fails without `--experimental-vm-modules`, and PGlite's CommonJS build
 * `import()`s Node built-ins (fs, zlib, node:module) while starting. Jest also replaces
 * `node:module`'s createRequire with its own, so the real one is taken from
 * `process.getBuiltinModule` (Node ≥ 20.16). Loaded this way PGlite runs in the host context,
 * where that works; values it returns then come from the host realm (its Dates fail
 * `instanceof Date` inside jest), which row mapping allows for.
 */
export function loadPglite(): PgliteModule {
  if (!cached) {
    const getBuiltin = (process as { getBuiltinModule?: (id: string) => unknown }).getBuiltinModule;
    const real = getBuiltin?.('node:module') as { createRequire: CreateRequire } | undefined;
    const createRequire = real?.createRequire ?? nodeModule.createRequire;
    cached = createRequire(__filename)('@electric-sql/pglite') as PgliteModule;
  }
  return cached;
}
