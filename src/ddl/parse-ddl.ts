import type { MysqlColumn } from '../mysql/column.js';
import type { MysqlIndex } from '../mysql/metadata.js';
import { DdlSyntaxError, tokenize, Tokens, type Token } from './mysql-tokens.js';

export { DdlSyntaxError } from './mysql-tokens.js';

export interface TableName {
  schema: string;
  table: string;
}

/** A column definition, in the form information_schema would describe it. */
export interface ColumnDef {
  column: MysqlColumn;
  /** PRIMARY KEY / UNIQUE written on the column itself. */
  inlinePrimary: boolean;
  inlineUnique: boolean;
  autoIncrement: boolean;
}

export type AlterAction =
  | { op: 'add_column'; column: ColumnDef }
  | { op: 'drop_column'; name: string }
  | { op: 'change_column'; from: string; column: ColumnDef }
  | { op: 'rename_column'; from: string; to: string }
  | { op: 'alter_default'; name: string; defaultValue: string | null }
  | { op: 'add_index'; index: MysqlIndex }
  | { op: 'drop_index'; name: string }
  | { op: 'drop_primary_key' }
  | { op: 'rename_index'; from: string; to: string }
  | { op: 'rename_table'; to: TableName }
  /** Changes PostgreSQL has nothing to do for (engine, charset, foreign keys, partitions, ...). */
  | { op: 'ignored'; text: string };

export type ParsedDdl =
  | { kind: 'create_table'; table: TableName; ifNotExists: boolean; orReplace: boolean; columns: ColumnDef[]; indexes: MysqlIndex[]; like: TableName | null; comment: string }
  | { kind: 'drop_table'; tables: TableName[]; ifExists: boolean }
  | { kind: 'rename_table'; pairs: { from: TableName; to: TableName }[] }
  | { kind: 'truncate'; table: TableName }
  | { kind: 'alter_table'; table: TableName; actions: AlterAction[] }
  | { kind: 'create_index'; table: TableName; index: MysqlIndex }
  | { kind: 'drop_index'; table: TableName; name: string }
  /** A statement on a table this parser does not translate: the reason says what it is. */
  | { kind: 'unsupported'; table: TableName; reason: string }
  /** Not about a base table (databases, views, routines, users, ...): nothing for the replica. */
  | { kind: 'other' };

/** MySQL type names that are another name for a base type. */
const TYPE_ALIASES: Record<string, string> = {
  integer: 'int', int4: 'int', int1: 'tinyint', int2: 'smallint', int3: 'mediumint', int8: 'bigint', middleint: 'mediumint',
  dec: 'decimal', numeric: 'decimal', fixed: 'decimal', real: 'double', float8: 'double', float4: 'float',
  character: 'char', nchar: 'char', nvarchar: 'varchar', varcharacter: 'varchar', long: 'mediumtext',
};

const TEXT_TYPES = new Set(['char', 'varchar', 'tinytext', 'text', 'mediumtext', 'longtext', 'enum', 'set']);

/**
 * Parses the DDL statements the replica translates: CREATE / DROP / RENAME /
 * TRUNCATE / ALTER TABLE and CREATE / DROP INDEX. Anything else about a
 * table is 'unsupported' (with what it is), anything not about a table is
 * 'other'. Throws DdlSyntaxError on a statement it cannot read.
 */
export function parseDdl(statement: string, defaultSchema: string): ParsedDdl {
  const t = new Tokens(tokenize(statement));
  if (t.accept('CREATE')) {
    const orReplace = t.accept('OR', 'REPLACE');
    if (t.accept('TEMPORARY')) return { kind: 'other' };
    if (t.accept('TABLE')) return { ...createTable(t, defaultSchema), ...(orReplace ? { orReplace } : {}) } as ParsedDdl;
    if (!t.accept('ONLINE')) t.accept('OFFLINE');
    const unique = t.accept('UNIQUE');
    const fulltext = !unique && t.accept('FULLTEXT');
    const spatial = !unique && !fulltext && t.accept('SPATIAL');
    if (t.accept('INDEX')) {
      t.accept('IF', 'NOT', 'EXISTS');
      const name = t.ident();
      skipIndexType(t);
      t.expect('ON');
      const table = tableName(t, defaultSchema);
      const columns = keyParts(t);
      return { kind: 'create_index', table, index: { name, unique, primary: false, kind: fulltext ? 'FULLTEXT' : spatial ? 'SPATIAL' : 'BTREE', columns } };
    }
    return { kind: 'other' };
  }
  if (t.accept('DROP')) {
    if (t.accept('TEMPORARY')) return { kind: 'other' };
    if (t.accept('TABLE') || t.accept('TABLES')) {
      const ifExists = t.accept('IF', 'EXISTS');
      const tables = [tableName(t, defaultSchema)];
      while (t.acceptPunct(',')) tables.push(tableName(t, defaultSchema));
      return { kind: 'drop_table', tables, ifExists };
    }
    if (!t.accept('ONLINE')) t.accept('OFFLINE');
    if (t.accept('INDEX')) {
      t.accept('IF', 'EXISTS');
      const name = t.ident();
      t.expect('ON');
      return { kind: 'drop_index', table: tableName(t, defaultSchema), name };
    }
    return { kind: 'other' };
  }
  if (t.accept('RENAME')) {
    if (!t.accept('TABLE') && !t.accept('TABLES')) return { kind: 'other' };
    const pairs: { from: TableName; to: TableName }[] = [];
    do {
      const from = tableName(t, defaultSchema);
      if (t.accept('WAIT')) t.next();
      else t.accept('NOWAIT');
      t.expect('TO');
      pairs.push({ from, to: tableName(t, defaultSchema) });
    } while (t.acceptPunct(','));
    return { kind: 'rename_table', pairs };
  }
  if (t.accept('TRUNCATE')) {
    t.accept('TABLE');
    return { kind: 'truncate', table: tableName(t, defaultSchema) };
  }
  if (t.accept('ALTER')) {
    t.accept('ONLINE');
    t.accept('IGNORE');
    if (!t.accept('TABLE')) return { kind: 'other' };
    t.accept('IF', 'EXISTS');
    const table = tableName(t, defaultSchema);
    return { kind: 'alter_table', table, actions: alterActions(t, table, defaultSchema) };
  }
  return { kind: 'other' };
}

function tableName(t: Tokens, defaultSchema: string): TableName {
  const first = t.ident();
  if (t.acceptPunct('.')) return { schema: first, table: t.ident() };
  return { schema: defaultSchema, table: first };
}

function createTable(t: Tokens, defaultSchema: string): ParsedDdl {
  const ifNotExists = t.accept('IF', 'NOT', 'EXISTS');
  const table = tableName(t, defaultSchema);
  if (t.accept('LIKE')) return { kind: 'create_table', table, ifNotExists, orReplace: false, columns: [], indexes: [], like: tableName(t, defaultSchema), comment: '' };
  if (t.isPunct('(') && t.peek(1)?.kind === 'word' && t.peek(1)!.text.toUpperCase() === 'LIKE') {
    t.expectPunct('(');
    t.expect('LIKE');
    const like = tableName(t, defaultSchema);
    t.expectPunct(')');
    return { kind: 'create_table', table, ifNotExists, orReplace: false, columns: [], indexes: [], like, comment: '' };
  }
  if (!t.isPunct('(')) return { kind: 'unsupported', table, reason: 'CREATE TABLE without a column list (CREATE TABLE ... SELECT)' };
  t.expectPunct('(');
  const columns: ColumnDef[] = [];
  const indexes: MysqlIndex[] = [];
  do {
    const index = indexDefinition(t);
    if (index === 'ignored') continue;
    if (index) {
      indexes.push(index);
      continue;
    }
    columns.push(columnDefinition(t, columns.length + 1));
  } while (t.acceptPunct(','));
  t.expectPunct(')');
  let comment = '';
  while (!t.done) {
    if (t.accept('COMMENT')) {
      t.acceptPunct('=');
      comment = t.next().text;
    } else if (t.isWord('SELECT', 'AS', 'IGNORE', 'REPLACE')) {
      return { kind: 'unsupported', table, reason: 'CREATE TABLE ... SELECT' };
    } else {
      t.next();
    }
  }
  for (const c of columns) {
    if (c.inlinePrimary) indexes.unshift({ name: 'PRIMARY', unique: true, primary: true, kind: 'BTREE', columns: [{ name: c.column.name, prefixLength: null, descending: false }] });
    if (c.inlineUnique) indexes.push({ name: c.column.name, unique: true, primary: false, kind: 'BTREE', columns: [{ name: c.column.name, prefixLength: null, descending: false }] });
  }
  return { kind: 'create_table', table, ifNotExists, orReplace: false, columns, indexes, like: null, comment };
}

/** An index or constraint clause of a table definition; null when the clause is a column. */
function indexDefinition(t: Tokens): MysqlIndex | 'ignored' | null {
  let constraint: string | null = null;
  if (t.isWord('CONSTRAINT')) {
    t.next();
    if (!t.isWord('PRIMARY', 'UNIQUE', 'FOREIGN', 'CHECK')) constraint = t.ident();
  }
  if (t.accept('PRIMARY', 'KEY')) {
    skipIndexType(t);
    const columns = keyParts(t);
    skipIndexOptions(t);
    return { name: 'PRIMARY', unique: true, primary: true, kind: 'BTREE', columns };
  }
  if (t.isWord('FOREIGN') || t.isWord('CHECK')) {
    // foreign keys are created at detach_replica; checks stay MySQL's business
    t.skipClause();
    return 'ignored';
  }
  const unique = t.accept('UNIQUE');
  const fulltext = !unique && t.accept('FULLTEXT');
  const spatial = !unique && !fulltext && t.accept('SPATIAL');
  const keyword = t.accept('INDEX') || t.accept('KEY');
  if (!unique && !fulltext && !spatial && !keyword) {
    if (constraint !== null) throw new DdlSyntaxError(`expected a constraint after CONSTRAINT ${constraint}`);
    return null;
  }
  let name: string | null = constraint;
  if (!t.isPunct('(') && !t.isWord('USING')) name = t.ident();
  skipIndexType(t);
  const columns = keyParts(t);
  skipIndexOptions(t);
  return { name: name ?? columns[0]?.name ?? 'index', unique, primary: false, kind: fulltext ? 'FULLTEXT' : spatial ? 'SPATIAL' : 'BTREE', columns };
}

function skipIndexType(t: Tokens): void {
  if (t.accept('USING')) t.next();
}

function skipIndexOptions(t: Tokens): void {
  while (!t.done && !t.isPunct(',') && !t.isPunct(')')) {
    if (t.isPunct('(')) t.skipGroup();
    else t.next();
  }
}

function keyParts(t: Tokens): MysqlIndex['columns'] {
  t.expectPunct('(');
  const parts: MysqlIndex['columns'] = [];
  do {
    if (t.isPunct('(')) {
      // a functional key part (MySQL 8): an expression, not a column
      t.skipGroup();
      parts.push({ name: null as unknown as string, prefixLength: null, descending: false });
    } else {
      const name = t.ident();
      let prefixLength: number | null = null;
      if (t.acceptPunct('(')) {
        prefixLength = Number(t.next().text);
        t.expectPunct(')');
      }
      const descending = t.accept('DESC');
      if (!descending) t.accept('ASC');
      parts.push({ name, prefixLength, descending });
    }
  } while (t.acceptPunct(','));
  t.expectPunct(')');
  return parts;
}

/** A column name, its type and attributes. */
function columnDefinition(t: Tokens, ordinal: number): ColumnDef {
  const name = t.ident();
  let typeName = t.ident().toLowerCase();
  if (typeName === 'double' && t.accept('PRECISION')) typeName = 'double';
  else if ((typeName === 'character' || typeName === 'char') && t.accept('VARYING')) typeName = 'varchar';
  else if (typeName === 'national') typeName = t.ident().toLowerCase() === 'varchar' ? 'varchar' : 'char';
  else if (typeName === 'long' && t.accept('VARCHAR')) typeName = 'mediumtext';
  else if (typeName === 'long' && t.accept('VARBINARY')) typeName = 'mediumblob';
  let args: Token[] = [];
  if (t.isPunct('(')) {
    t.expectPunct('(');
    do {
      if (t.isPunct(')')) break;
      args.push(t.next());
    } while (t.acceptPunct(','));
    t.expectPunct(')');
  }
  let dataType = TYPE_ALIASES[typeName] ?? typeName;
  let unsigned = false;
  let zerofill = false;
  let nullable = true;
  let autoIncrement = false;
  let inlinePrimary = false;
  let inlineUnique = false;
  let defaultValue: string | null = null;
  let comment = '';
  let charset: string | null = null;
  let collation: string | null = null;
  let generated: string | null = null;
  let generationExpression: string | null = null;
  let onUpdate = false;
  if (dataType === 'bool' || dataType === 'boolean') {
    dataType = 'tinyint';
    args = [{ kind: 'number', text: '1', raw: '1' }];
  }
  if (dataType === 'serial') {
    dataType = 'bigint';
    unsigned = true;
    nullable = false;
    autoIncrement = true;
    inlineUnique = true;
  }
  while (!t.done && !t.isPunct(',') && !t.isPunct(')')) {
    if (t.accept('UNSIGNED')) unsigned = true;
    else if (t.accept('SIGNED')) unsigned = false;
    else if (t.accept('ZEROFILL')) {
      zerofill = true;
      unsigned = true;
    } else if (t.accept('NOT', 'NULL')) nullable = false;
    else if (t.accept('NULL')) nullable = true;
    else if (t.accept('CHARACTER', 'SET') || t.accept('CHARSET')) {
      t.acceptPunct('=');
      charset = t.ident().toLowerCase();
    } else if (t.accept('COLLATE')) {
      t.acceptPunct('=');
      collation = t.ident().toLowerCase();
    } else if (t.accept('BINARY') || t.accept('ASCII') || t.accept('UNICODE') || t.accept('BYTE')) {
      // char attributes: the charset or collation, not the data
    } else if (t.accept('DEFAULT')) {
      defaultValue = defaultExpression(t);
    } else if (t.accept('ON', 'UPDATE')) {
      defaultExpression(t);
      onUpdate = true;
    } else if (t.accept('AUTO_INCREMENT')) autoIncrement = true;
    else if (t.accept('PRIMARY', 'KEY') || (t.isWord('KEY') && t.next())) {
      inlinePrimary = true;
      nullable = false;
    } else if (t.accept('UNIQUE')) {
      t.accept('KEY');
      inlineUnique = true;
    } else if (t.accept('COMMENT')) comment = t.next().text;
    else if (t.accept('GENERATED', 'ALWAYS', 'AS') || t.accept('AS')) {
      generationExpression = t.skipGroup();
      generated = t.accept('STORED') || t.accept('PERSISTENT') ? 'STORED GENERATED' : (t.accept('VIRTUAL'), 'VIRTUAL GENERATED');
    } else if (t.accept('CHECK') || t.accept('REFERENCES')) {
      // a column check, or a foreign key written on the column: MySQL's business / detach's
      while (!t.done && !t.isPunct('(') && !t.isPunct(',') && !t.isPunct(')')) t.next();
      if (t.isPunct('(')) t.skipGroup();
      while (t.isWord('MATCH', 'ON', 'CASCADE', 'RESTRICT', 'SET', 'NO', 'ACTION', 'DELETE', 'UPDATE', 'NULL', 'DEFAULT', 'FULL', 'PARTIAL', 'SIMPLE')) t.next();
    } else if (t.isWord('COLUMN_FORMAT', 'STORAGE', 'SRID')) {
      t.next();
      t.next();
    } else if (t.accept('INVISIBLE') || t.accept('VISIBLE') || t.accept('WITHOUT', 'SYSTEM', 'VERSIONING') || t.accept('WITH', 'SYSTEM', 'VERSIONING')) {
      // no effect on the data
    } else if (t.isWord('FIRST')) {
      t.next();
    } else if (t.isWord('AFTER')) {
      t.next();
      t.ident();
    } else {
      throw new DdlSyntaxError(`column ${name}: unexpected ${t.near()}`);
    }
  }
  const argText = args.map((a) => (a.kind === 'string' ? `'${a.text.replace(/'/g, "''")}'` : a.text.toLowerCase())).join(',');
  let columnType = argText ? `${dataType}(${argText})` : dataType;
  if (unsigned) columnType += ' unsigned';
  if (zerofill) columnType += ' zerofill';
  const firstArg = args[0] && args[0].kind === 'number' ? Number(args[0].text) : null;
  const secondArg = args[1] && args[1].kind === 'number' ? Number(args[1].text) : null;
  const decimal = dataType === 'decimal';
  const temporal = dataType === 'datetime' || dataType === 'timestamp' || dataType === 'time';
  const charLike = ['char', 'varchar', 'binary', 'varbinary'].includes(dataType);
  const text = TEXT_TYPES.has(dataType);
  const extra = [autoIncrement ? 'auto_increment' : '', generated ?? '', onUpdate ? 'on update current_timestamp()' : ''].filter(Boolean).join(' ');
  const column: MysqlColumn = {
    name,
    ordinal,
    dataType,
    columnType,
    nullable,
    defaultValue: defaultValue === null && nullable && !autoIncrement && generated === null ? null : defaultValue,
    numericPrecision: decimal ? (firstArg ?? 10) : null,
    numericScale: decimal ? (secondArg ?? 0) : null,
    datetimePrecision: temporal ? (firstArg ?? 0) : null,
    charMaxLength: charLike ? (firstArg ?? 1) : null,
    charset: text ? (charset ?? 'utf8mb4') : null,
    collation,
    extra,
    generationExpression,
    comment,
    isJson: dataType === 'json',
  };
  return { column, inlinePrimary, inlineUnique, autoIncrement };
}

/**
 * A DEFAULT clause, in the form MariaDB's information_schema prints it:
 * strings quoted (quotes doubled), numbers and NULL bare, expressions as
 * written in lower case.
 */
function defaultExpression(t: Tokens): string {
  let tok = t.next();
  // a charset introducer: _utf8mb4'x', N'x'
  if (tok.kind === 'word' && (/^_[a-z0-9]+$/i.test(tok.text) || /^n$/i.test(tok.text)) && t.peek()?.kind === 'string') tok = t.next();
  if (tok.kind === 'string') return `'${tok.text.replace(/\\/g, '\\\\').replace(/'/g, "''")}'`;
  if (tok.kind === 'number') {
    if (/^0x/i.test(tok.text)) return tok.text.toLowerCase();
    if (/^0b/i.test(tok.text)) return `b'${tok.text.slice(2)}'`;
    return tok.text;
  }
  if (tok.kind === 'punct' && (tok.text === '-' || tok.text === '+')) {
    const n = t.next();
    return `${tok.text === '-' ? '-' : ''}${n.text}`;
  }
  if (tok.kind === 'word' && /^[xb]$/i.test(tok.text) && t.peek()?.kind === 'string') {
    const lit = t.next().text;
    return tok.text.toLowerCase() === 'x' ? `0x${lit.toLowerCase()}` : `b'${lit}'`;
  }
  if (tok.kind === 'word' && tok.text.toUpperCase() === 'NULL') return 'NULL';
  if (tok.kind === 'word' && /^(true|false)$/i.test(tok.text)) return tok.text.toLowerCase() === 'true' ? '1' : '0';
  if (tok.kind === 'punct' && tok.text === '(') {
    let depth = 1;
    let text = '(';
    while (depth > 0) {
      const n = t.next();
      if (n.kind === 'punct' && n.text === '(') depth++;
      if (n.kind === 'punct' && n.text === ')') depth--;
      text += n.raw;
    }
    return text.toLowerCase();
  }
  if (tok.kind === 'word') {
    let text = tok.text.toLowerCase();
    if (t.isPunct('(')) text += t.skipGroup().replace(/\s+/g, '').toLowerCase();
    else if (/^(current_timestamp|now|localtime|localtimestamp)$/.test(text)) text += '()';
    return text;
  }
  throw new DdlSyntaxError(`unexpected DEFAULT ${tok.raw}`);
}

function alterActions(t: Tokens, table: TableName, defaultSchema: string): AlterAction[] {
  const actions: AlterAction[] = [];
  if (t.done) return actions;
  do {
    actions.push(...alterAction(t, table, defaultSchema));
  } while (t.acceptPunct(','));
  if (!t.done) {
    // partition clauses after the action list
    if (t.isWord('PARTITION', 'REMOVE')) actions.push({ op: 'ignored', text: t.skipClause() });
    else throw new DdlSyntaxError(`unexpected ${t.near()}`);
  }
  return actions;
}

/** ADD [COLUMN] (a ..., b ...): several columns in one action. */
function columnList(t: Tokens): AlterAction[] {
  t.expectPunct('(');
  const out: AlterAction[] = [];
  do {
    out.push({ op: 'add_column', column: columnDefinition(t, 0) });
  } while (t.acceptPunct(','));
  t.expectPunct(')');
  return out;
}

function alterAction(t: Tokens, table: TableName, defaultSchema: string): AlterAction[] {
  if (t.accept('ADD')) {
    if (t.isWord('COLUMN')) {
      t.next();
      t.accept('IF', 'NOT', 'EXISTS');
      if (t.isPunct('(')) return columnList(t);
      return [{ op: 'add_column', column: columnDefinition(t, 0) }];
    }
    if (t.isWord('PARTITION')) return [{ op: 'ignored', text: `ADD ${t.skipClause()}` }];
    t.accept('IF', 'NOT', 'EXISTS');
    if (t.isPunct('(')) return columnList(t);
    const index = indexDefinition(t);
    if (index === 'ignored') return [{ op: 'ignored', text: 'ADD FOREIGN KEY / CHECK' }];
    if (index) return [{ op: 'add_index', index }];
    t.accept('IF', 'NOT', 'EXISTS');
    return [{ op: 'add_column', column: columnDefinition(t, 0) }];
  }
  return [alterOther(t, table, defaultSchema)];
}

function alterOther(t: Tokens, table: TableName, defaultSchema: string): AlterAction {
  if (t.accept('DROP')) {
    if (t.accept('PRIMARY', 'KEY')) return { op: 'drop_primary_key' };
    if (t.accept('INDEX') || t.accept('KEY')) {
      t.accept('IF', 'EXISTS');
      return { op: 'drop_index', name: t.ident() };
    }
    if (t.accept('FOREIGN', 'KEY') || t.accept('CHECK') || t.accept('CONSTRAINT') || t.accept('PARTITION')) {
      t.accept('IF', 'EXISTS');
      return { op: 'ignored', text: `DROP ${t.skipClause()}` };
    }
    t.accept('COLUMN');
    t.accept('IF', 'EXISTS');
    const name = t.ident();
    if (!t.accept('RESTRICT')) t.accept('CASCADE');
    return { op: 'drop_column', name };
  }
  if (t.accept('CHANGE')) {
    t.accept('COLUMN');
    t.accept('IF', 'EXISTS');
    const from = t.ident();
    return { op: 'change_column', from, column: columnDefinition(t, 0) };
  }
  if (t.accept('MODIFY')) {
    t.accept('COLUMN');
    t.accept('IF', 'EXISTS');
    const column = columnDefinition(t, 0);
    return { op: 'change_column', from: column.column.name, column };
  }
  if (t.accept('RENAME')) {
    if (t.accept('COLUMN')) {
      const from = t.ident();
      t.expect('TO');
      return { op: 'rename_column', from, to: t.ident() };
    }
    if (t.accept('INDEX') || t.accept('KEY')) {
      const from = t.ident();
      t.expect('TO');
      return { op: 'rename_index', from, to: t.ident() };
    }
    if (!t.accept('TO')) t.accept('AS');
    return { op: 'rename_table', to: tableName(t, defaultSchema) };
  }
  if (t.accept('ALTER')) {
    t.accept('COLUMN');
    const name = t.ident();
    if (t.accept('SET', 'DEFAULT')) return { op: 'alter_default', name, defaultValue: defaultExpression(t) };
    if (t.accept('DROP', 'DEFAULT')) return { op: 'alter_default', name, defaultValue: null };
    // SET VISIBLE / INVISIBLE
    return { op: 'ignored', text: `ALTER COLUMN ${name} ${t.skipClause()}` };
  }
  // table options and how MySQL runs the change: nothing for PostgreSQL
  const text = t.skipClause();
  if (/^(ENGINE|AUTO_INCREMENT|COMMENT|ROW_FORMAT|KEY_BLOCK_SIZE|ALGORITHM|LOCK|FORCE|DEFAULT|CHARACTER|CHARSET|COLLATE|CONVERT|ORDER|STATS_|PACK_KEYS|CHECKSUM|DELAY_KEY_WRITE|MAX_ROWS|MIN_ROWS|AVG_ROW_LENGTH|ENABLE|DISABLE|PAGE_CHECKSUM|TRANSACTIONAL|ADD SYSTEM|DROP SYSTEM|PARTITION|REMOVE|COALESCE|REORGANIZE|EXCHANGE|ANALYZE|CHECK|OPTIMIZE|REBUILD|REPAIR|TRUNCATE PARTITION|DISCARD|IMPORT|WITH|WITHOUT|SECONDARY|UNION|INSERT_METHOD|DATA|INDEX DIRECTORY|TABLESPACE|STORAGE|ENCRYPT|PAGE_COMPRESS|IETF_QUOTES|SEQUENCE)/i.test(text) || text === '') {
    return { op: 'ignored', text };
  }
  throw new DdlSyntaxError(`ALTER TABLE ${table.schema}.${table.table}: ${text} is not translated`);
}
