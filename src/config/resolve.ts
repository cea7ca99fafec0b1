import { ChameleonError, ErrorCodes } from '../errors.js';

/**
 * What a flag takes. `text`: any non-empty string; `statement`: any string,
 * the empty one included (an SQL statement, '' for none); `integer`: a whole number
 * from 1 up; `seconds`: a number above 0; `json-object`: a JSON object;
 * `boolean`: no value.
 */
export type FlagKind = 'text' | 'statement' | 'integer' | 'seconds' | 'json-object' | 'boolean';

export interface FlagSpec {
  kind: FlagKind;
  required?: boolean;
}

/** The flags of one command, by name without the dashes. */
export type FlagSpecs = Record<string, FlagSpec>;

export interface ParsedArgs {
  flags: Map<string, string | true>;
  /** The command's one positional argument (a file name), when it takes one. */
  positional?: string;
}

/** Accepted by every command. */
const COMMON_FLAGS: FlagSpecs = { help: { kind: 'boolean' } };

function flagError(message: string, flag?: string): ChameleonError {
  return new ChameleonError(ErrorCodes.CONFIG, message, flag ? { flag } : {});
}

/**
 * `--name value`, `--name=value`, `--flag`, checked against the command's
 * flags: an unknown or repeated flag, a missing or bad value, a required
 * flag left out or a stray argument is an error naming the flag, raised
 * before anything connects anywhere.
 */
export function parseArgs(argv: string[], specs: FlagSpecs, positional?: { name: string; required: boolean }): ParsedArgs {
  const known: FlagSpecs = { ...COMMON_FLAGS, ...specs };
  const listed = (): string => Object.keys(specs).map((n) => `--${n}`).join(', ') || 'none';
  const flags = new Map<string, string | true>();
  let given: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (!a.startsWith('-') && positional && given === undefined) {
      given = a;
      continue;
    }
    if (!a.startsWith('-')) throw flagError(`unexpected argument ${JSON.stringify(a)} (flags: ${listed()})`);
    const eq = a.indexOf('=');
    const name = a.startsWith('--') ? (eq > 0 ? a.slice(2, eq) : a.slice(2)) : '';
    const spec = Object.hasOwn(known, name) ? known[name] : undefined;
    if (!spec) throw flagError(`unknown flag ${eq > 0 ? a.slice(0, eq) : a} (flags: ${listed()})`, name || a);
    if (flags.has(name)) throw flagError(`--${name} is given twice`, name);
    if (spec.kind === 'boolean') {
      if (eq > 0) throw flagError(`--${name} takes no value`, name);
      flags.set(name, true);
      continue;
    }
    let value: string;
    if (eq > 0) value = a.slice(eq + 1);
    else {
      const next = argv[i + 1];
      // a value that starts with "--" is most likely the next flag, forgotten value: --name=--x passes one
      if (next === undefined || next.startsWith('--')) throw flagError(`--${name} needs a value`, name);
      value = next;
      i++;
    }
    checkValue(name, spec.kind, value);
    flags.set(name, value);
  }
  if (flags.has('help')) return { flags };
  for (const [name, spec] of Object.entries(specs)) {
    if (spec.required && !flags.has(name)) throw flagError(`--${name} is required`, name);
  }
  if (positional?.required && given === undefined) throw flagError(`the ${positional.name} to read is required`);
  return given === undefined ? { flags } : { flags, positional: given };
}

function checkValue(name: string, kind: FlagKind, value: string): void {
  switch (kind) {
    case 'text':
      if (value === '') throw flagError(`--${name} must not be empty`, name);
      return;
    case 'statement':
      return;
    case 'integer':
      if (!/^[0-9]+$/.test(value) || !Number.isSafeInteger(Number(value)) || Number(value) < 1) {
        throw flagError(`--${name} must be a positive integer, got ${JSON.stringify(value)}`, name);
      }
      return;
    case 'seconds':
      if (!/^[0-9]*\.?[0-9]+$/.test(value) || !(Number(value) > 0) || !Number.isFinite(Number(value))) {
        throw flagError(`--${name} must be a number of seconds above 0, got ${JSON.stringify(value)}`, name);
      }
      return;
    case 'json-object': {
      let parsed: unknown;
      try {
        parsed = JSON.parse(value);
      } catch (err) {
        throw flagError(`--${name} is not valid JSON (${(err as Error).message})`, name);
      }
      if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
        throw flagError(`--${name} must be a JSON object such as '{"key": "value"}', got ${Array.isArray(parsed) ? 'an array' : parsed === null ? 'null' : `a ${typeof parsed}`}`, name);
      }
      return;
    }
    case 'boolean':
      return;
  }
}

/** The PostgreSQL URL: --pg, then DATABASE_URL, then the standard PG* variables. */
export function resolvePgUrl(flag: string | true | undefined, env: NodeJS.ProcessEnv = process.env): string {
  if (typeof flag === 'string') return validatePgUrl(flag, '--pg');
  if (env.DATABASE_URL) return validatePgUrl(env.DATABASE_URL, 'DATABASE_URL');
  if (env.PGHOST || env.PGDATABASE || env.PGUSER || env.PGPORT) {
    const u = new URL('postgres://localhost');
    u.hostname = env.PGHOST && !env.PGHOST.startsWith('/') ? env.PGHOST : 'localhost';
    if (env.PGPORT) u.port = env.PGPORT;
    u.username = encodeURIComponent(env.PGUSER ?? 'postgres');
    if (env.PGPASSWORD) u.password = encodeURIComponent(env.PGPASSWORD);
    u.pathname = `/${encodeURIComponent(env.PGDATABASE ?? env.PGUSER ?? 'postgres')}`;
    if (env.PGHOST?.startsWith('/')) u.searchParams.set('host', env.PGHOST);
    return u.toString();
  }
  throw new ChameleonError(ErrorCodes.CONFIG, 'no PostgreSQL connection: pass --pg URL or set DATABASE_URL or PGHOST/PGDATABASE');
}

/** `from` names where the URL came from (--pg, DATABASE_URL); the URL itself is never repeated, it may hold a password. */
function validatePgUrl(url: string, from: string): string {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new ChameleonError(ErrorCodes.CONFIG, `${from} is not a valid URL (postgres://user@host:port/database)`, { flag: from });
  }
  if (u.protocol !== 'postgres:' && u.protocol !== 'postgresql:') {
    throw new ChameleonError(ErrorCodes.CONFIG, `${from} must start with postgres://, not ${u.protocol}//`, { flag: from });
  }
  return url;
}
