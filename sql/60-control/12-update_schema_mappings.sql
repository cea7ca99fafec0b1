CREATE FUNCTION sch_chameleon.update_schema_mappings(source text, schema_mappings jsonb)
RETURNS bigint
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_src sch_chameleon.t_sources := sch_chameleon.fn_source(source, true);
BEGIN
    PERFORM sch_chameleon.fn_require_idle(v_src, 'change the schema mappings of');
    PERFORM sch_chameleon.fn_validate_mappings(schema_mappings, v_src.source_id);
    -- tables of a database that is no longer mapped leave the catalogue;
    -- tables of a renamed target schema follow it
    DELETE FROM sch_chameleon.t_tables t
    WHERE t.source_id = v_src.source_id AND NOT schema_mappings ? t.mysql_schema;
    UPDATE sch_chameleon.t_tables t SET pg_schema = schema_mappings ->> t.mysql_schema, updated_at = now()
    WHERE t.source_id = v_src.source_id AND t.pg_schema IS DISTINCT FROM schema_mappings ->> t.mysql_schema;
    UPDATE sch_chameleon.t_sources s SET schema_mappings = update_schema_mappings.schema_mappings, updated_at = now()
    WHERE s.source_id = v_src.source_id;
    RETURN sch_chameleon.fn_record_command(v_src.source_id, v_src.source_name, 'update_schema_mappings',
        jsonb_build_object('schema_mappings', schema_mappings));
END
$$;
COMMENT ON FUNCTION sch_chameleon.update_schema_mappings(text, jsonb) IS
'Replaces the schema mappings of a stopped source; renamed PostgreSQL schemas must then be renamed or re-copied (init_replica).';
