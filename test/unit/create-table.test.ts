import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { MysqlColumn } from '../../src/mysql/column.js';
import type { MysqlIndex, MysqlTable } from '../../src/mysql/metadata.js';
import { mapColumn } from '../../src/mysql/type-map.js';
import { tableDdl, type MappedColumn } from '../../src/ddl/create-table.js';

function column(name: string, dataType: string, nullable = false): MysqlColumn {
  return {
    name, ordinal: 1, dataType, columnType: dataType, nullable, defaultValue: null, numericPrecision: null, numericScale: null,
    datetimePrecision: null, charMaxLength: dataType === 'varchar' ? 200 : null, charset: null, collation: null, extra: '',
    generationExpression: null, comment: '', isJson: false,
  };
}

/** The DDL of a table `t` (id int key, p point, title varchar) with the given secondary indexes. */
function ddl(indexes: MysqlIndex[], postgis: boolean, typeOverride: Record<string, { override_to: string }> = {}): ReturnType<typeof tableDdl> {
  const cols = [column('id', 'int'), column('p', 'point'), column('title', 'varchar')];
  const table: MysqlTable = {
    schema: 'db', name: 't', engine: 'InnoDB', rowsEstimate: 0, comment: '', autoIncrement: null, columns: cols, primaryKey: ['id'],
    indexes: [{ name: 'PRIMARY', unique: true, primary: true, kind: 'BTREE', columns: [{ name: 'id', prefixLength: null, descending: false }] }, ...indexes],
  };
  const mapped: MappedColumn[] = cols.map((c) => ({
    name: c.name, pgName: c.name, nullable: c.nullable, autoIncrement: false, comment: '',
    mapping: mapColumn(c, { table: 'db.t', postgis, typeOverride, flavor: 'mariadb' }),
  }));
  return tableDdl(table, mapped, { schema: 's', table: 't' });
}

/** A SPATIAL key as MariaDB's information_schema.STATISTICS reports it: SUB_PART 32. */
const SPATIAL_P: MysqlIndex = { name: 'p', unique: false, primary: false, kind: 'SPATIAL', columns: [{ name: 'p', prefixLength: 32, descending: false }] };

describe('tableDdl: SPATIAL keys', () => {
  test('on a PostGIS geometry column: a GiST index, whatever SUB_PART MariaDB reports', () => {
    const d = ddl([SPATIAL_P], true);
    assert.deepEqual(d.indexes, [
      'ALTER TABLE "s"."t" ADD CONSTRAINT "t_pkey" PRIMARY KEY ("id")',
      'CREATE INDEX "t_p" ON "s"."t" USING gist ("p")',
    ]);
    assert.deepEqual(d.skippedIndexes, []);
    // MySQL 8 reports no SUB_PART: the same index
    const mysql8 = ddl([{ ...SPATIAL_P, columns: [{ name: 'p', prefixLength: null, descending: false }] }], true);
    assert.deepEqual(mysql8.indexes, d.indexes);
  });

  test('on a bytea column (no PostGIS): not created, with the reason', () => {
    const d = ddl([SPATIAL_P], false);
    assert.deepEqual(d.indexes, ['ALTER TABLE "s"."t" ADD CONSTRAINT "t_pkey" PRIMARY KEY ("id")']);
    assert.equal(d.skippedIndexes.length, 1);
    assert.equal(d.skippedIndexes[0].name, 'p');
    assert.match(d.skippedIndexes[0].reason, /SPATIAL index on p \(bytea\).*PostGIS/);
  });

  test('on a column a type_override took away from geometry: not created', () => {
    const d = ddl([SPATIAL_P], true, { point: { override_to: 'text' } });
    assert.match(d.skippedIndexes[0]?.reason ?? '', /SPATIAL index on p \(text\)/);
  });

  test('a plain prefix index is still skipped as one', () => {
    const d = ddl([{ name: 'title10', unique: false, primary: false, kind: 'BTREE', columns: [{ name: 'title', prefixLength: 10, descending: false }] }], true);
    assert.deepEqual(d.skippedIndexes, [{ name: 'title10', reason: 'prefix index on title' }]);
  });
});
