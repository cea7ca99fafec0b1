CREATE FUNCTION sch_chameleon.show_sources()
RETURNS TABLE (source text, source_id bigint, mysql_url text, schema_mappings jsonb, options jsonb,
               status text, replica_enabled boolean, created_at timestamptz, updated_at timestamptz)
LANGUAGE sql STABLE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT s.source_name, s.source_id, sch_chameleon.fn_mask_url(s.mysql_url), s.schema_mappings, s.options,
           s.status, s.replica_enabled, s.created_at, s.updated_at
    FROM sch_chameleon.t_sources s
    ORDER BY s.source_name
$$;
COMMENT ON FUNCTION sch_chameleon.show_sources() IS 'The sources with their mappings and options (passwords hidden).';
