import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

export type ServerKind = 'mariadb' | 'postgres';

export interface StopOptions {
  /** Leave the data directory on disk (e.g. to inspect it after a failed test). */
  keep?: boolean;
}

export interface ThrowawayServer {
  readonly kind: ServerKind;
  /** Connection URL; stays the same across restart(). */
  readonly url: string;
  readonly port: number;
  readonly dataDir: string;
  /** Server log (error log for MariaDB, stderr log for PostgreSQL). */
  readonly logFile: string;
  /** PID of the server process while it runs. */
  readonly pid: number | undefined;
  readonly running: boolean;
  /** Shuts the server down cleanly and removes the data dir unless it is kept. */
  stop(opts?: StopOptions): Promise<void>;
  /** Stops (if running) and starts the server again on the same port and data dir. */
  restart(): Promise<void>;
  /**
   * Sends a signal to the server process without waiting. Without an argument
   * it sends the server's clean-shutdown signal; 'SIGKILL' simulates a crash.
   */
  kill(signal?: NodeJS.Signals): void;
}

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface SpawnedServer {
  child: ChildProcess;
  exited: Promise<Exit>;
  hasExited(): boolean;
}

export interface SpawnServerOptions {
  logFile: string;
  uid?: number;
  gid?: number;
  env?: NodeJS.ProcessEnv;
}

/**
 * Starts a server with stdout/stderr appended to a log file rather than piped
 * to us: a pipe would tie the server's lifetime to our event loop draining it.
 */
export function spawnServer(cmd: string, args: string[], opts: SpawnServerOptions): SpawnedServer {
  const fd = fs.openSync(opts.logFile, 'a');
  let child: ChildProcess;
  try {
    child = spawn(cmd, args, {
      stdio: ['ignore', fd, fd],
      uid: opts.uid,
      gid: opts.gid,
      env: opts.env ?? process.env,
    });
  } finally {
    fs.closeSync(fd);
  }
  let done = false;
  const exited = new Promise<Exit>((resolve) => {
    child.once('exit', (code, signal) => {
      done = true;
      resolve({ code, signal });
    });
    child.once('error', () => {
      done = true;
      resolve({ code: null, signal: null });
    });
  });
  return { child, exited, hasExited: () => done };
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Resolves true if the process exited within `ms`. */
export async function waitForExit(server: SpawnedServer, ms: number): Promise<boolean> {
  if (server.hasExited()) return true;
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), ms);
  });
  const result = await Promise.race([server.exited.then(() => true as const), timeout]);
  clearTimeout(timer);
  return result;
}

/** Sends `signal`, waits, and escalates to SIGKILL if the server hangs. */
export async function shutdown(server: SpawnedServer, signal: NodeJS.Signals, graceMs: number): Promise<void> {
  if (server.hasExited()) return;
  try {
    server.child.kill(signal);
  } catch {
    // already gone
  }
  if (await waitForExit(server, graceMs)) return;
  try {
    server.child.kill('SIGKILL');
  } catch {
    // already gone
  }
  await server.exited;
}

export async function fileSize(file: string): Promise<number> {
  try {
    return (await fsp.stat(file)).size;
  } catch {
    return 0;
  }
}

/** Text appended to `file` since byte `from`, limited to the last `maxLines` lines. */
export async function readLogSince(file: string, from: number, maxLines = 40): Promise<string> {
  try {
    const buf = await fsp.readFile(file);
    const lines = buf.subarray(Math.min(from, buf.length)).toString('utf8').trimEnd().split('\n');
    return lines.slice(-maxLines).join('\n');
  } catch {
    return '';
  }
}

export class StartupError extends Error {
  constructor(message: string, readonly log: string) {
    super(log ? `${message}\n--- server log ---\n${log}` : message);
    this.name = 'StartupError';
  }
}

/**
 * Polls `probe` until it succeeds, the server exits, or the timeout expires.
 * The last probe error is reported because it usually says why (auth, socket...).
 */
export async function waitUntilReady(
  server: SpawnedServer,
  probe: () => Promise<void>,
  opts: { timeoutMs: number; what: string; logFile: string; logOffset: number },
): Promise<void> {
  const deadline = Date.now() + opts.timeoutMs;
  let lastError: unknown;
  for (;;) {
    if (server.hasExited()) {
      const exit = await server.exited;
      throw new StartupError(
        `${opts.what} exited during startup (code ${exit.code}, signal ${exit.signal})`,
        await readLogSince(opts.logFile, opts.logOffset),
      );
    }
    try {
      await probe();
      return;
    } catch (err) {
      lastError = err;
    }
    if (Date.now() > deadline) {
      await shutdown(server, 'SIGKILL', 5000);
      throw new StartupError(
        `${opts.what} did not accept connections within ${opts.timeoutMs} ms: ${(lastError as Error)?.message ?? lastError}`,
        await readLogSince(opts.logFile, opts.logOffset),
      );
    }
    await sleep(100);
  }
}

/**
 * Returns the data directory to use and whether we created it (only
 * directories we created are deleted on stop by default).
 */
export async function prepareDataDir(prefix: string, dataDir: string | undefined): Promise<{ dir: string; created: boolean }> {
  if (dataDir !== undefined) {
    const dir = path.resolve(dataDir);
    await fsp.mkdir(dir, { recursive: true });
    return { dir, created: false };
  }
  const dir = await fsp.mkdtemp(path.join(os.tmpdir(), prefix));
  return { dir, created: true };
}

export async function removeDir(dir: string): Promise<void> {
  await fsp.rm(dir, { recursive: true, force: true, maxRetries: 3 });
}

export function isRoot(): boolean {
  return typeof process.getuid === 'function' && process.getuid() === 0;
}

interface Stoppable {
  stop(opts?: StopOptions): Promise<void>;
  kill(signal?: NodeJS.Signals): void;
}

/**
 * Stops the given servers when the process is interrupted (SIGINT, SIGTERM,
 * SIGHUP) and, as a last resort, signals them on a plain process exit, where
 * only synchronous work is possible. Returns a function that unregisters
 * the handlers.
 */
export function stopOnExit(
  servers: Stoppable | Stoppable[],
  opts: { log?: (msg: string) => void; keep?: boolean; signals?: boolean } = {},
): () => void {
  const list = Array.isArray(servers) ? servers : [servers];
  let stopping = false;

  const onSignal = (signal: NodeJS.Signals): void => {
    if (stopping) return;
    stopping = true;
    opts.log?.(`received ${signal}, stopping database servers`);
    const code = 128 + (os.constants.signals[signal] ?? 1);
    Promise.allSettled(list.map((s) => s.stop({ keep: opts.keep }))).finally(() => {
      process.exit(code);
    });
  };
  const onExit = (): void => {
    for (const s of list) {
      try {
        s.kill();
      } catch {
        // nothing more can be done synchronously
      }
    }
  };

  // a caller with its own orderly shutdown on signals keeps only the exit hook
  const signals: NodeJS.Signals[] = opts.signals === false ? [] : ['SIGINT', 'SIGTERM', 'SIGHUP'];
  for (const sig of signals) process.on(sig, onSignal);
  process.on('exit', onExit);
  return () => {
    for (const sig of signals) process.off(sig, onSignal);
    process.off('exit', onExit);
  };
}
