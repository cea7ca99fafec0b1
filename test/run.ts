/**
 * Test entry point (`npm test`). Starts one throwaway MariaDB and PostgreSQL
 * for the whole run unless CHAMELEON_TEST_MYSQL_URL and CHAMELEON_TEST_PG_URL
 * are given, then runs the compiled test files in a `node --test` child.
 *
 *   node dist/test/run.js [filter]   runs only files whose path contains filter
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs/promises';
import http from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort, startThrowawayPair, type ThrowawayPair, type ThrowawayServer } from '../src/servers/index.js';

const SUITES = ['unit', 'sql', 'upgrade', 'integration'];

function say(msg: string): void {
  process.stderr.write(`[test/run] ${msg}\n`);
}

async function findTestFiles(root: string, filter: string | undefined): Promise<string[]> {
  const out: string[] = [];
  const walk = async (dir: string): Promise<void> => {
    let entries;
    try {
      entries = await fs.readdir(dir, { withFileTypes: true });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw err;
    }
    for (const e of entries) {
      const p = path.join(dir, e.name);
      if (e.isDirectory()) await walk(p);
      else if (e.isFile() && e.name.endsWith('.test.js')) out.push(p);
    }
  };
  for (const suite of SUITES) await walk(path.join(root, suite));
  const rel = out.map((p) => path.relative(process.cwd(), p)).sort();
  return filter ? rel.filter((p) => p.includes(filter)) : rel;
}

/**
 * Lets test files restart a server mid-test (POST /restart/mysql|pg).
 * Restarts are serialized: two overlapping restarts of one server would race.
 */
async function startControlServer(pair: ThrowawayPair): Promise<{ url: string; close(): Promise<void> }> {
  let chain: Promise<unknown> = Promise.resolve();
  const servers: Record<string, ThrowawayServer> = { mysql: pair.mysql, pg: pair.pg };
  const srv = http.createServer((req, res) => {
    const m = /^\/restart\/(mysql|pg)\/?$/.exec(req.url ?? '');
    if (req.method !== 'POST' || !m) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('use POST /restart/mysql or POST /restart/pg\n');
      return;
    }
    req.resume();
    const server = servers[m[1]];
    const job = chain.then(async () => {
      const t = Date.now();
      await server.restart();
      say(`restarted ${m[1]} in ${Date.now() - t} ms`);
    });
    chain = job.catch(() => undefined);
    job.then(
      () => res.writeHead(200, { 'content-type': 'text/plain' }).end('ok\n'),
      (err: unknown) => {
        res.writeHead(500, { 'content-type': 'text/plain' }).end(`${err instanceof Error ? err.message : String(err)}\n`);
      },
    );
  });
  const port = await freePort();
  await new Promise<void>((resolve, reject) => {
    srv.once('error', reject);
    srv.listen(port, '127.0.0.1', () => resolve());
  });
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        srv.closeAllConnections();
        srv.close(() => resolve());
      }),
  };
}

interface FileResult {
  file: string;
  code: number;
  /** The counts of the file's closing TAP summary; null when it never printed one. */
  counts: Record<string, number> | null;
}

/**
 * Runs one test file in its own process, its tests in that process (no
 * `--test` parent): Node 20's parent runner reads its children's results
 * from a serialized stream and can drop the rest of a file's results when a
 * frame straddles two pipe reads, which once hid part of a file from the
 * count. Here the file prints TAP itself, and a file that ends without its
 * summary counts as failed.
 */
function runTestFile(file: string, env: NodeJS.ProcessEnv): Promise<FileResult> {
  return new Promise((resolve) => {
    // --test-force-exit: a handle a test forgot to close must not hang the whole run
    const child = spawn(process.execPath, ['--test-force-exit', '--test-reporter=tap', file], { stdio: ['ignore', 'pipe', 'inherit'], env });
    const counts: Record<string, number> = {};
    let tail = '';
    let sawSummary = false;
    child.stdout.on('data', (chunk: Buffer) => {
      process.stdout.write(chunk);
      const lines = (tail + chunk.toString('utf8')).split('\n');
      tail = lines.pop() ?? '';
      for (const line of lines) {
        // the summary is the only unindented "# word N" block, at the end
        const m = /^# (tests|suites|pass|fail|cancelled|skipped|todo) (\d+)$/.exec(line);
        if (m) {
          counts[m[1]] = Number(m[2]);
          if (m[1] === 'tests') sawSummary = true;
        }
      }
    });
    // An interactive Ctrl-C reaches the child through the process group; a
    // SIGTERM aimed at us alone (e.g. a CI timeout) has to be passed on.
    const forward = (sig: NodeJS.Signals): void => {
      say(`received ${sig}, waiting for the tests to stop`);
      interrupted = true;
      if (child.exitCode === null) child.kill(sig);
    };
    process.on('SIGINT', forward);
    process.on('SIGTERM', forward);
    process.on('SIGHUP', forward);
    child.once('error', (err) => {
      say(`could not run ${file}: ${err.message}`);
      resolve({ file, code: 1, counts: null });
    });
    child.once('close', (code, signal) => {
      process.off('SIGINT', forward);
      process.off('SIGTERM', forward);
      process.off('SIGHUP', forward);
      resolve({ file, code: code ?? (signal ? 1 : 0), counts: sawSummary ? counts : null });
    });
  });
}

let interrupted = false;

async function runNodeTest(files: string[], env: NodeJS.ProcessEnv): Promise<number> {
  const results: FileResult[] = [];
  for (const file of files) {
    if (interrupted) break;
    results.push(await runTestFile(file, env));
  }
  const total: Record<string, number> = {};
  for (const r of results) for (const [k, v] of Object.entries(r.counts ?? {})) total[k] = (total[k] ?? 0) + v;
  const broken = results.filter((r) => r.code !== 0 || r.counts === null || (r.counts.fail ?? 0) > 0 || (r.counts.cancelled ?? 0) > 0);
  say(`${results.length} of ${files.length} file(s) run: ${total.tests ?? 0} tests, ${total.pass ?? 0} pass, ${total.fail ?? 0} fail, ` +
    `${total.cancelled ?? 0} cancelled, ${total.skipped ?? 0} skipped`);
  for (const r of broken) {
    say(`  failed: ${path.basename(r.file)} (${r.counts === null ? 'ended without its summary' : `${r.counts.fail ?? 0} failing`}, exit code ${r.code})`);
  }
  // the last lines CI shows: the same counts as node --test would print
  console.log(`# tests ${total.tests ?? 0}\n# pass ${total.pass ?? 0}\n# fail ${(total.fail ?? 0) + broken.filter((r) => !r.counts?.fail).length}\n# skipped ${total.skipped ?? 0}`);
  return broken.length > 0 || results.length < files.length ? 1 : 0;
}

async function main(): Promise<number> {
  const filter = process.argv[2];
  const distTest = path.dirname(fileURLToPath(import.meta.url));
  const files = await findTestFiles(distTest, filter);
  if (files.length === 0) {
    say(filter ? `no test files match "${filter}"` : `no *.test.js files under ${distTest}`);
    return 1;
  }
  say(`${files.length} test file(s)`);

  const env: NodeJS.ProcessEnv = { ...process.env };
  const externalMysql = process.env.CHAMELEON_TEST_MYSQL_URL;
  const externalPg = process.env.CHAMELEON_TEST_PG_URL;

  if (externalMysql && externalPg) {
    say('using external servers from CHAMELEON_TEST_MYSQL_URL / CHAMELEON_TEST_PG_URL (restart tests skip)');
    delete env.CHAMELEON_TEST_CONTROL_URL;
    return runNodeTest(files, env);
  }

  const t0 = Date.now();
  let pair: ThrowawayPair | undefined;
  let interrupted = false;
  const onEarlySignal = (): void => {
    interrupted = true;
  };
  // Servers being started must not be orphaned by a Ctrl-C during startup.
  process.on('SIGINT', onEarlySignal);
  process.on('SIGTERM', onEarlySignal);
  try {
    pair = await startThrowawayPair({ log: (m) => say(m) });
  } finally {
    process.off('SIGINT', onEarlySignal);
    process.off('SIGTERM', onEarlySignal);
  }
  say(`MariaDB ${pair.mysql.url} and PostgreSQL ${pair.pg.url} started in ${Date.now() - t0} ms`);

  let code = 1;
  let control: { url: string; close(): Promise<void> } | undefined;
  try {
    if (!interrupted) {
      control = await startControlServer(pair);
      env.CHAMELEON_TEST_MYSQL_URL = pair.mysql.url;
      env.CHAMELEON_TEST_PG_URL = pair.pg.url;
      env.CHAMELEON_TEST_CONTROL_URL = control.url;
      code = await runNodeTest(files, env);
    }
  } finally {
    await control?.close();
    const keep = code !== 0;
    const t1 = Date.now();
    await pair.stop({ keep });
    say(`servers stopped in ${Date.now() - t1} ms`);
    if (keep) {
      say('tests failed; server data dirs kept for debugging:');
      say(`  MariaDB:    ${pair.mysql.dataDir} (log ${pair.mysql.logFile})`);
      say(`  PostgreSQL: ${pair.pg.dataDir} (log ${pair.pg.logFile})`);
    }
  }
  return code;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    say(err instanceof Error ? (err.stack ?? err.message) : String(err));
    process.exitCode = 1;
  },
);
