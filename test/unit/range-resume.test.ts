import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { MysqlColumn } from '../../src/mysql/column.js';
import type { MysqlIndex, MysqlTable } from '../../src/mysql/metadata.js';
import { planTables } from '../../src/snapshot/plan.js';
import { resumableKey, resumeMark } from '../../src/snapshot/range-resume.js';
import type { Source } from '../../src/catalog/sources.js';

function column(name: string, dataType: string, ordinal: number): MysqlColumn {
  return {
    name, ordinal, dataType, columnType: dataType, nullable: false, defaultValue: null, numericPrecision: null, numericScale: null,
    datetimePrecision: null, charMaxLength: null, charset: null, collation: null, extra: '', generationExpression: null, comment: '', isJson: false,
  };
}

function index(name: string, columns: string[], opts: { unique?: boolean; primary?: boolean } = {}): MysqlIndex {
  return { name, unique: opts.unique ?? false, primary: opts.primary ?? false, kind: 'BTREE', columns: columns.map((c) => ({ name: c, prefixLength: null, descending: false })) };
}

function table(columns: MysqlColumn[], indexes: MysqlIndex[], primaryKey = ['id']): MysqlTable {
  return { schema: 'db', name: 't', engine: 'InnoDB', rowsEstimate: 5_000_000, comment: '', autoIncrement: null, columns, indexes, primaryKey };
}

const source = { options: { limit_tables: [], skip_tables: [] }, schemaMappings: { db: 'app' } } as unknown as Source;
const plan = (t: MysqlTable) => planTables([t], source, false, 'mariadb')[0];

describe('resumableKey', () => {
  test('a single integer key without a unique secondary key resumes by that key', () => {
    const cols = [column('id', 'bigint', 1), column('v', 'int', 2)];
    assert.equal(resumableKey(plan(table(cols, [index('PRIMARY', ['id'], { primary: true, unique: true }), index('v', ['v'])]))), 'id');
  });
  test('a unique secondary key, a composite or a non-integer key: copied from scratch', () => {
    const cols = [column('id', 'int', 1), column('v', 'int', 2)];
    const pk = index('PRIMARY', ['id'], { primary: true, unique: true });
    assert.equal(resumableKey(plan(table(cols, [pk, index('v', ['v'], { unique: true })]))), null);
    assert.equal(resumableKey(plan(table(cols, [index('PRIMARY', ['id', 'v'], { primary: true, unique: true })], ['id', 'v']))), null);
    assert.equal(resumableKey(plan(table([column('id', 'varchar', 1)], [pk]))), null);
  });
});

describe('resumeMark', () => {
  test('changes with the columns, and only with what the loaded rows depend on', () => {
    const pk = index('PRIMARY', ['id'], { primary: true, unique: true });
    const base = resumeMark(plan(table([column('id', 'int', 1), column('v', 'int', 2)], [pk])), 'load');
    assert.equal(resumeMark(plan(table([column('id', 'int', 1), column('v', 'int', 2)], [pk, index('v', ['v'])])), 'load'), base, 'an index is built after the data');
    assert.notEqual(resumeMark(plan(table([column('id', 'int', 1), column('v', 'bigint', 2)], [pk])), 'load'), base, 'a column type');
    assert.notEqual(resumeMark(plan(table([column('id', 'int', 1), column('v', 'int', 2), column('w', 'int', 3)], [pk])), 'load'), base, 'a column more');
  });
});
