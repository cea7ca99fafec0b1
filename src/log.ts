import { pino, type Logger, type LoggerOptions } from 'pino';

export type { Logger };

/** Paths pino blanks out wherever they appear in a log object. */
export const REDACT_PATHS = [
  'password', '*.password', 'mysql_url', '*.mysql_url', 'url', '*.url', 'pgUrl', '*.pgUrl',
  'connectionString', '*.connectionString', 'config.password', 'options.password',
];

// the password runs to the last '@' before the host: unencoded '@' in a password stays hidden
const URL_PASSWORD = /([a-z][a-z0-9+.-]*:\/\/[^:/@\s]*):[^/?#\s]*@/gi;

/** Hides the password of every connection URL inside a text (error messages can carry one). */
export function redactText(text: string): string {
  return text.replace(URL_PASSWORD, '$1:********@');
}

/** A copy of a log value with every string, at any depth, passed through redactText. */
export function redactDeep(value: unknown, depth = 0): unknown {
  if (typeof value === 'string') return redactText(value);
  if (value === null || typeof value !== 'object' || depth > 8) return value;
  if (value instanceof Error) {
    const out: Record<string, unknown> = { type: value.name, message: redactText(value.message) };
    if (value.stack) out.stack = redactText(value.stack);
    for (const [k, v] of Object.entries(value)) out[k] = redactDeep(v, depth + 1);
    return out;
  }
  if (Array.isArray(value)) return value.map((v) => redactDeep(v, depth + 1));
  if (value instanceof Date || Buffer.isBuffer(value)) return value;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) out[k] = redactDeep(v, depth + 1);
  return out;
}

export interface LogSetup {
  level?: string;
  pretty?: boolean;
  destination?: NodeJS.WritableStream;
}

/** The one pino root; everything else logs through child loggers of it. */
export function createLogger(setup: LogSetup = {}): Logger {
  const options: LoggerOptions = {
    level: setup.level ?? process.env.CHAMELEON_LOG_LEVEL ?? 'info',
    base: { app: 'chameleon' },
    redact: { paths: REDACT_PATHS, censor: '********' },
    formatters: {
      // error messages and driver errors may embed a connection URL with its password
      log: (obj) => redactDeep(obj) as Record<string, unknown>,
    },
    hooks: {
      logMethod(args, method) {
        // log.error(err) makes pino copy err.message into msg: hand it a redacted error
        const a = args.map((x) => {
          if (typeof x === 'string') return redactText(x);
          if (x instanceof Error) {
            const copy = new Error(redactText(x.message));
            copy.name = x.name;
            copy.stack = x.stack ? redactText(x.stack) : undefined;
            for (const [k, v] of Object.entries(x)) (copy as unknown as Record<string, unknown>)[k] = redactDeep(v);
            return copy;
          }
          return x;
        });
        return method.apply(this, a as Parameters<typeof method>);
      },
    },
  };
  const logger = setup.pretty
    ? pino(options, pino.transport({ target: 'pino-pretty', options: { colorize: true, translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname,app' } }))
    : setup.destination
      ? pino(options, setup.destination as pino.DestinationStream)
      : pino(options);
  return redactingChildren(logger);
}

/** Child bindings are serialised once, outside the log formatter: redact them on the way in. */
function redactingChildren(logger: Logger): Logger {
  const child = logger.child.bind(logger);
  logger.child = ((bindings: pino.Bindings, opts?: pino.ChildLoggerOptions) =>
    redactingChildren(child(redactDeep(bindings) as pino.Bindings, opts) as Logger)) as unknown as Logger['child'];
  return logger;
}
