// Lint rules, including the direction of imports between layers:
// errors → log, config → catalog, mysql → ddl, binlog → snapshot, replica → agent → cli.
import tseslint from 'typescript-eslint';

/** Layers a folder must not import from (its dependents). */
const forbidden = {
  'src/errors.ts': ['log', 'config', 'catalog', 'mysql', 'ddl', 'binlog', 'snapshot', 'replica', 'agent', 'cli', 'servers'],
  'src/log.ts': ['config', 'catalog', 'mysql', 'ddl', 'binlog', 'snapshot', 'replica', 'agent', 'cli', 'servers'],
  'src/config/**': ['catalog', 'mysql', 'ddl', 'binlog', 'snapshot', 'replica', 'agent', 'cli'],
  'src/catalog/**': ['mysql', 'binlog', 'snapshot', 'replica', 'agent', 'cli'],
  'src/mysql/**': ['catalog', 'ddl', 'binlog', 'snapshot', 'replica', 'agent', 'cli'],
  'src/ddl/**': ['catalog', 'binlog', 'snapshot', 'replica', 'agent', 'cli'],
  'src/binlog/**': ['catalog', 'ddl', 'snapshot', 'replica', 'agent', 'cli'],
  'src/snapshot/**': ['binlog', 'replica', 'agent', 'cli'],
  'src/replica/**': ['agent', 'cli'],
  'src/agent/**': ['cli'],
  'src/servers/**': ['catalog', 'mysql', 'ddl', 'binlog', 'snapshot', 'replica', 'agent', 'cli'],
};

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'extension/**'] },
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
      'no-console': 'error',
    },
  },
  ...Object.entries(forbidden).map(([files, layers]) => ({
    files: [files.endsWith('.ts') ? files : `${files}/*.ts`],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: layers.map((layer) => ({
            group: [`**/${layer}/*`, `**/${layer}.js`, `../${layer}/*`],
            message: `this layer must not import from ${layer}/ (see STYLE: direction of imports)`,
          })),
        },
      ],
    },
  })),
  {
    files: ['test/**/*.ts', 'bench/**/*.ts', 'src/cli/**/*.ts'],
    rules: { 'no-console': 'off' },
  },
);
