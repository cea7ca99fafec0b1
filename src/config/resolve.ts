import { ChameleonError, ErrorCodes } from '../errors.js';

export interface ParsedArgs {
  command: string | null;
  flags: Map<string, string | true>;
  positional: string[];
}

/** `--name value`, `--name=value`, `--flag`; everything else is positional. */
export function parseArgs(argv: string[], booleanFlags: Set<string>): ParsedArgs {
  const flags = new Map<string, string | true>();
  const positional: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a.startsWith('--')) {
      const eq = a.indexOf('=');
      const name = eq > 0 ? a.slice(2, eq) : a.slice(2);
      if (!/^[a-z][a-z0-9-]*$/.test(name)) throw new ChameleonError(ErrorCodes.CONFIG, `invalid flag ${a}`);
      if (eq > 0) flags.set(name, a.slice(eq + 1));
      else if (booleanFlags.has(name)) flags.set(name, true);
      else {
        const v = argv[i + 1];
        if (v === undefined || v.startsWith('--')) throw new ChameleonError(ErrorCodes.CONFIG, `flag --${name} needs a value`);
        flags.set(name, v);
        i++;
      }
    } else positional.push(a);
  }
  return { command: positional.shift() ?? null, flags, positional };
}

/** The PostgreSQL URL: --pg, then DATABASE_URL, then the standard PG* variables. */
export function resolvePgUrl(flag: string | true | undefined, env: NodeJS.ProcessEnv = process.env): string {
  if (typeof flag === 'string') return validatePgUrl(flag);
  if (env.DATABASE_URL) return validatePgUrl(env.DATABASE_URL);
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

function validatePgUrl(url: string): string {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new ChameleonError(ErrorCodes.CONFIG, 'the PostgreSQL URL is not a valid URL (postgres://user:password@host:port/database)');
  }
  if (u.protocol !== 'postgres:' && u.protocol !== 'postgresql:') {
    throw new ChameleonError(ErrorCodes.CONFIG, `the PostgreSQL URL must start with postgres://, not ${u.protocol}//`);
  }
  return url;
}
