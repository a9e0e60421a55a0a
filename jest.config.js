// One jest run, three tiers chosen by file suffix (see DESIGN.md): unit, int, e2e.
const swc = [
  '@swc/jest',
  {
    jsc: {
      parser: { syntax: 'typescript', decorators: true },
      transform: { legacyDecorator: true, decoratorMetadata: true },
      target: 'es2022',
      keepClassNames: true,
    },
    module: { type: 'commonjs' },
    sourceMaps: 'inline',
  },
];
const moduleNameMapper = { '^@parley/(contracts|eventsourcing|messaging|auth|testing)$': '<rootDir>/libs/$1/src/index.ts' };
const base = { transform: { '^.+\\.ts$': swc }, moduleNameMapper, testEnvironment: 'node', roots: ['<rootDir>/apps', '<rootDir>/libs', '<rootDir>/test'] };

module.exports = {
  projects: [
    { ...base, displayName: 'unit', testMatch: ['**/*.unit.spec.ts'] },
    { ...base, displayName: 'int', testMatch: ['**/*.int.spec.ts'], testTimeout: 60000 },
    { ...base, displayName: 'e2e', testMatch: ['**/*.e2e.spec.ts'], testTimeout: 120000 },
  ],
  reporters: ['default', '<rootDir>/scripts/summary-reporter.js'],
};
