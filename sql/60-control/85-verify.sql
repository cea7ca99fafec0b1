-- The "db.table" names of a source's replicated tables among p_tables
-- (all of them when null), or an error naming the first that is not one.
CREATE FUNCTION sch_chameleon.fn_replicated_tables(p_src sch_chameleon.t_sources, p_tables text[])
RETURNS text[]
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_name  text;
    v_known text[];
    v_out   text[] := '{}';
BEGIN
    SELECT coalesce(array_agg(t.mysql_schema || '.' || t.mysql_table ORDER BY t.mysql_schema, t.mysql_table), '{}') INTO v_known
    FROM sch_chameleon.t_tables t
    WHERE t.source_id = p_src.source_id AND t.state IN ('copied', 'replicating');
    IF p_tables IS NULL THEN
        RETURN v_known;
    END IF;
    IF cardinality(p_tables) = 0 THEN
        RAISE EXCEPTION 'tables must name at least one table, or be NULL for all of them'
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    FOREACH v_name IN ARRAY p_tables LOOP
        IF v_name IS NULL OR NOT v_name = ANY (v_known) THEN
            RAISE EXCEPTION 'tables: % is not a replicated table of source "%"', coalesce(quote_literal(v_name), 'NULL'), p_src.source_name
                USING ERRCODE = 'invalid_parameter_value',
                      HINT = 'Name tables as "mysql_db.table"; show_tables(source) lists them (state copied or replicating).';
        END IF;
        IF NOT v_name = ANY (v_out) THEN
            v_out := v_out || v_name;
        END IF;
    END LOOP;
    RETURN v_out;
END
$$;
COMMENT ON FUNCTION sch_chameleon.fn_replicated_tables(sch_chameleon.t_sources, text[]) IS
'The replicated tables of a source among the names given (all when null); raises on a name that is not one';

CREATE FUNCTION sch_chameleon.verify(source text, tables text[] DEFAULT NULL)
RETURNS bigint
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_src    sch_chameleon.t_sources := sch_chameleon.fn_source(source, true);
    v_tables text[];
BEGIN
    PERFORM sch_chameleon.fn_require_initialised(v_src);
    v_tables := sch_chameleon.fn_replicated_tables(v_src, tables);
    IF cardinality(v_tables) = 0 THEN
        RAISE EXCEPTION 'source "%" has no replicated table to verify', source
            USING ERRCODE = 'object_not_in_prerequisite_state', HINT = 'Wait for its init_replica to finish.';
    END IF;
    RETURN sch_chameleon.fn_enqueue(v_src, 'verify', jsonb_build_object('tables', to_jsonb(v_tables)));
END
$$;
COMMENT ON FUNCTION sch_chameleon.verify(text, text[]) IS
'Queues an online comparison of MySQL and PostgreSQL, chunk by chunk of each table (all replicated tables when tables is null) while the replica runs; results in show_verify(source). Returns the command id.';

CREATE FUNCTION sch_chameleon.repair(source text, "table" text)
RETURNS bigint
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_src  sch_chameleon.t_sources := sch_chameleon.fn_source(source, true);
    v_name text;
    v_tbl  sch_chameleon.t_tables;
BEGIN
    PERFORM sch_chameleon.fn_require_initialised(v_src);
    v_name := (sch_chameleon.fn_replicated_tables(v_src, ARRAY["table"]))[1];
    SELECT t.* INTO v_tbl FROM sch_chameleon.t_tables t
    WHERE t.source_id = v_src.source_id AND t.mysql_schema || '.' || t.mysql_table = v_name;
    IF cardinality(v_tbl.pk_columns) = 0 THEN
        RAISE EXCEPTION 'table % has no primary key: a range of it cannot be repaired in place', v_name
            USING ERRCODE = 'object_not_in_prerequisite_state',
                  HINT = 'sync_tables(source, ARRAY[table]) copies it again whole.';
    END IF;
    IF NOT EXISTS (
        SELECT 1 FROM sch_chameleon.t_verify_chunks c
        WHERE c.source_id = v_src.source_id AND c.mysql_schema = v_tbl.mysql_schema AND c.mysql_table = v_tbl.mysql_table
          AND c.state = 'differs'
          AND c.command_id = (SELECT max(x.command_id) FROM sch_chameleon.t_verify_chunks x
                              WHERE x.source_id = c.source_id AND x.mysql_schema = c.mysql_schema AND x.mysql_table = c.mysql_table)) THEN
        RAISE EXCEPTION 'table % has no differing range to repair', v_name
            USING ERRCODE = 'object_not_in_prerequisite_state',
                  HINT = 'repair() copies the ranges the last verify() of the table found different: run verify(source, ARRAY[table]) first.';
    END IF;
    RETURN sch_chameleon.fn_enqueue(v_src, 'repair', jsonb_build_object('table', v_name));
END
$$;
COMMENT ON FUNCTION sch_chameleon.repair(text, text) IS
'Queues a new copy of only the ranges of a table that its last verify() found different, while the replica runs; then compares them again. Returns the command id.';
