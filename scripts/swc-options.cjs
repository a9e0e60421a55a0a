// The one set of @swc/core options for running the repository's TypeScript without a build:
// jest (@swc/jest), the `node -r scripts/register-ts.cjs` preload, and so the test harness's
// child processes. Legacy decorators with metadata, so Nest's dependency injection works.
'use strict';
module.exports = {
  jsc: {
    parser: { syntax: 'typescript', decorators: true },
    transform: { legacyDecorator: true, decoratorMetadata: true },
    target: 'es2022',
    keepClassNames: true,
  },
  module: { type: 'commonjs' },
  sourceMaps: 'inline',
};
