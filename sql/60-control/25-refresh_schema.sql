CREATE FUNCTION sch_chameleon.refresh_schema(source text, mysql_schema text)
RETURNS bigint
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_src sch_chameleon.t_sources := sch_chameleon.fn_source(source, true);
BEGIN
    IF mysql_schema IS NULL OR NOT v_src.schema_mappings ? mysql_schema THEN
        RAISE EXCEPTION 'MySQL database % is not mapped by source "%"', coalesce(quote_ident(mysql_schema), 'NULL'), source
            USING ERRCODE = 'invalid_parameter_value',
                  DETAIL = 'Mapped databases: ' || (SELECT string_agg(quote_ident(k), ', ' ORDER BY k)
                                                     FROM jsonb_object_keys(v_src.schema_mappings) k) || '.',
                  HINT = 'Name a mapped database, or map it first with update_schema_mappings().';
    END IF;
    -- the re-copied tables join a replica that already has a position; a
    -- source never initialised has none (init_replica queued first is fine)
    PERFORM sch_chameleon.fn_require_initialised(v_src);
    RETURN sch_chameleon.fn_enqueue(v_src, 'refresh_schema', jsonb_build_object('mysql_schema', mysql_schema));
END
$$;
COMMENT ON FUNCTION sch_chameleon.refresh_schema(text, text) IS
'Queues a new copy of every table of one mapped MySQL database, while the replica keeps running; each table then replicates from its new copy. Returns the command id.';
