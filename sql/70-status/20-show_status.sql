CREATE FUNCTION sch_chameleon.show_status()
RETURNS TABLE (source text, status text, consistent boolean, owner text,
               read_lag interval, replay_lag interval,
               read_position text, replay_position text,
               last_received timestamptz, last_replayed timestamptz,
               pending_batches bigint, tables_replicated bigint, tables_excluded bigint,
               events_read bigint, events_applied bigint, events_skipped bigint, last_error text, warning text,
               last_maintenance timestamptz)
LANGUAGE sql STABLE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT s.source_name, s.status,
           -- consistent once the replay has passed every copied table's coordinates
           s.replay_file IS NOT NULL AND NOT EXISTS (
               SELECT 1 FROM sch_chameleon.t_tables t
               WHERE t.source_id = s.source_id AND t.copy_file IS NOT NULL AND t.state <> 'excluded'
                 AND NOT sch_chameleon.fn_position_reached(s.replay_file, s.replay_pos, t.copy_file, t.copy_pos)),
           sch_chameleon.fn_live_owner(s.source_id),
           r.read_lag,
           CASE WHEN b.pending = 0 THEN r.read_lag ELSE now() - b.oldest_event END,
           (SELECT sch_chameleon.fn_position_text(rp.file, rp.pos, rp.gtid) FROM sch_chameleon.fn_read_position(s.source_id) rp),
           sch_chameleon.fn_position_text(s.replay_file, s.replay_pos, s.replay_gtid),
           rs.read_at, s.last_replayed_at,
           b.pending,
           (SELECT count(*) FROM sch_chameleon.t_tables t WHERE t.source_id = s.source_id AND t.state IN ('copied', 'replicating')),
           -- quarantined at a DDL statement too: not replicating until resolve_ddl or sync_tables
           (SELECT count(*) FROM sch_chameleon.t_tables t WHERE t.source_id = s.source_id AND t.state IN ('excluded', 'failed', 'quarantined')),
           s.events_read + b.pending_events, s.events_applied, s.events_skipped, s.last_error, s.warning,
           s.last_maintenance_at
    FROM sch_chameleon.t_sources s
    -- the newest batch: the reader's last write
    LEFT JOIN LATERAL (
        SELECT x.created_at, x.last_event_at
        FROM sch_chameleon.t_batches x WHERE x.source_id = s.source_id
        ORDER BY x.batch_id DESC LIMIT 1) lb ON true
    -- when the reader last wrote a batch or, idle, stamped the source
    CROSS JOIN LATERAL (
        SELECT greatest(s.last_read_at, lb.created_at) AS read_at,
               CASE WHEN lb.created_at IS NOT NULL AND (s.last_read_at IS NULL OR lb.created_at >= s.last_read_at)
                    THEN coalesce(lb.last_event_at, lb.created_at) ELSE s.last_read_event_at END AS read_event_at) rs
    -- the reader stamps last_read_at on every batch and, when the binlog is
    -- idle, every sleep_loop: a fresh stamp means caught up, so an idle
    -- source shows no lag; a stale one (reader stuck or gone) makes it grow
    CROSS JOIN LATERAL (
        SELECT CASE
                 WHEN rs.read_at IS NULL OR NOT s.replica_enabled THEN NULL
                 WHEN now() - rs.read_at <= greatest(interval '5 seconds',
                          make_interval(secs => 2 * coalesce((s.options ->> 'sleep_loop')::float8, 1)))
                   THEN greatest(rs.read_at - coalesce(rs.read_event_at, rs.read_at), interval '0')
                 ELSE now() - coalesce(rs.read_event_at, rs.read_at)
               END AS read_lag) r
    CROSS JOIN LATERAL (
        SELECT count(*) AS pending, coalesce(sum(x.events), 0) AS pending_events,
               min(coalesce(x.first_event_at, x.created_at)) AS oldest_event
        FROM sch_chameleon.t_batches x
        WHERE x.source_id = s.source_id AND x.applied_at IS NULL) b
    ORDER BY s.source_name
$$;
COMMENT ON FUNCTION sch_chameleon.show_status() IS
'One row per source: status, consistency, owner agent, read and replay lag, positions, counters and the last error.';
