-- Not SECURITY DEFINER, on purpose: the operator's statement runs with the
-- caller's own privileges (and this function's fixed search_path, so its
-- names must be schema-qualified), in the caller's transaction together
-- with the table's return to the replica. If it fails, nothing changes and
-- the table stays quarantined. Transaction control cannot run inside it.
CREATE FUNCTION sch_chameleon.resolve_ddl(id bigint, postgres_sql text)
RETURNS bigint
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_msg    text;
    v_state  text;
BEGIN
    IF id IS NULL THEN
        RAISE EXCEPTION 'id must not be NULL' USING ERRCODE = 'null_value_not_allowed',
            HINT = 'Pass the ddl_id of a quarantined statement from show_ddl().';
    END IF;
    IF postgres_sql IS NULL THEN
        RAISE EXCEPTION 'postgres_sql must not be NULL' USING ERRCODE = 'null_value_not_allowed',
            HINT = 'Pass the PostgreSQL statement that does what the MySQL one did, or '''' when PostgreSQL needs no change.';
    END IF;
    PERFORM sch_chameleon.fn_require_quarantined(id);
    IF btrim(postgres_sql) <> '' THEN
        BEGIN
            EXECUTE postgres_sql;
        EXCEPTION WHEN others THEN
            GET STACKED DIAGNOSTICS v_state = RETURNED_SQLSTATE, v_msg = MESSAGE_TEXT;
            RAISE EXCEPTION 'resolve_ddl(%): the statement failed: %', id, v_msg
                USING ERRCODE = v_state,
                      HINT = 'Nothing was changed and the table stays quarantined. Names must be schema-qualified; the statement runs as you.';
        END;
    END IF;
    RETURN sch_chameleon.fn_resume_quarantined(id, postgres_sql);
END
$$;
COMMENT ON FUNCTION sch_chameleon.resolve_ddl(bigint, text) IS
'Runs an operator''s PostgreSQL statement in place of a quarantined MySQL DDL statement (show_ddl()), then lets its table replicate again with the events kept since; '''' resumes without a statement. Returns the id of the command row that records it.';
