/**
 * zongji's own decode rate on a binlog range, in a process of its own:
 *
 *   node dist/bench/zongji-alone.js --port P --file F --start POS --end POS [--end-file F2]
 *                                   [--rounds 3] [--server-id N] [--schema sbtest] [--patched]
 *
 * The agent patches zongji's parser process-wide (src/binlog/rows-hook.ts)
 * when its replica starts, so a pass run in the benchmark's own process
 * measures zongji with the agent's changes, not zongji. This process loads
 * stock zongji only, unless --patched asks for the agent's parser too.
 * The passes run one after the other in this process (the first one also
 * warms the JIT up). Prints one JSON line per pass: changes, byKind,
 * seconds (from 'ready' to the event that reaches --end), cpuSeconds.
 */
import ZongJi from '@vlasky/zongji';
import { numFlag, parseFlags, strFlag } from './common.js';

const flags = parseFlags();
const port = numFlag(flags, 'port', 3306);
const file = strFlag(flags, 'file', '');
const startPos = numFlag(flags, 'start', 4);
const endPos = numFlag(flags, 'end', 0);
const endFile = strFlag(flags, 'end-file', file);
const rounds = numFlag(flags, 'rounds', 3);
const serverId = numFlag(flags, 'server-id', 301);
const schema = strFlag(flags, 'schema', 'sbtest');
if (!file || !endPos) throw new Error('--file and --end are required');

if (flags.has('patched')) {
  const hook = await import('../src/binlog/rows-hook.js');
  hook.installRowsHook();
}

interface PassResult {
  changes: number;
  byKind: Record<string, number>;
  seconds: number;
  cpuSeconds: number;
}

function pass(id: number): Promise<PassResult> {
  return new Promise((resolve, reject) => {
    const z = new ZongJi({
      host: '127.0.0.1', port, user: 'root', password: '',
      dateStrings: true, timezone: 'Z', jsonStrings: true, supportBigNumbers: true, bigNumberStrings: true,
    } as never);
    const byKind: Record<string, number> = { insert: 0, update: 0, delete: 0 };
    let changes = 0;
    let current = file;
    let t0 = performance.now();
    let cpu0 = process.cpuUsage();
    let done = false;
    const finish = (err?: Error): void => {
      if (done) return;
      done = true;
      const seconds = (performance.now() - t0) / 1000;
      const c = process.cpuUsage(cpu0);
      const settle = (): void => (err ? reject(err) : resolve({ changes, byKind, seconds, cpuSeconds: (c.user + c.system) / 1e6 }));
      const timer = setTimeout(settle, 2000);
      z.on('stopped', () => {
        clearTimeout(timer);
        settle();
      });
      z.stop();
    };
    z.on('ready', () => {
      t0 = performance.now();
      cpu0 = process.cpuUsage();
    });
    z.on('error', (err: Error) => finish(err));
    z.on('binlog', (evt: { getEventName(): string; nextPosition: number; binlogName?: string; rows?: unknown[] }) => {
      if (done) return;
      const name = evt.getEventName();
      if (name === 'rotate') {
        current = String(evt.binlogName);
        return;
      }
      if (name === 'writerows' || name === 'updaterows' || name === 'deleterows') {
        const n = evt.rows?.length ?? 0;
        changes += n;
        byKind[name === 'writerows' ? 'insert' : name === 'updaterows' ? 'update' : 'delete'] += n;
      }
      if (current === endFile && evt.nextPosition >= endPos) finish();
    });
    z.start({
      serverId: id,
      filename: file,
      position: startPos,
      includeEvents: ['rotate', 'tablemap', 'writerows', 'updaterows', 'deleterows', 'xid', 'query'],
      includeSchema: { [schema]: true },
    });
  });
}

for (let r = 0; r < rounds; r++) process.stdout.write(`${JSON.stringify(await pass(serverId + r))}\n`);
process.exit(0);
