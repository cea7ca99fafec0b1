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
import { numFlag, parseFlags, strFlag } from './common.js';
import { zongjiPass } from './zongji-pass.js';

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

for (let r = 0; r < rounds; r++) process.stdout.write(`${JSON.stringify(await zongjiPass(port, { file, pos: startPos }, { file: endFile, pos: endPos }, serverId + r, schema))}\n`);
process.exit(0);
