// One jest run, three tiers chosen by file suffix (see docs/architecture.md): unit, int, e2e.
const swc = ['@swc/jest', require('./scripts/swc-options.cjs')];
const moduleNameMapper = {
  '^@parley/(contracts|eventsourcing|messaging|auth|testing|service-kit|storage)$': '<rootDir>/libs/$1/src/index.ts',
  // file-type exports only `import` and `module-sync` conditions (Node takes the latter); jest gets its Node entry by path.
  '^file-type$': '<rootDir>/node_modules/file-type/index.js',
};
// Some dependencies ship ES modules only (Node 20.19 requires them natively; jest's module
// system does not), so jest compiles those few to CommonJS too.
const esmOnly = ['content-disposition', 'file-type', 'strtok3', 'token-types', 'uint8array-extras', '@tokenizer/inflate', '@borewit/text-codec'];
const base = {
  transform: { '^.+\\.ts$': swc, '^.+\\.js$': swc },
  // Nested too (@fastify/static keeps its own content-disposition 3 under its node_modules).
  transformIgnorePatterns: [`/node_modules/(?!(?:.*/node_modules/)?(?:${esmOnly.join('|')})/)`],
  moduleNameMapper, testEnvironment: 'node', roots: ['<rootDir>/apps', '<rootDir>/libs', '<rootDir>/test'] };

module.exports = {
  // Integration and end-to-end tests start real servers; unit tests finish far sooner.
  testTimeout: 120000,
  // A fresh worker process for every test file: @roamhq/wrtc (libwebrtc) does not survive being
  // loaded again into a process whose earlier test file used it (jest gives each file its own
  // module registry): the worker crashed with SIGSEGV in a later wrtc test. Recycling costs a
  // worker start per file.
  workerIdleMemoryLimit: '1MB',
  projects: [
    { ...base, displayName: 'unit', testMatch: ['**/*.unit.spec.ts'] },
    { ...base, displayName: 'int', testMatch: ['**/*.int.spec.ts'] },
    { ...base, displayName: 'e2e', testMatch: ['**/*.e2e.spec.ts'] },
  ],
};
