-- The other half of resolve_ddl(), run as the catalogue's owner once the
-- operator's statement (if any) ran in the caller's session: the
-- quarantined statement is marked resolved, its table replicates again,
-- and the events kept back since the statement are applied, all in the
-- caller's transaction. Holds the source's replay off meanwhile (see
-- fn_replay_next). Returns the command row that records the resolution.
CREATE FUNCTION sch_chameleon.fn_resume_quarantined(p_ddl_id bigint, p_sql text)
RETURNS bigint
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_ev  sch_chameleon.t_ddl_events;
    v_src sch_chameleon.t_sources;
    v_tbl sch_chameleon.t_tables;
    v_res record;
    v_id  bigint;
BEGIN
    SELECT e.* INTO v_ev FROM sch_chameleon.t_ddl_events e WHERE e.ddl_id = p_ddl_id FOR UPDATE;
    PERFORM sch_chameleon.fn_check_quarantined(v_ev, p_ddl_id);
    PERFORM pg_advisory_xact_lock(hashtext('sch_chameleon.replay'), v_ev.source_id::integer);
    SELECT s.* INTO v_src FROM sch_chameleon.t_sources s WHERE s.source_id = v_ev.source_id;
    SELECT t.* INTO v_tbl FROM sch_chameleon.t_tables t
    WHERE t.source_id = v_ev.source_id AND t.mysql_schema = v_ev.mysql_schema AND t.mysql_table = v_ev.mysql_table
    FOR UPDATE;
    UPDATE sch_chameleon.t_ddl_events e
    SET state = 'resolved', resolved_sql = p_sql, resolved_by = session_user, resolved_at = now()
    WHERE e.ddl_id = p_ddl_id;
    IF to_regclass(format('%I.%I', v_tbl.pg_schema, v_tbl.pg_table)) IS NULL THEN
        -- the statement dropped the table, or it never existed here (a CREATE resolved with nothing)
        DELETE FROM sch_chameleon.t_tables t
        WHERE t.source_id = v_tbl.source_id AND t.mysql_schema = v_tbl.mysql_schema AND t.mysql_table = v_tbl.mysql_table;
        DELETE FROM sch_chameleon.t_log_events l
        USING sch_chameleon.t_batches b
        WHERE b.batch_id = l.batch_id AND b.source_id = v_tbl.source_id AND b.applied_at IS NOT NULL
          AND l.mysql_schema = v_tbl.mysql_schema AND l.mysql_table = v_tbl.mysql_table;
        v_res := ROW(0, 0::bigint, 0::bigint);
    ELSE
        UPDATE sch_chameleon.t_tables t
        SET state = 'replicating', reason = NULL, decoder_statements = NULL, updated_at = now(),
            pk_columns = sch_chameleon.fn_target_primary_key(t.pg_schema, t.pg_table)
        WHERE t.source_id = v_tbl.source_id AND t.mysql_schema = v_tbl.mysql_schema AND t.mysql_table = v_tbl.mysql_table;
        SELECT * INTO v_res FROM sch_chameleon.fn_replay_retained(v_tbl.source_id, v_tbl.mysql_schema, v_tbl.mysql_table);
    END IF;
    INSERT INTO sch_chameleon.t_commands (source_id, source_name, command, args, state, progress, started_at, finished_at)
    VALUES (v_src.source_id, v_src.source_name, 'resolve_ddl', jsonb_build_object('ddl_id', p_ddl_id, 'postgres_sql', p_sql), 'done',
            jsonb_build_object('table', v_tbl.mysql_schema || '.' || v_tbl.mysql_table, 'batches', v_res.batches,
                               'applied', v_res.applied, 'skipped', v_res.skipped,
                               'state', (SELECT t.state FROM sch_chameleon.t_tables t
                                          WHERE t.source_id = v_tbl.source_id AND t.mysql_schema = v_tbl.mysql_schema
                                            AND t.mysql_table = v_tbl.mysql_table)),
            now(), now())
    RETURNING command_id INTO v_id;
    RETURN v_id;
END
$$;
COMMENT ON FUNCTION sch_chameleon.fn_resume_quarantined(bigint, text) IS
'resolve_ddl''s catalogue part: marks the statement resolved and applies the events its table kept back';

-- Raises unless the DDL event exists and still holds its table in quarantine.
CREATE FUNCTION sch_chameleon.fn_check_quarantined(p_ev sch_chameleon.t_ddl_events, p_ddl_id bigint)
RETURNS void
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF p_ev.ddl_id IS NULL THEN
        RAISE EXCEPTION 'DDL event % does not exist', p_ddl_id
            USING ERRCODE = 'undefined_object', HINT = 'show_ddl() lists the DDL statements the replica met, quarantined ones first.';
    END IF;
    IF p_ev.state <> 'quarantined' THEN
        RAISE EXCEPTION 'DDL event % is %, not quarantined', p_ddl_id, p_ev.state
            USING ERRCODE = 'object_not_in_prerequisite_state';
    END IF;
    IF NOT EXISTS (SELECT 1 FROM sch_chameleon.t_tables t
                   WHERE t.source_id = p_ev.source_id AND t.mysql_schema = p_ev.mysql_schema AND t.mysql_table = p_ev.mysql_table
                     AND t.state = 'quarantined' AND (t.copy_file, t.copy_pos) = (p_ev.binlog_file, p_ev.binlog_pos)) THEN
        RAISE EXCEPTION 'DDL event % no longer holds %.%: the table was copied again or dropped since', p_ddl_id, p_ev.mysql_schema, p_ev.mysql_table
            USING ERRCODE = 'object_not_in_prerequisite_state';
    END IF;
END
$$;
COMMENT ON FUNCTION sch_chameleon.fn_check_quarantined(sch_chameleon.t_ddl_events, bigint) IS 'Raises unless a DDL event holds its table in quarantine';

-- The validation of resolve_ddl, as the catalogue's owner (the caller cannot read the catalogue).
CREATE FUNCTION sch_chameleon.fn_require_quarantined(p_ddl_id bigint)
RETURNS void
LANGUAGE plpgsql STABLE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_ev sch_chameleon.t_ddl_events;
BEGIN
    SELECT e.* INTO v_ev FROM sch_chameleon.t_ddl_events e WHERE e.ddl_id = p_ddl_id;
    PERFORM sch_chameleon.fn_check_quarantined(v_ev, p_ddl_id);
END
$$;
COMMENT ON FUNCTION sch_chameleon.fn_require_quarantined(bigint) IS 'resolve_ddl''s argument check: raises unless the DDL event is quarantined';
