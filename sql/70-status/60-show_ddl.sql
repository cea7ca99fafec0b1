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
    -- a source named is one that exists: a typo is an error, not an empty list
    FROM (SELECT CASE WHEN show_ddl.source IS NULL THEN NULL
                      ELSE (sch_chameleon.fn_source(show_ddl.source, false)).source_id END AS id) f
    JOIN sch_chameleon.t_ddl_events e ON f.id IS NULL OR e.source_id = f.id
    JOIN sch_chameleon.t_sources s ON s.source_id = e.source_id
    ORDER BY e.state <> 'quarantined', e.ddl_id
$$;
COMMENT ON FUNCTION sch_chameleon.show_ddl(text) IS
'The MySQL DDL statements the replica met, quarantined ones first: the translation it ran (format() templates), notes, and errors.';
