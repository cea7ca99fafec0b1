import { createHash } from 'node:crypto';

/** A PostgreSQL identifier, always quoted. */
export function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

export function quoteLiteral(value: string): string {
  return `'${value.replace(/'/g, "''")}'`;
}

export function qualified(schema: string, name: string): string {
  return `${quoteIdent(schema)}.${quoteIdent(name)}`;
}

const MAX_IDENT_BYTES = 63;

function truncateBytes(name: string, bytes: number): string {
  let out = '';
  for (const ch of name) {
    if (Buffer.byteLength(out + ch) > bytes) break;
    out += ch;
  }
  return out;
}

/**
 * MySQL allows 64-character names, PostgreSQL 63 bytes. A name that fits is
 * kept as it is; a longer one is cut and given a short hash of the whole
 * name so that two long names sharing a prefix stay distinct.
 */
export function pgIdentifier(name: string): string {
  if (Buffer.byteLength(name) <= MAX_IDENT_BYTES) return name;
  const hash = createHash('sha1').update(name).digest('hex').slice(0, 8);
  return `${truncateBytes(name, MAX_IDENT_BYTES - 9)}_${hash}`;
}

/** Hands out identifiers unique within one namespace (a schema's relations). */
export class NameAllocator {
  private readonly used = new Set<string>();
  constructor(existing: Iterable<string> = []) {
    for (const n of existing) this.used.add(n);
  }
  take(wanted: string): string {
    let name = pgIdentifier(wanted);
    for (let i = 2; this.used.has(name); i++) {
      const suffix = `_${i}`;
      name = truncateBytes(pgIdentifier(wanted), MAX_IDENT_BYTES - suffix.length) + suffix;
    }
    this.used.add(name);
    return name;
  }
}

/** PostgreSQL names of a table's columns, in order; the snapshot and the replica must agree on them. */
export function pgColumnNames(mysqlNames: string[]): string[] {
  const names = new NameAllocator();
  return mysqlNames.map((n) => names.take(n));
}
