CREATE FUNCTION sch_chameleon.show_verify(source text)
RETURNS TABLE (mysql_schema text, mysql_table text, command_id bigint, command text, state text,
               chunks integer, chunks_differing integer, mysql_rows bigint, pg_rows bigint, rows_differing bigint,
               differing_ranges jsonb, checked_at timestamptz)
LANGUAGE plpgsql STABLE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_src sch_chameleon.t_sources := sch_chameleon.fn_source(source, false);
BEGIN
    RETURN QUERY
    WITH latest AS (
        SELECT c.mysql_schema, c.mysql_table, max(c.command_id) AS command_id
        FROM sch_chameleon.t_verify_chunks c WHERE c.source_id = v_src.source_id
        GROUP BY c.mysql_schema, c.mysql_table
    )
    SELECT l.mysql_schema::text, l.mysql_table::text, l.command_id, cmd.command,
           CASE WHEN bool_or(c.state = 'error') THEN 'error'
                WHEN bool_or(c.state = 'differs') THEN 'differs'
                WHEN bool_or(c.state = 'repaired') THEN 'repaired'
                ELSE 'same' END,
           count(*)::integer, (count(*) FILTER (WHERE c.state IN ('differs', 'error')))::integer,
           sum(c.mysql_rows)::bigint, sum(c.pg_rows)::bigint, sum(c.differing)::bigint,
           coalesce(jsonb_agg(jsonb_build_object('chunk', c.chunk_no, 'key', c.key_column, 'from', c.range_from, 'to', c.range_to,
                                                 'differing', c.differing, 'keys', c.differing_keys, 'state', c.state, 'error', c.error)
                              ORDER BY c.chunk_no) FILTER (WHERE c.state <> 'same'), '[]'),
           max(c.checked_at)
    FROM latest l
    JOIN sch_chameleon.t_verify_chunks c
      ON c.command_id = l.command_id AND c.mysql_schema = l.mysql_schema AND c.mysql_table = l.mysql_table
    LEFT JOIN sch_chameleon.t_commands cmd ON cmd.command_id = l.command_id
    GROUP BY l.mysql_schema, l.mysql_table, l.command_id, cmd.command
    ORDER BY l.mysql_schema, l.mysql_table;
END
$$;
COMMENT ON FUNCTION sch_chameleon.show_verify(text) IS
'Per table of a source, the last verify() or repair(): chunks compared, rows on each side, the ranges that differ with their first differing keys.';
