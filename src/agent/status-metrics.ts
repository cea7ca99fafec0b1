import type { MetricFamily, Sample } from './metrics.js';

const STATUSES = ['ready', 'initialising', 'initialised', 'starting', 'running', 'stopped', 'error', 'detached'];

/** A show_status() interval as seconds (pg returns intervals as objects, or null). */
function seconds(v: unknown): number {
  if (v === null || v === undefined) return NaN;
  if (typeof v === 'object') {
    const i = v as { days?: number; hours?: number; minutes?: number; seconds?: number; milliseconds?: number };
    return (i.days ?? 0) * 86400 + (i.hours ?? 0) * 3600 + (i.minutes ?? 0) * 60 + (i.seconds ?? 0) + (i.milliseconds ?? 0) / 1000;
  }
  return Number(v);
}

/** The metrics of every source, from one show_status() read, and the agent's own. */
export function statusMetrics(agentId: string, version: string, rows: Record<string, unknown>[]): MetricFamily[] {
  const per = (name: string, help: string, type: 'gauge' | 'counter', value: (r: Record<string, unknown>) => number): MetricFamily => ({
    name, help, type, samples: rows.map((r): Sample => ({ name, labels: { source: String(r.source) }, value: value(r) })),
  });
  return [
    { name: 'chameleon_agent_info', help: 'The agent serving these metrics', type: 'gauge', samples: [{ name: 'chameleon_agent_info', labels: { agent: agentId, version }, value: 1 }] },
    {
      name: 'chameleon_source_status', help: 'Status of each source (1 for its current status)', type: 'gauge',
      samples: rows.flatMap((r) => STATUSES.map((st) => ({ name: 'chameleon_source_status', labels: { source: String(r.source), status: st }, value: r.status === st ? 1 : 0 }))),
    },
    per('chameleon_source_consistent', 'The replay has passed every table\'s copy coordinates', 'gauge', (r) => (r.consistent ? 1 : 0)),
    per('chameleon_read_lag_seconds', 'How far the reader is behind MySQL (heartbeats keep it right on an idle source)', 'gauge', (r) => seconds(r.read_lag)),
    per('chameleon_replay_lag_seconds', 'How far PostgreSQL is behind MySQL', 'gauge', (r) => seconds(r.replay_lag)),
    per('chameleon_pending_batches', 'Batches read and not applied yet', 'gauge', (r) => Number(r.pending_batches)),
    per('chameleon_tables_replicated', 'Tables copied or replicating', 'gauge', (r) => Number(r.tables_replicated)),
    per('chameleon_tables_excluded', 'Tables excluded, failed or quarantined at DDL', 'gauge', (r) => Number(r.tables_excluded)),
    per('chameleon_events_read_total', 'Row and DDL events read from the binlog', 'counter', (r) => Number(r.events_read)),
    per('chameleon_events_applied_total', 'Events applied to PostgreSQL', 'counter', (r) => Number(r.events_applied)),
    per('chameleon_events_skipped_total', 'Events skipped (already in a table\'s copy, or of tables not replicated)', 'counter', (r) => Number(r.events_skipped)),
  ];
}
