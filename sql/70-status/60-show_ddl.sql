CREATE FUNCTION sch_chameleon.show_ddl(source text DEFAULT NULL)
RETURNS TABLE (ddl_id bigint, source text, mysql_schema text, mysql_table text, binlog_position text, state text,
               mysql_ddl text, postgres_sql text, notes jsonb, error text, resolved_sql text, resolved_by name,
               created_at timestamptz, resolved_at timestamptz)
LANGUAGE sql STABLE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT e.ddl_id, s.source_name, e.mysql_schema, e.mysql_table,
           sch_chameleon.fn_position_text(e.binlog_file, e.binlog_pos, NULL), e.state, e.mysql_ddl,
           (SELECT string_agg(CASE WHEN jsonb_typeof(st) = 'string' THEN st #>> '{}' ELSE 'drop the primary key' END, E';\n')
              FROM jsonb_array_elements(e.plan -> 'steps') st),
           e.plan -> 'notes', e.error, e.resolved_sql, e.resolved_by, e.created_at, e.resolved_at
    FROM sch_chameleon.t_ddl_events e
    JOIN sch_chameleon.t_sources s ON s.source_id = e.source_id
    WHERE show_ddl.source IS NULL OR s.source_name = show_ddl.source
    ORDER BY e.state <> 'quarantined', e.ddl_id
$$;
COMMENT ON FUNCTION sch_chameleon.show_ddl(text) IS
'The MySQL DDL statements the replica met, quarantined ones first: the translation it ran (format() templates), notes, and errors.';
