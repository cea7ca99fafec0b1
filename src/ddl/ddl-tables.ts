/** A table a MySQL DDL statement changes in a way its row images cannot follow. */
export interface TouchedTable {
  schema: string;
  table: string;
  /** What the statement does to it. */
  action: 'create' | 'alter' | 'rename' | 'drop' | 'truncate';
}

/**
 * The tables a DDL statement from the binlog creates, alters, renames, drops
 * or truncates, read from the names alone. Where the statement cannot be
 * translated (the parser cannot read it, or the translation fails) each of
 * them is quarantined at the statement's place (see fn_apply_ddl) rather
 * than take row images its target may no longer match, or none at all.
 */
export function tablesTouchedByDdl(statement: string, defaultSchema: string): TouchedTable[] {
  const sql = stripComments(statement).trim();
  let m: RegExpExecArray | null;
  if ((m = /^ALTER\s+(?:ONLINE\s+)?(?:IGNORE\s+)?TABLE\s+(?:IF\s+EXISTS\s+)?/i.exec(sql))) {
    const name = readName(sql, m[0].length, defaultSchema);
    return name ? [{ ...name.value, action: 'alter' }] : [];
  }
  if ((m = /^CREATE\s+(?:OR\s+REPLACE\s+)?TABLE\s+(?:IF\s+NOT\s+EXISTS\s+)?/i.exec(sql))) {
    const name = readName(sql, m[0].length, defaultSchema);
    return name ? [{ ...name.value, action: 'create' }] : [];
  }
  if ((m = /^TRUNCATE\s+(?:TABLE\s+)?/i.exec(sql))) {
    const name = readName(sql, m[0].length, defaultSchema);
    return name ? [{ ...name.value, action: 'truncate' }] : [];
  }
  if ((m = /^DROP\s+TABLE\s+(?:IF\s+EXISTS\s+)?/i.exec(sql))) {
    return readNameList(sql, m[0].length, defaultSchema).map((n) => ({ ...n, action: 'drop' as const }));
  }
  if ((m = /^RENAME\s+TABLES?\s+/i.exec(sql))) {
    // a TO b [, c TO d]: the tables renamed away are the ones that stop
    const out: TouchedTable[] = [];
    let at = m[0].length;
    for (;;) {
      const from = readName(sql, at, defaultSchema);
      if (!from) break;
      out.push({ ...from.value, action: 'rename' });
      const to = /^\s+TO\s+/i.exec(sql.slice(from.end));
      if (!to) break;
      const target = readName(sql, from.end + to[0].length, defaultSchema);
      if (!target) break;
      const comma = /^\s*,\s*/.exec(sql.slice(target.end));
      if (!comma) break;
      at = target.end + comma[0].length;
    }
    return out;
  }
  return [];
}

function stripComments(sql: string): string {
  // executable comments (/*!50100 ... */) keep their text: it is part of the statement
  return sql.replace(/\/\*!\d*\s?([\s\S]*?)\*\//g, '$1').replace(/\/\*[\s\S]*?\*\//g, ' ').replace(/(^|\s)(--\s|#)[^\n]*/g, '$1');
}

function readNameList(sql: string, at: number, defaultSchema: string): { schema: string; table: string }[] {
  const out: { schema: string; table: string }[] = [];
  for (;;) {
    const name = readName(sql, at, defaultSchema);
    if (!name) break;
    out.push(name.value);
    const comma = /^\s*,\s*/.exec(sql.slice(name.end));
    if (!comma) break;
    at = name.end + comma[0].length;
  }
  return out;
}

/** `name`, `db`.`name`, name, db.name (backticks doubled inside quotes). */
function readName(sql: string, at: number, defaultSchema: string): { value: { schema: string; table: string }; end: number } | null {
  const first = readIdent(sql, at);
  if (!first) return null;
  if (sql[first.end] === '.') {
    const second = readIdent(sql, first.end + 1);
    if (!second) return null;
    return { value: { schema: first.text, table: second.text }, end: second.end };
  }
  return { value: { schema: defaultSchema, table: first.text }, end: first.end };
}

function readIdent(sql: string, at: number): { text: string; end: number } | null {
  if (sql[at] === '`') {
    let text = '';
    let i = at + 1;
    while (i < sql.length) {
      if (sql[i] === '`') {
        if (sql[i + 1] === '`') {
          text += '`';
          i += 2;
          continue;
        }
        return { text, end: i + 1 };
      }
      text += sql[i++];
    }
    return null;
  }
  const m = /^[\p{L}\p{N}_$]+/u.exec(sql.slice(at));
  return m ? { text: m[0], end: at + m[0].length } : null;
}
