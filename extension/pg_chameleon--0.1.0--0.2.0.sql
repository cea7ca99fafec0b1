\echo Use "ALTER EXTENSION pg_chameleon UPDATE" to load this file. \quit

-- 0.2.0: the reader describes each batch's tables and event counts, and the
-- decoder takes them from there instead of counting the batch's log rows.

ALTER TABLE sch_chameleon.t_batches ADD COLUMN tables jsonb;

-- The decoder. A batch is cut at its DDL events; between them, each table's
-- events are applied with one set-based statement (their net effect per
-- primary key). A statement that fails is replayed event by event under
-- savepoints to pin the row at fault; then the table is excluded
-- (on_error_replay = continue) or the whole call fails and nothing of the
-- batch is applied (exit).
CREATE OR REPLACE FUNCTION sch_chameleon.fn_replay_batch(p_batch_id bigint, OUT applied bigint, OUT skipped bigint)
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_src      sch_chameleon.t_sources;
    v_tbl      sch_chameleon.t_tables;
    v_t        record;
    v_ev       record;
    v_key      text;
    v_stmts    jsonb := '{}';
    v_s        jsonb;
    v_lo       integer := 0;
    v_hi       integer;
    v_ddl_seq  integer;
    v_run_lo   integer;
    v_run_hi   integer;
    v_state    text;
    v_msg      text;
    v_stmt     text;
    v_done     bigint;
    v_ddl      sch_chameleon.t_log_events;
    v_batch    sch_chameleon.t_batches;
    v_described boolean;
    v_before   bigint;
BEGIN
    applied := 0;
    skipped := 0;
    SELECT s.* INTO v_src FROM sch_chameleon.t_sources s
    JOIN sch_chameleon.t_batches b ON b.source_id = s.source_id WHERE b.batch_id = p_batch_id;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'batch % does not exist', p_batch_id USING ERRCODE = 'undefined_object';
    END IF;
    SELECT b.* INTO v_batch FROM sch_chameleon.t_batches b WHERE b.batch_id = p_batch_id;
    -- The reader describes a batch's tables as it writes it: without DDL to
    -- cut the batch at, the tables and their event counts are taken from
    -- there instead of from a pass over every log row of the batch (a fifth
    -- of the replay's time). An applied batch replayed again holds only the
    -- events retained for tables being copied (fn_replay_retained): counted.
    v_described := v_batch.applied_at IS NULL AND coalesce(jsonb_typeof(v_batch.tables) = 'array', false)
        AND NOT EXISTS (SELECT 1 FROM jsonb_array_elements(v_batch.tables) e(t) WHERE (e.t ->> 'ddl')::integer > 0);

    LOOP
        v_ddl_seq := NULL;
        IF NOT v_described THEN
            SELECT min(l.event_seq) INTO v_ddl_seq FROM sch_chameleon.t_log_events l
            WHERE l.batch_id = p_batch_id AND l.kind = 'ddl' AND l.event_seq >= v_lo;
        END IF;
        v_hi := coalesce(v_ddl_seq - 1, 2147483647);

        FOR v_t IN
            SELECT e.n::integer AS table_no, e.t ->> 'schema' AS mysql_schema, e.t ->> 'table' AS mysql_table,
                   (e.t ->> 'events')::bigint AS events, NULL::bigint AS before_copy, e.n AS first_seq
            FROM jsonb_array_elements(v_batch.tables) WITH ORDINALITY AS e(t, n)
            WHERE v_described AND (e.t ->> 'events')::bigint > 0
            UNION ALL
            SELECT l.table_no, l.mysql_schema, l.mysql_table, count(*) AS events,
                   count(*) FILTER (WHERE t.copy_file IS NOT NULL AND (l.tx_file, l.tx_pos) <= (t.copy_file, t.copy_pos)) AS before_copy,
                   min(l.event_seq) AS first_seq
            FROM sch_chameleon.t_log_events l
            LEFT JOIN sch_chameleon.t_tables t
                   ON t.source_id = v_src.source_id AND t.mysql_schema = l.mysql_schema AND t.mysql_table = l.mysql_table
            WHERE NOT v_described AND l.batch_id = p_batch_id AND l.event_seq BETWEEN v_lo AND v_hi AND l.kind <> 'ddl'
            GROUP BY l.table_no, l.mysql_schema, l.mysql_table
            ORDER BY first_seq
        LOOP
            SELECT * INTO v_tbl FROM sch_chameleon.t_tables t
            WHERE t.source_id = v_src.source_id AND t.mysql_schema = v_t.mysql_schema AND t.mysql_table = v_t.mysql_table;
            -- a table being copied again: its events wait in the log (fn_replay_next
            -- keeps them) and are applied when the copy is swapped in
            CONTINUE WHEN FOUND AND v_tbl.state = 'copying';
            IF NOT FOUND OR v_tbl.state NOT IN ('copied', 'replicating') THEN
                skipped := skipped + v_t.events;
                CONTINUE;
            END IF;
            -- soft init: the events of transactions the table's copy already holds
            v_before := v_t.before_copy;
            IF v_before IS NULL THEN
                v_before := 0;
                -- binlog order is event order: when the table's first event of the batch
                -- is past the copy, so are the others, and none needs counting
                IF v_tbl.copy_file IS NOT NULL AND EXISTS (
                    SELECT 1 FROM (SELECT l.tx_file, l.tx_pos FROM sch_chameleon.t_log_events l
                                   WHERE l.batch_id = p_batch_id AND l.table_no = v_t.table_no
                                   ORDER BY l.event_seq LIMIT 1) f
                    WHERE (f.tx_file, f.tx_pos) <= (v_tbl.copy_file, v_tbl.copy_pos)) THEN
                    SELECT count(*) INTO v_before FROM sch_chameleon.t_log_events l
                    WHERE l.batch_id = p_batch_id AND l.table_no = v_t.table_no AND l.kind <> 'ddl'
                      AND (l.tx_file, l.tx_pos) <= (v_tbl.copy_file, v_tbl.copy_pos);
                END IF;
            END IF;
            skipped := skipped + v_before;
            CONTINUE WHEN v_t.events = v_before;

            v_key := format('%I.%I', v_tbl.pg_schema, v_tbl.pg_table);
            v_s := coalesce(v_stmts -> v_key, v_tbl.decoder_statements);
            BEGIN
                IF v_s IS NULL THEN
                    v_s := sch_chameleon.fn_decoder_statements(v_tbl.pg_schema, v_tbl.pg_table, v_tbl.pk_columns);
                    UPDATE sch_chameleon.t_tables t SET decoder_statements = v_s
                    WHERE t.source_id = v_src.source_id AND t.mysql_schema = v_t.mysql_schema AND t.mysql_table = v_t.mysql_table;
                END IF;
                v_stmts := v_stmts || jsonb_build_object(v_key, v_s);
                IF v_s ? 'net' THEN
                    EXECUTE v_s ->> 'net'
                        USING p_batch_id, v_lo, v_hi, v_t.table_no, v_tbl.copy_file, v_tbl.copy_pos;
                ELSE
                    -- no key: runs of inserts in one statement, updates and deletes one by one
                    v_run_lo := NULL;
                    FOR v_ev IN
                        SELECT l.event_seq, l.kind FROM sch_chameleon.t_log_events l
                        WHERE l.batch_id = p_batch_id AND l.table_no = v_t.table_no
                          AND l.event_seq BETWEEN v_lo AND v_hi
                        ORDER BY l.event_seq
                    LOOP
                        IF v_ev.kind = 'insert' THEN
                            v_run_lo := coalesce(v_run_lo, v_ev.event_seq);
                            v_run_hi := v_ev.event_seq;
                            CONTINUE;
                        END IF;
                        IF v_run_lo IS NOT NULL THEN
                            EXECUTE v_s ->> 'insert_run'
                                USING p_batch_id, v_run_lo, v_run_hi, v_t.table_no, v_tbl.copy_file, v_tbl.copy_pos;
                            v_run_lo := NULL;
                        END IF;
                        PERFORM sch_chameleon.fn_replay_event(v_s, v_ev.kind, p_batch_id, v_ev.event_seq,
                            v_t.table_no, v_tbl.copy_file, v_tbl.copy_pos);
                    END LOOP;
                    IF v_run_lo IS NOT NULL THEN
                        EXECUTE v_s ->> 'insert_run'
                            USING p_batch_id, v_run_lo, v_run_hi, v_t.table_no, v_tbl.copy_file, v_tbl.copy_pos;
                    END IF;
                END IF;
                applied := applied + v_t.events - v_before;
            EXCEPTION WHEN others THEN
                -- rolled back to the savepoint: replay the table's events one by one to find the row at fault,
                -- with statements built afresh (the target may have been altered since they were cached)
                v_done := 0;
                BEGIN
                    v_s := sch_chameleon.fn_decoder_statements(v_tbl.pg_schema, v_tbl.pg_table, v_tbl.pk_columns);
                    UPDATE sch_chameleon.t_tables t SET decoder_statements = v_s
                    WHERE t.source_id = v_src.source_id AND t.mysql_schema = v_t.mysql_schema AND t.mysql_table = v_t.mysql_table;
                EXCEPTION WHEN others THEN
                    NULL;  -- the table is gone: every event below fails and is reported
                END;
                FOR v_ev IN
                    SELECT l.event_seq, l.kind FROM sch_chameleon.t_log_events l
                    WHERE l.batch_id = p_batch_id AND l.table_no = v_t.table_no
                      AND l.event_seq BETWEEN v_lo AND v_hi
                    ORDER BY l.event_seq
                LOOP
                    BEGIN
                        PERFORM sch_chameleon.fn_replay_event(v_s, v_ev.kind, p_batch_id, v_ev.event_seq,
                            v_t.table_no, v_tbl.copy_file, v_tbl.copy_pos);
                        v_done := v_done + 1;
                    EXCEPTION WHEN others THEN
                        GET STACKED DIAGNOSTICS v_state = RETURNED_SQLSTATE, v_msg = MESSAGE_TEXT;
                        v_stmt := CASE WHEN v_s IS NULL THEN NULL
                                       WHEN v_s ? 'delete_one' THEN concat_ws('; ',
                                            CASE WHEN v_ev.kind <> 'insert' THEN v_s ->> 'delete_one' END,
                                            CASE WHEN v_ev.kind <> 'delete' THEN v_s ->> 'insert_one' END)
                                       WHEN v_ev.kind = 'insert' THEN v_s ->> 'insert_one'
                                       WHEN v_ev.kind = 'delete' THEN v_s ->> 'delete_row'
                                       ELSE v_s ->> 'update_row' END;
                        IF v_src.options ->> 'on_error_replay' = 'exit' THEN
                            RAISE EXCEPTION 'replay of %.% failed at batch % event %: %', v_t.mysql_schema, v_t.mysql_table, p_batch_id, v_ev.event_seq, v_msg
                                USING ERRCODE = v_state,
                                      DETAIL = (SELECT format('row: %s; statement: %s', coalesce(l.row_after, l.row_before), v_stmt)
                                                FROM sch_chameleon.t_log_events l
                                                WHERE l.batch_id = p_batch_id AND l.table_no = v_t.table_no AND l.event_seq = v_ev.event_seq);
                        END IF;
                        INSERT INTO sch_chameleon.t_errors (source_id, mysql_schema, mysql_table, batch_id, event_seq,
                                                            binlog_file, binlog_pos, statement, row_image, sqlstate, message)
                        SELECT v_src.source_id, l.mysql_schema, l.mysql_table, p_batch_id, l.event_seq, l.tx_file, l.tx_pos,
                               v_stmt, coalesce(l.row_after, l.row_before), v_state, v_msg
                        FROM sch_chameleon.t_log_events l
                        WHERE l.batch_id = p_batch_id AND l.table_no = v_t.table_no AND l.event_seq = v_ev.event_seq;
                        UPDATE sch_chameleon.t_tables t
                        SET state = 'excluded', reason = format('replay failed at %s:%s: %s', v_t.mysql_schema, v_t.mysql_table, v_msg),
                            updated_at = now()
                        WHERE t.source_id = v_src.source_id AND t.mysql_schema = v_t.mysql_schema AND t.mysql_table = v_t.mysql_table;
                        PERFORM pg_notify('chameleon_alerts', json_build_object(
                            'source', v_src.source_name, 'table', v_t.mysql_schema || '.' || v_t.mysql_table,
                            'error', v_msg, 'excluded', true)::text);
                        EXIT;
                    END;
                END LOOP;
                applied := applied + v_done;
                skipped := skipped + greatest(v_t.events - v_before - v_done, 0);
            END;
            UPDATE sch_chameleon.t_tables t SET events_applied = t.events_applied + v_t.events - v_before
            WHERE t.source_id = v_src.source_id AND t.mysql_schema = v_t.mysql_schema AND t.mysql_table = v_t.mysql_table
              AND t.state <> 'excluded';
        END LOOP;

        EXIT WHEN v_ddl_seq IS NULL;
        -- A MySQL DDL statement that changes a table, in its place between the
        -- row events around it: DDL is not translated yet, so the table stops
        -- replicating here, visibly (excluded, show_errors(), an alert),
        -- instead of taking row images its target no longer matches. Events
        -- before it are applied; sync_tables copies the table again.
        SELECT l.* INTO v_ddl FROM sch_chameleon.t_log_events l WHERE l.batch_id = p_batch_id AND l.event_seq = v_ddl_seq;
        UPDATE sch_chameleon.t_tables t
        SET state = 'excluded', updated_at = now(),
            reason = format('MySQL DDL not replicated: %s (sync_tables copies the table again)', left(v_ddl.ddl, 500))
        WHERE t.source_id = v_src.source_id AND t.mysql_schema = v_ddl.mysql_schema AND t.mysql_table = v_ddl.mysql_table
          AND t.state IN ('copied', 'replicating')
          AND (t.copy_file IS NULL OR (v_ddl.tx_file, v_ddl.tx_pos) > (t.copy_file, t.copy_pos));
        IF FOUND THEN
            INSERT INTO sch_chameleon.t_errors (source_id, mysql_schema, mysql_table, batch_id, event_seq,
                                                binlog_file, binlog_pos, statement, message)
            VALUES (v_src.source_id, v_ddl.mysql_schema, v_ddl.mysql_table, p_batch_id, v_ddl.event_seq,
                    v_ddl.tx_file, v_ddl.tx_pos, v_ddl.ddl, 'MySQL DDL not replicated: the table is excluded from here on');
            PERFORM pg_notify('chameleon_alerts', json_build_object(
                'source', v_src.source_name, 'table', v_ddl.mysql_schema || '.' || v_ddl.mysql_table,
                'error', 'MySQL DDL not replicated', 'excluded', true)::text);
        END IF;
        skipped := skipped + 1;
        v_stmts := '{}';
        v_lo := v_ddl_seq + 1;
    END LOOP;
END
$$;
COMMENT ON FUNCTION sch_chameleon.fn_replay_batch(bigint) IS
'The set-based decoder: applies one logged batch to the target tables';
INSERT INTO sch_chameleon.t_version (version) VALUES ('0.2.0');
