-- A table copied again while its source replicates, or quarantined at a DDL
-- statement: the decoder kept its events of the batches it applied meanwhile
-- (fn_replay_next). Called in the transaction that puts the new copy in
-- place, or that resolves the statement, with the replay held: applies
-- those events in binlog order (the decoder's soft init leaves out what the
-- copy already holds) and removes them, so that the table's next events,
-- in batches not applied yet, find it up to date.
CREATE FUNCTION sch_chameleon.fn_replay_retained(p_source_id bigint, p_mysql_schema text, p_mysql_table text,
    OUT batches integer, OUT applied bigint, OUT skipped bigint)
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_batch bigint;
    v_res   record;
    v_next  record;
BEGIN
    batches := 0; applied := 0; skipped := 0;
    FOR v_batch IN
        SELECT DISTINCT l.batch_id
        FROM sch_chameleon.t_log_events l
        JOIN sch_chameleon.t_batches b ON b.batch_id = l.batch_id
        WHERE b.source_id = p_source_id AND b.applied_at IS NOT NULL
          AND l.mysql_schema = p_mysql_schema AND l.mysql_table = p_mysql_table
        ORDER BY l.batch_id
    LOOP
        -- an applied batch holds only the events of tables that were being
        -- copied: this one, and others still copying, which the decoder skips
        v_res := sch_chameleon.fn_replay_batch(v_batch);
        -- every event of the batch the decoder did not keep back is done (this table's, and
        -- those of its new name once a rename among them is applied); a DDL statement among
        -- them that quarantined the table again keeps its events from there on
        DELETE FROM sch_chameleon.t_log_events l
        WHERE l.batch_id = v_batch
          AND NOT EXISTS (SELECT 1 FROM sch_chameleon.t_tables t
                          WHERE t.source_id = p_source_id AND t.mysql_schema = l.mysql_schema
                            AND t.mysql_table = l.mysql_table AND t.state IN ('copying', 'quarantined'));
        batches := batches + 1;
        applied := applied + v_res.applied;
        skipped := skipped + v_res.skipped;
    END LOOP;
    IF batches > 0 THEN
        UPDATE sch_chameleon.t_sources s
        SET events_applied = s.events_applied + applied, events_skipped = s.events_skipped + skipped
        WHERE s.source_id = p_source_id;
    END IF;
    -- a table renamed among those events: its events under the new name, in batches this
    -- table had none in, are kept for it still (fn_replay_batch held them for the rename);
    -- each call counts its own on the source
    FOR v_next IN
        SELECT DISTINCT l.mysql_schema, l.mysql_table
        FROM sch_chameleon.t_log_events l
        JOIN sch_chameleon.t_batches b ON b.batch_id = l.batch_id
        JOIN sch_chameleon.t_tables t ON t.source_id = b.source_id AND t.mysql_schema = l.mysql_schema AND t.mysql_table = l.mysql_table
        WHERE b.source_id = p_source_id AND b.applied_at IS NOT NULL AND t.state IN ('copied', 'replicating')
    LOOP
        SELECT * INTO v_res FROM sch_chameleon.fn_replay_retained(p_source_id, v_next.mysql_schema, v_next.mysql_table);
        batches := batches + v_res.batches;
        applied := applied + v_res.applied;
        skipped := skipped + v_res.skipped;
    END LOOP;
END
$$;
COMMENT ON FUNCTION sch_chameleon.fn_replay_retained(bigint, text, text) IS
'Applies the events the decoder kept for a table while it was copied again, once the new copy is in place';
