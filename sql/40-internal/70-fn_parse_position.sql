-- file:position, compared as (file, position); binlog file names of one
-- server share their base name and a zero-padded number, so text order works.
CREATE FUNCTION sch_chameleon.fn_position_reached(p_file text, p_pos bigint, p_target_file text, p_target_pos bigint)
RETURNS boolean
LANGUAGE sql IMMUTABLE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT p_file IS NOT NULL AND (p_file, p_pos) >= (p_target_file, p_target_pos)
$$;
COMMENT ON FUNCTION sch_chameleon.fn_position_reached(text, bigint, text, bigint) IS 'Whether a binlog position is at or after a target';

-- MariaDB GTID positions list one domain-server-seq per domain; a target is
-- covered when every domain it names has reached its sequence number.
CREATE FUNCTION sch_chameleon.fn_gtid_covered(p_current text, p_target text)
RETURNS boolean
LANGUAGE sql IMMUTABLE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT p_current IS NOT NULL AND NOT EXISTS (
        SELECT 1
        FROM regexp_split_to_table(btrim(p_target, E' \t\r\n'), '\s*,\s*') t
        WHERE NOT EXISTS (
            SELECT 1 FROM regexp_split_to_table(btrim(p_current, E' \t\r\n'), '\s*,\s*') c
            WHERE split_part(c, '-', 1) = split_part(t, '-', 1)
              -- an entry of another form (an empty position) must not fail the cast
              AND CASE WHEN c ~ '^[0-9]+-[0-9]+-[0-9]+$' THEN split_part(c, '-', 3)::numeric END
                  >= split_part(t, '-', 3)::numeric))
$$;
COMMENT ON FUNCTION sch_chameleon.fn_gtid_covered(text, text) IS 'Whether a MariaDB GTID position covers another';

-- The reader's committed position: its newest batch, or what the snapshot
-- (or the replayer, as it applies and prunes batches) recorded on the source.
CREATE FUNCTION sch_chameleon.fn_read_position(p_source_id bigint, OUT file text, OUT pos bigint, OUT gtid text)
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT CASE WHEN ahead THEN b.end_file ELSE s.read_file END,
           CASE WHEN ahead THEN b.end_pos ELSE s.read_pos END,
           CASE WHEN ahead THEN coalesce(b.end_gtid, s.read_gtid) ELSE s.read_gtid END
    FROM sch_chameleon.t_sources s
    LEFT JOIN LATERAL (
        SELECT x.end_file, x.end_pos, x.end_gtid FROM sch_chameleon.t_batches x
        WHERE x.source_id = s.source_id ORDER BY x.batch_id DESC LIMIT 1) b ON true
    CROSS JOIN LATERAL (
        SELECT b.end_file IS NOT NULL
               AND NOT sch_chameleon.fn_position_reached(s.read_file, s.read_pos, b.end_file, b.end_pos) AS ahead) a
    WHERE s.source_id = p_source_id
$$;
COMMENT ON FUNCTION sch_chameleon.fn_read_position(bigint) IS 'Where the reader of a source resumes: its newest batch, else the position recorded on the source';
