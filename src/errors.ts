/**
 * Stable error codes. Each names a class of failure; the agent chooses how
 * long to wait before retrying a source from the class.
 */
export const ErrorCodes = {
  /** A configuration value or argument is wrong; retrying will not help until someone fixes it. */
  CONFIG: 'CHAMELEON_CONFIG',
  /** MySQL or PostgreSQL refused the credentials or privileges. */
  AUTH: 'CHAMELEON_AUTH',
  /** A connection was lost or could not be made; transient. */
  NETWORK: 'CHAMELEON_NETWORK',
  /** The MySQL server is not set up for replication (binlog settings, privileges). */
  SOURCE_SETUP: 'CHAMELEON_SOURCE_SETUP',
  /** The binlog position the replica needs is no longer on the server. */
  POSITION_PURGED: 'CHAMELEON_POSITION_PURGED',
  /** The agent lost ownership of a source to another agent. */
  LEASE_LOST: 'CHAMELEON_LEASE_LOST',
  /** A command was cancelled by cancel_command(). */
  CANCELLED: 'CHAMELEON_CANCELLED',
  /** A source row or table PostgreSQL cannot hold. */
  DATA: 'CHAMELEON_DATA',
  /** An invariant of the replica was broken: stop the source. */
  ASSERTION: 'CHAMELEON_ASSERTION',
} as const;
export type ErrorCode = (typeof ErrorCodes)[keyof typeof ErrorCodes];

export interface ErrorContext {
  source?: string;
  table?: string;
  position?: string;
  command_id?: string | number;
  [key: string]: unknown;
}

export class ChameleonError extends Error {
  readonly code: ErrorCode;
  readonly context: ErrorContext;
  constructor(code: ErrorCode, message: string, context: ErrorContext = {}, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ChameleonError';
    this.code = code;
    this.context = context;
  }
}

const TRANSIENT_SQLSTATES = new Set(['40001', '40P01', '57P01', '57P02', '57P03', '08000', '08003', '08006', '08001', '08004']);
const TRANSIENT_NODE_CODES = new Set([
  'ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENOTFOUND', 'EAI_AGAIN',
  'PROTOCOL_CONNECTION_LOST', 'ER_SERVER_SHUTDOWN', 'ER_CON_COUNT_ERROR', 'ER_LOCK_DEADLOCK', 'ER_LOCK_WAIT_TIMEOUT',
]);

/** Connection loss, deadlock or serialization failure: worth retrying with backoff. */
export function isTransient(err: unknown): boolean {
  if (err instanceof ChameleonError) return err.code === ErrorCodes.NETWORK;
  const e = err as { code?: unknown; message?: unknown } | null;
  if (!e) return false;
  const code = typeof e.code === 'string' ? e.code : '';
  if (TRANSIENT_SQLSTATES.has(code) || TRANSIENT_NODE_CODES.has(code)) return true;
  const msg = typeof e.message === 'string' ? e.message : '';
  return /Connection terminated|connection lost|Client has encountered a connection error|socket hang up/i.test(msg);
}

export function errorMessage(err: unknown): string {
  if (err instanceof Error) return err.message;
  return String(err);
}

