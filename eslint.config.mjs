// Lint: TypeScript rules plus Nx's module boundaries (docs/architecture.md): apps → platform → domain/data-access/util
// → contracts, and services never import each other (scope tags).
import nx from '@nx/eslint-plugin';

export default [
  ...nx.configs['flat/base'],
  ...nx.configs['flat/typescript'],
  { ignores: ['**/dist', '**/node_modules', '.data', '.nx', 'coverage'] },
  {
    files: ['**/*.ts'],
    rules: {
      '@nx/enforce-module-boundaries': [
        'error',
        {
          enforceBuildableLibDependency: true,
          allow: [],
          depConstraints: [
            { sourceTag: 'type:app', onlyDependOnLibsWithTags: ['type:platform', 'type:domain', 'type:data-access', 'type:util', 'type:contracts'] },
            // The service kit: what every service stands on (docs/service-kit.md).
            { sourceTag: 'type:platform', onlyDependOnLibsWithTags: ['type:data-access', 'type:util', 'type:contracts'] },
            { sourceTag: 'type:data-access', onlyDependOnLibsWithTags: ['type:util', 'type:contracts'] },
            { sourceTag: 'type:domain', onlyDependOnLibsWithTags: ['type:util', 'type:contracts'] },
            { sourceTag: 'type:util', onlyDependOnLibsWithTags: ['type:util', 'type:contracts'] },
            { sourceTag: 'type:contracts', onlyDependOnLibsWithTags: [] },
            // Each service is its own scope: it may use shared libs, never another service.
            { sourceTag: 'scope:gateway', onlyDependOnLibsWithTags: ['scope:shared', 'scope:gateway'] },
            { sourceTag: 'scope:conference', onlyDependOnLibsWithTags: ['scope:shared', 'scope:conference'] },
            { sourceTag: 'scope:media', onlyDependOnLibsWithTags: ['scope:shared', 'scope:media'] },
            { sourceTag: 'scope:presence', onlyDependOnLibsWithTags: ['scope:shared', 'scope:presence'] },
            { sourceTag: 'scope:interaction', onlyDependOnLibsWithTags: ['scope:shared', 'scope:interaction'] },
            { sourceTag: 'scope:snapshot', onlyDependOnLibsWithTags: ['scope:shared', 'scope:snapshot'] },
          ],
        },
      ],
      // Unused arguments named _x are deliberate (destructuring away a key, an interface's parameter).
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', destructuredArrayIgnorePattern: '^_' }],
    },
  },
  {
    // Tests may reach into apps to boot them, and use loose types for HTTP bodies.
    files: ['**/*.spec.ts', 'test/**/*.ts', 'bench/**/*.ts'],
    rules: { '@nx/enforce-module-boundaries': 'off', '@typescript-eslint/no-explicit-any': 'off', '@typescript-eslint/no-non-null-assertion': 'off' },
  },
];
