CREATE FUNCTION sch_chameleon.alter_source(source text, options jsonb)
RETURNS bigint
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_src sch_chameleon.t_sources := sch_chameleon.fn_source(source, true);
    v_new jsonb;
BEGIN
    PERFORM sch_chameleon.fn_require_idle(v_src, 'alter');
    v_new := sch_chameleon.fn_validate_options(options, v_src.options);
    UPDATE sch_chameleon.t_sources s SET options = v_new, updated_at = now() WHERE s.source_id = v_src.source_id;
    RETURN sch_chameleon.fn_record_command(v_src.source_id, v_src.source_name, 'alter_source', jsonb_build_object('options', options));
END
$$;
COMMENT ON FUNCTION sch_chameleon.alter_source(text, jsonb) IS
'Changes options of a stopped source; the given keys replace the current values.';
