/** One token of a MySQL statement. */
export interface Token {
  kind: 'word' | 'ident' | 'string' | 'number' | 'punct';
  /** Words as written; identifiers and strings unquoted and unescaped. */
  text: string;
  /** The token as it stands in the statement (quotes and escapes included). */
  raw: string;
}

export class DdlSyntaxError extends Error {}

const STRING_ESCAPES: Record<string, string> = { '0': '\u0000', b: '\b', n: '\n', r: '\r', t: '\t', Z: '\u001a' };

/**
 * Splits a statement as the server logged it. Comments go, except MySQL's
 * executable ones (`/*!50100 ... *\/`, MariaDB's `/*M! ... *\/`), whose text
 * is part of the statement. Backslash escapes in strings are read as the
 * server reads them with its default sql_mode.
 */
export function tokenize(sql: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  const n = sql.length;
  while (i < n) {
    const c = sql[i];
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    if (c === '/' && sql[i + 1] === '*') {
      const exec = /^\/\*(?:!|M!)\d*/.exec(sql.slice(i, i + 12));
      const end = sql.indexOf('*/', i + 2);
      if (end < 0) throw new DdlSyntaxError('unterminated comment');
      if (exec) {
        // the comment's text takes its place; its closing mark is dropped when reached
        out.push(...tokenize(sql.slice(i + exec[0].length, end)));
      }
      i = end + 2;
      continue;
    }
    if ((c === '-' && sql[i + 1] === '-' && (i + 2 >= n || /\s/.test(sql[i + 2]))) || c === '#') {
      const end = sql.indexOf('\n', i);
      i = end < 0 ? n : end + 1;
      continue;
    }
    if (c === '`') {
      let text = '';
      let j = i + 1;
      for (;;) {
        if (j >= n) throw new DdlSyntaxError('unterminated quoted identifier');
        if (sql[j] === '`') {
          if (sql[j + 1] === '`') {
            text += '`';
            j += 2;
            continue;
          }
          break;
        }
        text += sql[j++];
      }
      out.push({ kind: 'ident', text, raw: sql.slice(i, j + 1) });
      i = j + 1;
      continue;
    }
    if (c === "'" || c === '"') {
      let text = '';
      let j = i + 1;
      for (;;) {
        if (j >= n) throw new DdlSyntaxError('unterminated string');
        const ch = sql[j];
        if (ch === '\\' && j + 1 < n) {
          const e = sql[j + 1];
          text += e in STRING_ESCAPES ? STRING_ESCAPES[e] : e;
          j += 2;
          continue;
        }
        if (ch === c) {
          if (sql[j + 1] === c) {
            text += c;
            j += 2;
            continue;
          }
          break;
        }
        text += ch;
        j++;
      }
      out.push({ kind: 'string', text, raw: sql.slice(i, j + 1) });
      i = j + 1;
      continue;
    }
    const num = /^(?:0x[0-9a-f]+|0b[01]+|\d+\.?\d*(?:e[-+]?\d+)?|\.\d+(?:e[-+]?\d+)?)/i.exec(sql.slice(i, i + 200));
    if (num && !/[a-z_$]/i.test(sql[i + num[0].length] ?? '') ) {
      out.push({ kind: 'number', text: num[0], raw: num[0] });
      i += num[0].length;
      continue;
    }
    const word = /^[a-z0-9_$\u0080-\uffff]+/i.exec(sql.slice(i, i + 256));
    if (word) {
      // x'..' / b'..' literals and charset introducers (_utf8mb4'..') are read by the parser
      out.push({ kind: 'word', text: word[0], raw: word[0] });
      i += word[0].length;
      continue;
    }
    out.push({ kind: 'punct', text: c, raw: c });
    i++;
  }
  return out;
}

/** A cursor over tokens with the look-ahead the DDL parser needs. */
export class Tokens {
  private at = 0;
  constructor(private readonly list: Token[]) {}

  get done(): boolean {
    return this.at >= this.list.length;
  }

  peek(offset = 0): Token | undefined {
    return this.list[this.at + offset];
  }

  next(): Token {
    const t = this.list[this.at++];
    if (!t) throw new DdlSyntaxError('the statement ends too early');
    return t;
  }

  /** The next token is the keyword (case-insensitive); consumed when it is. */
  accept(...words: string[]): boolean {
    for (let k = 0; k < words.length; k++) {
      const t = this.list[this.at + k];
      if (!t || t.kind !== 'word' || t.text.toUpperCase() !== words[k]) return false;
    }
    this.at += words.length;
    return true;
  }

  acceptPunct(p: string): boolean {
    const t = this.list[this.at];
    if (t && t.kind === 'punct' && t.text === p) {
      this.at++;
      return true;
    }
    return false;
  }

  expect(...words: string[]): void {
    if (!this.accept(...words)) throw new DdlSyntaxError(`expected ${words.join(' ')} near ${this.near()}`);
  }

  expectPunct(p: string): void {
    if (!this.acceptPunct(p)) throw new DdlSyntaxError(`expected "${p}" near ${this.near()}`);
  }

  isWord(...words: string[]): boolean {
    const t = this.list[this.at];
    return !!t && t.kind === 'word' && words.includes(t.text.toUpperCase());
  }

  isPunct(p: string): boolean {
    const t = this.list[this.at];
    return !!t && t.kind === 'punct' && t.text === p;
  }

  /** An identifier, quoted or bare. */
  ident(): string {
    const t = this.next();
    if (t.kind === 'ident' || t.kind === 'word') return t.text;
    if (t.kind === 'string') return t.text;
    throw new DdlSyntaxError(`expected a name near ${t.raw}`);
  }

  near(): string {
    const rest = this.list.slice(this.at, this.at + 5).map((t) => t.raw).join(' ');
    return rest ? `"${rest}"` : 'the end of the statement';
  }

  /** Skips a balanced parenthesised group; the opening parenthesis is the next token. */
  skipGroup(): string {
    const start = this.at;
    this.expectPunct('(');
    let depth = 1;
    while (depth > 0) {
      const t = this.next();
      if (t.kind === 'punct' && t.text === '(') depth++;
      else if (t.kind === 'punct' && t.text === ')') depth--;
    }
    return this.list.slice(start, this.at).map((t) => t.raw).join(' ');
  }

  /** The raw text of the tokens from here up to (not including) a top-level comma or closing parenthesis. */
  skipClause(): string {
    const start = this.at;
    let depth = 0;
    while (!this.done) {
      const t = this.peek()!;
      if (t.kind === 'punct' && (t.text === ',' || t.text === ')') && depth === 0) break;
      if (t.kind === 'punct' && t.text === '(') depth++;
      if (t.kind === 'punct' && t.text === ')') depth--;
      this.at++;
    }
    return this.list.slice(start, this.at).map((t) => t.raw).join(' ');
  }
}
