/**
 * One zongji pass over a binlog range, shared by bench/zongji-alone.ts (the
 * timed reference, in a process of its own) and bench/replica.ts (the
 * untimed pass that captures the changes for the direct apply).
 */
import ZongJi from '@vlasky/zongji';

export interface BinlogPoint {
  file: string;
  pos: number;
}

export interface ZongjiResult {
  changes: number;
  byKind: Record<string, number>;
  seconds: number;
  cpuSeconds: number;
}

export type RowSink = (table: string, kind: 'insert' | 'update' | 'delete', before: Record<string, unknown> | null, after: Record<string, unknown> | null) => void;

/**
 * Reads the binlog range [start, end) with zongji, the same options as the
 * agent's stream (dateStrings, UTC, JSON and big numbers as strings), and
 * counts row changes (each one handed to `sink` when given). Time from 'ready' (connected and positioned) to the
 * event that reaches `end`.
 */
export function zongjiPass(port: number, start: BinlogPoint, end: BinlogPoint, serverId: number, schema: string, sink?: RowSink): Promise<ZongjiResult> {
  return new Promise((resolve, reject) => {
    const z = new ZongJi({
      host: '127.0.0.1', port, user: 'root', password: '',
      dateStrings: true, timezone: 'Z', jsonStrings: true, supportBigNumbers: true, bigNumberStrings: true,
    } as never);
    const byKind: Record<string, number> = { insert: 0, update: 0, delete: 0 };
    let changes = 0;
    let file = start.file;
    let t0 = performance.now();
    let cpu0 = process.cpuUsage();
    let done = false;
    const finish = (err?: Error): void => {
      if (done) return;
      done = true;
      const seconds = (performance.now() - t0) / 1000;
      const c = process.cpuUsage(cpu0);
      const result = { changes, byKind, seconds, cpuSeconds: (c.user + c.system) / 1e6 };
      const settle = (): void => (err ? reject(err) : resolve(result));
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
    z.on('binlog', (evt: { getEventName(): string; nextPosition: number; binlogName?: string; rows?: unknown[]; tableId?: number; tableMap?: Record<number, { tableName: string }> }) => {
      if (done) return;
      const name = evt.getEventName();
      if (name === 'rotate') {
        file = String(evt.binlogName);
        return;
      }
      if (name === 'writerows' || name === 'updaterows' || name === 'deleterows') {
        const kind = name === 'writerows' ? 'insert' : name === 'updaterows' ? 'update' : 'delete';
        const rows = evt.rows ?? [];
        changes += rows.length;
        byKind[kind] += rows.length;
        if (sink) {
          const table = evt.tableMap?.[evt.tableId ?? -1]?.tableName ?? '?';
          for (const row of rows as Record<string, unknown>[]) {
            if (kind === 'update') sink(table, kind, row.before as Record<string, unknown>, row.after as Record<string, unknown>);
            else if (kind === 'insert') sink(table, kind, null, row);
            else sink(table, kind, row, null);
          }
        }
      }
      if (file === end.file && evt.nextPosition >= end.pos) finish();
    });
    z.start({
      serverId,
      filename: start.file,
      position: start.pos,
      includeEvents: ['rotate', 'tablemap', 'writerows', 'updaterows', 'deleterows', 'xid', 'query'],
      includeSchema: { [schema]: true },
    });
  });
}
