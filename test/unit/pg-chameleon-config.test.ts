import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readPgChameleonConfig } from '../../src/config/pg-chameleon-config.js';

const SOURCE = `
    db_conn:
      host: "db.example"
      port: 3307
      user: "repl"
      password: "s3cr:t@x"
    schema_mappings:
      shop: shop_pg`;

test('a pg_chameleon source: its connection as a URL, its mappings and options; YAML read as PyYAML reads it', () => {
  const c = readPgChameleonConfig(`
pg_conn: {host: pg.example, port: 5433, user: u, password: "p w", database: target}
sources:
  mysql:${SOURCE}
    gtid_enable: Yes
    keep_existing_schema: off
    limit_tables:
    skip_events:
      insert: [shop.a]
      update:
`, 'c.yml');
  assert.equal(c.pgUrl, 'postgres://u:p%20w@pg.example:5433/target');
  assert.deepEqual(c.sources, [{
    source: 'mysql',
    mysqlUrl: 'mysql://repl:s3cr%3At%40x@db.example:3307',
    schemaMappings: { shop: 'shop_pg' },
    options: { limit_tables: [], gtid_enable: true, skip_events: { insert: ['shop.a'], update: [] }, keep_existing_schema: false },
  }]);
  assert.equal(decodeURIComponent(new URL(c.sources[0].mysqlUrl).password), 's3cr:t@x');
});

test('what cannot be imported is an error naming the file, the source and the setting', () => {
  const cases: [string, RegExp][] = [
    ['sources: [a\n', /c\.yml: not valid YAML: /],
    ['log_level: info\n', /c\.yml: "sources" must map each source name/],
    [`sources:\n  pg:\n    type: pgsql${SOURCE}\n`, /source "pg": type "pgsql" is not a MySQL source/],
    [`sources:\n  m:${SOURCE}\n    replicate_everything: yes\n`, /source "m": unknown setting "replicate_everything"/],
    ['sources:\n  m:\n    db_conn: {port: 1}\n    schema_mappings: {a: b}\n', /source "m": db_conn needs host and user/],
    ['sources:\n  m:\n    db_conn: {host: h, user: u, port: "x1"}\n    schema_mappings: {a: b}\n', /db_conn\.port must be a number, got "x1"/],
    ['sources:\n  m:\n    db_conn: {host: h, user: u}\n', /source "m": schema_mappings must map MySQL databases/],
    [`type_override: [1]\nsources:\n  m:${SOURCE}\n`, /type_override must map MySQL types/],
  ];
  for (const [yaml, message] of cases) assert.throws(() => readPgChameleonConfig(yaml, 'c.yml'), message, yaml);
});
