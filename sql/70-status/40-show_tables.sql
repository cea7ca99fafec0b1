CREATE FUNCTION sch_chameleon.show_tables(source text)
RETURNS TABLE (mysql_schema text, mysql_table text, pg_schema text, pg_table text, state text,
               primary_key text[], rows_copied bigint, rows_estimate bigint, bytes_copied bigint,
               copy_position text, copy_started_at timestamptz, copy_finished_at timestamptz,
               events_applied bigint, reason text)
LANGUAGE plpgsql STABLE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    -- looked up before the scan: in a WHERE clause it would never run while
    -- t_tables is empty, and an unknown source would show as no tables
    v_source_id bigint := (sch_chameleon.fn_source(show_tables.source)).source_id;
BEGIN
    RETURN QUERY
    SELECT t.mysql_schema, t.mysql_table, t.pg_schema, t.pg_table, t.state, t.pk_columns,
           t.rows_copied, t.rows_estimate, t.bytes_copied,
           sch_chameleon.fn_position_text(t.copy_file, t.copy_pos, t.copy_gtid),
           t.copy_started_at, t.copy_finished_at, t.events_applied, t.reason
    FROM sch_chameleon.t_tables t
    WHERE t.source_id = v_source_id
    ORDER BY t.mysql_schema, t.mysql_table;
END
$$;
COMMENT ON FUNCTION sch_chameleon.show_tables(text) IS
'Per-table state of a source: target, key, rows and bytes copied, estimate, copy coordinates, events applied.';
