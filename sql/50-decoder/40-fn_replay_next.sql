-- Applies the oldest unapplied batches of a source, at least one and up to
-- replay_max_rows events, and moves the replay position, all in the caller's
-- transaction: data and position commit together.
CREATE FUNCTION sch_chameleon.fn_replay_next(p_source_id bigint, p_agent_id text,
    OUT batches integer, OUT events bigint, OUT applied bigint, OUT skipped bigint)
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_max   bigint;
    v_batch sch_chameleon.t_batches;
    v_last  sch_chameleon.t_batches;
    v_res   record;
BEGIN
    batches := 0; events := 0; applied := 0; skipped := 0;
    -- resolve_ddl takes this lock exclusively: a replay call never runs beside
    -- a table's return from quarantine (it would keep that table's events back
    -- after the table replicates again)
    PERFORM pg_advisory_xact_lock_shared(hashtext('sch_chameleon.replay'), p_source_id::integer);
    -- fencing: an agent that lost its lease must not apply anything
    PERFORM 1 FROM sch_chameleon.t_source_leases l
    WHERE l.source_id = p_source_id AND l.agent_id = p_agent_id FOR KEY SHARE;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'agent % does not own source %', p_agent_id, p_source_id
            USING ERRCODE = 'lock_not_available', HINT = 'Another agent took the source over, or it was dropped.';
    END IF;
    SELECT (s.options ->> 'replay_max_rows')::bigint INTO v_max FROM sch_chameleon.t_sources s WHERE s.source_id = p_source_id;
    LOOP
        SELECT * INTO v_batch FROM sch_chameleon.t_batches b
        WHERE b.source_id = p_source_id AND b.applied_at IS NULL
        ORDER BY b.batch_id LIMIT 1
        FOR UPDATE;
        EXIT WHEN NOT FOUND;
        v_res := sch_chameleon.fn_replay_batch(v_batch.batch_id);
        UPDATE sch_chameleon.t_batches b SET applied_at = clock_timestamp() WHERE b.batch_id = v_batch.batch_id;
        IF EXISTS (SELECT 1 FROM sch_chameleon.t_tables t WHERE t.source_id = p_source_id AND t.state IN ('copying', 'quarantined')) THEN
            -- the events of tables being copied again, or quarantined at a DDL
            -- statement, stay, for fn_replay_retained to apply once their copy is
            -- in place or the statement is resolved; the other tables go on meanwhile
            DELETE FROM sch_chameleon.t_log_events l
            WHERE l.batch_id = v_batch.batch_id
              AND NOT EXISTS (SELECT 1 FROM sch_chameleon.t_tables t
                              WHERE t.source_id = p_source_id AND t.state IN ('copying', 'quarantined')
                                AND t.mysql_schema = l.mysql_schema AND t.mysql_table = l.mysql_table);
        ELSE
            DELETE FROM sch_chameleon.t_log_events l WHERE l.batch_id = v_batch.batch_id;
        END IF;
        v_last := v_batch;
        batches := batches + 1;
        events := events + v_batch.events;
        applied := applied + v_res.applied;
        skipped := skipped + v_res.skipped;
        EXIT WHEN events >= coalesce(v_max, 25000);
    END LOOP;
    IF batches > 0 THEN
        -- last, and once: the row stays locked until the commit. The reader's
        -- position lives in its batch rows; applied batches may be pruned, so
        -- the read position is carried forward here as they are applied.
        UPDATE sch_chameleon.t_sources s
        SET read_file = CASE WHEN sch_chameleon.fn_position_reached(s.read_file, s.read_pos, v_last.end_file, v_last.end_pos)
                             THEN s.read_file ELSE v_last.end_file END,
            read_pos = CASE WHEN sch_chameleon.fn_position_reached(s.read_file, s.read_pos, v_last.end_file, v_last.end_pos)
                            THEN s.read_pos ELSE v_last.end_pos END,
            read_gtid = CASE WHEN sch_chameleon.fn_position_reached(s.read_file, s.read_pos, v_last.end_file, v_last.end_pos)
                             THEN s.read_gtid ELSE coalesce(v_last.end_gtid, s.read_gtid) END,
            events_read = s.events_read + events,
            replay_file = v_last.end_file, replay_pos = v_last.end_pos,
            replay_gtid = coalesce(v_last.end_gtid, s.replay_gtid),
            last_replay_event_at = coalesce(v_last.last_event_at, s.last_replay_event_at),
            last_replayed_at = clock_timestamp(),
            events_applied = s.events_applied + applied,
            events_skipped = s.events_skipped + skipped
        WHERE s.source_id = p_source_id;
    END IF;
END
$$;
COMMENT ON FUNCTION sch_chameleon.fn_replay_next(bigint, text) IS
'Replays the next batches of a source (up to replay_max_rows events) and moves its replay position';
