-- The primary key of a target table, as the decoder matches rows on it.
CREATE FUNCTION sch_chameleon.fn_target_primary_key(p_schema text, p_table text)
RETURNS text[]
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT coalesce(array_agg(a.attname::text ORDER BY k.ord), '{}')
    FROM pg_catalog.pg_index x
    CROSS JOIN LATERAL unnest(x.indkey) WITH ORDINALITY AS k(attnum, ord)
    JOIN pg_catalog.pg_attribute a ON a.attrelid = x.indrelid AND a.attnum = k.attnum
    WHERE x.indrelid = to_regclass(format('%I.%I', p_schema, p_table)) AND x.indisprimary
$$;
COMMENT ON FUNCTION sch_chameleon.fn_target_primary_key(text, text) IS 'The primary-key columns of a target table, in key order';

-- A MySQL DDL statement in its place in a batch (fn_replay_batch calls it
-- for a table the replica holds, or one the statement creates): runs the
-- translation's steps (the log row's ddl_plan, see src/ddl/translate-ddl.ts)
-- in a subtransaction and brings the table's catalogue row along (renamed,
-- dropped, new key, statements rebuilt). A statement with no translation,
-- or whose translation PostgreSQL refuses, quarantines the table instead:
-- nothing of it is applied, the table's later events wait in the log, and
-- resolve_ddl() with the operator's PostgreSQL statement lets it go on. The
-- replica itself never stops on DDL. Every statement is recorded in
-- t_ddl_events. Returns 'applied' or 'quarantined'.
CREATE FUNCTION sch_chameleon.fn_apply_ddl(p_src sch_chameleon.t_sources, p_ddl sch_chameleon.t_log_events)
RETURNS text
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_plan   jsonb := p_ddl.ddl_plan;
    v_action text := coalesce(p_ddl.ddl_plan ->> 'action', 'quarantine');
    v_tbl    sch_chameleon.t_tables;
    v_found  boolean;
    v_schema text;
    v_table  text;
    v_step   jsonb;
    v_con    name;
    v_idx    name;
    v_to     jsonb := p_ddl.ddl_plan -> 'to';
    v_err    text;
    v_id     bigint;
BEGIN
    SELECT t.* INTO v_tbl FROM sch_chameleon.t_tables t
    WHERE t.source_id = p_src.source_id AND t.mysql_schema = p_ddl.mysql_schema AND t.mysql_table = p_ddl.mysql_table;
    v_found := FOUND;
    -- a table made anew (CREATE OR REPLACE of one the replica holds, too) gets the plan's names
    v_schema := CASE WHEN v_found AND v_action <> 'create' THEN v_tbl.pg_schema ELSE coalesce(v_plan ->> 'pg_schema', v_tbl.pg_schema) END;
    v_table := CASE WHEN v_found AND v_action <> 'create' THEN v_tbl.pg_table ELSE coalesce(v_plan ->> 'pg_table', v_tbl.pg_table) END;
    IF v_action = 'quarantine' THEN
        v_err := coalesce(v_plan ->> 'reason', 'the statement was logged without a translation');
    ELSE
        BEGIN
            FOR v_step IN SELECT e FROM jsonb_array_elements(v_plan -> 'steps') AS e LOOP
                IF jsonb_typeof(v_step) = 'string' THEN
                    EXECUTE format(v_step #>> '{}', v_schema, v_table, replace(v_table, '"', '""'));
                ELSIF v_step ? 'drop_primary_key' THEN
                    SELECT c.conname INTO v_con FROM pg_catalog.pg_constraint c
                    WHERE c.conrelid = format('%I.%I', v_schema, v_table)::regclass AND c.contype = 'p';
                    IF v_con IS NOT NULL THEN
                        EXECUTE format('ALTER TABLE %I.%I DROP CONSTRAINT %I', v_schema, v_table, v_con);
                    END IF;
                END IF;
            END LOOP;
            IF v_action IN ('drop', 'forget') THEN
                DELETE FROM sch_chameleon.t_tables t
                WHERE t.source_id = p_src.source_id AND t.mysql_schema = p_ddl.mysql_schema AND t.mysql_table = p_ddl.mysql_table;
            ELSIF v_action <> 'truncate' THEN
                IF v_to IS NOT NULL THEN
                    -- indexes named after the table (as the snapshot names them) follow it
                    FOR v_idx IN
                        SELECT i.relname FROM pg_catalog.pg_index x JOIN pg_catalog.pg_class i ON i.oid = x.indexrelid
                        WHERE x.indrelid = format('%I.%I', v_to ->> 'pg_schema', v_to ->> 'pg_table')::regclass
                          AND starts_with(i.relname, v_table || '_')
                    LOOP
                        EXECUTE format('ALTER INDEX %I.%I RENAME TO %I', v_to ->> 'pg_schema', v_idx,
                                       (v_to ->> 'pg_table') || substr(v_idx, length(v_table) + 1));
                    END LOOP;
                    -- a row left under the new name by a table the replica no longer follows
                    DELETE FROM sch_chameleon.t_tables t
                    WHERE t.source_id = p_src.source_id AND t.mysql_schema = v_to ->> 'mysql_schema' AND t.mysql_table = v_to ->> 'mysql_table'
                      AND (t.mysql_schema, t.mysql_table) <> (p_ddl.mysql_schema, p_ddl.mysql_table);
                    v_schema := v_to ->> 'pg_schema';
                    v_table := v_to ->> 'pg_table';
                END IF;
                IF v_found THEN
                    UPDATE sch_chameleon.t_tables t
                    SET mysql_schema = coalesce(v_to ->> 'mysql_schema', t.mysql_schema),
                        mysql_table = coalesce(v_to ->> 'mysql_table', t.mysql_table),
                        pg_schema = v_schema, pg_table = v_table,
                        pk_columns = sch_chameleon.fn_target_primary_key(v_schema, v_table),
                        decoder_statements = NULL, updated_at = now()
                    WHERE t.source_id = p_src.source_id AND t.mysql_schema = p_ddl.mysql_schema AND t.mysql_table = p_ddl.mysql_table;
                ELSE
                    -- a table created after the copy: every event of it is new, none is in a copy
                    INSERT INTO sch_chameleon.t_tables (source_id, mysql_schema, mysql_table, pg_schema, pg_table, pk_columns, state)
                    VALUES (p_src.source_id, p_ddl.mysql_schema, p_ddl.mysql_table, v_schema, v_table,
                            sch_chameleon.fn_target_primary_key(v_schema, v_table), 'replicating');
                END IF;
            END IF;
        EXCEPTION WHEN others THEN
            GET STACKED DIAGNOSTICS v_err = MESSAGE_TEXT;
            v_err := 'PostgreSQL refused the translation: ' || v_err;
        END;
    END IF;

    INSERT INTO sch_chameleon.t_ddl_events (source_id, mysql_schema, mysql_table, binlog_file, binlog_pos, mysql_ddl, plan, state, error)
    VALUES (p_src.source_id, p_ddl.mysql_schema, p_ddl.mysql_table, p_ddl.tx_file, p_ddl.tx_pos, coalesce(p_ddl.ddl, ''), v_plan,
            CASE WHEN v_err IS NULL THEN 'applied' ELSE 'quarantined' END, v_err)
    RETURNING ddl_id INTO v_id;
    IF v_err IS NULL THEN
        RETURN 'applied';
    END IF;

    -- Quarantine: the table's coordinates become the statement's, so that when it
    -- is resolved its events from the statement on are applied, and the ones
    -- before it (applied already) are not.
    INSERT INTO sch_chameleon.t_tables AS t (source_id, mysql_schema, mysql_table, pg_schema, pg_table, state, copy_file, copy_pos, reason)
    VALUES (p_src.source_id, p_ddl.mysql_schema, p_ddl.mysql_table, v_schema, v_table, 'quarantined', p_ddl.tx_file, p_ddl.tx_pos,
            format('DDL %s quarantined: %s; resolve_ddl(%s, ''<PostgreSQL statement>'') applies it and resumes the table', v_id, v_err, v_id))
    ON CONFLICT (source_id, mysql_schema, mysql_table) DO UPDATE
    SET state = 'quarantined', copy_file = excluded.copy_file, copy_pos = excluded.copy_pos, copy_gtid = NULL,
        decoder_statements = NULL, reason = excluded.reason, updated_at = now();
    INSERT INTO sch_chameleon.t_errors (source_id, mysql_schema, mysql_table, batch_id, event_seq, binlog_file, binlog_pos, statement, message)
    VALUES (p_src.source_id, p_ddl.mysql_schema, p_ddl.mysql_table, p_ddl.batch_id, p_ddl.event_seq, p_ddl.tx_file, p_ddl.tx_pos,
            p_ddl.ddl, format('DDL %s quarantined: %s', v_id, v_err));
    PERFORM pg_notify('chameleon_alerts', json_build_object(
        'source', p_src.source_name, 'table', p_ddl.mysql_schema || '.' || p_ddl.mysql_table,
        'error', format('DDL %s quarantined: %s', v_id, v_err), 'ddl_id', v_id)::text);
    RETURN 'quarantined';
END
$$;
COMMENT ON FUNCTION sch_chameleon.fn_apply_ddl(sch_chameleon.t_sources, sch_chameleon.t_log_events) IS
'Applies a MySQL DDL statement''s translation in its place in the stream, or quarantines its table';
