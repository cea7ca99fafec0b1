CREATE FUNCTION sch_chameleon.show_errors()
RETURNS TABLE (error_id bigint, source text, mysql_schema text, mysql_table text, binlog_position text,
               statement text, row_image jsonb, sqlstate text, message text, created_at timestamptz)
LANGUAGE sql STABLE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT e.error_id, s.source_name, e.mysql_schema, e.mysql_table,
           sch_chameleon.fn_position_text(e.binlog_file, e.binlog_pos, NULL),
           e.statement, e.row_image, e.sqlstate, e.message, e.created_at
    FROM sch_chameleon.t_errors e
    LEFT JOIN sch_chameleon.t_sources s ON s.source_id = e.source_id
    ORDER BY e.error_id
$$;
COMMENT ON FUNCTION sch_chameleon.show_errors() IS 'Replay errors per table, with the statement and the row that failed.';

CREATE FUNCTION sch_chameleon.show_discarded_rows()
RETURNS TABLE (discarded_id bigint, source text, mysql_schema text, mysql_table text, origin text,
               row_image jsonb, reason text, created_at timestamptz)
LANGUAGE sql STABLE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT d.discarded_id, s.source_name, d.mysql_schema, d.mysql_table, d.origin, d.row_image, d.reason, d.created_at
    FROM sch_chameleon.t_discarded_rows d
    LEFT JOIN sch_chameleon.t_sources s ON s.source_id = d.source_id
    ORDER BY d.discarded_id
$$;
COMMENT ON FUNCTION sch_chameleon.show_discarded_rows() IS 'Source rows PostgreSQL could not hold, with the reason.';
