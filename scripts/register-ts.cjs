// A `node -r` preload that runs the repository's TypeScript without a build step:
//
//   node -r ./scripts/register-ts.cjs bench/main.ts
//   node -r ./scripts/register-ts.cjs apps/conference/src/main.ts
//
// `.ts` files are compiled on require with @swc/core (scripts/swc-options.cjs, as jest does),
// and `@parley/<lib>` resolves to libs/<lib>/src/index.ts as in tsconfig.base.json's paths.
// The test harness's spawnTs runs its children with this preload too.
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const Module = require('node:module');

const root = path.resolve(__dirname, '..');
const swc = require(require.resolve('@swc/core', { paths: [root] }));

const swcOptions = require('./swc-options.cjs');

require.extensions['.ts'] = (module, filename) => {
  const { code } = swc.transformSync(fs.readFileSync(filename, 'utf8'), { ...swcOptions, filename });
  module._compile(code, filename);
};

const resolveFilename = Module._resolveFilename;
Module._resolveFilename = function (request, ...rest) {
  const lib = /^@parley\/([a-z0-9-]+)$/.exec(request);
  return resolveFilename.call(this, lib ? path.join(root, 'libs', lib[1], 'src', 'index.ts') : request, ...rest);
};

// Stack traces point into the .ts sources (the inline source maps above).
if (typeof process.setSourceMapsEnabled === 'function') process.setSourceMapsEnabled(true);
