-- MySQL GTID sets, as @@gtid_executed prints them: 'uuid:1-5:11-18,uuid2:1-27'
-- (case and white space free, a newline after each comma). MySQL 8.3+ tags
-- name the source of the intervals after them ('uuid:1-5:tag_a:1-3'): a
-- (uuid, tag) pair is a source of its own. One row per interval, bounds
-- inclusive, as numeric because GNOs go up to 2^63-1 and hi + 1 must not
-- overflow. p_what names the value in the errors, so that a caller's bad
-- argument is reported under the argument's name.
CREATE FUNCTION sch_chameleon.fn_gtid_set_intervals(p_set text, p_what text DEFAULT 'GTID set')
RETURNS TABLE (sid text, tag text, lo numeric, hi numeric)
LANGUAGE plpgsql IMMUTABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_entry     text;
    v_item      text;
    v_parts     text[];
    v_intervals integer;
    v_open_tag  boolean;
    v_hint      constant text := 'A MySQL GTID set is uuid:N[-M][:N[-M]...][,uuid:...], as SELECT @@gtid_executed prints it.';
BEGIN
    IF p_set IS NULL OR btrim(p_set, E' \t\r\n') = '' THEN
        RETURN;
    END IF;
    FOREACH v_entry IN ARRAY regexp_split_to_array(btrim(p_set, E' \t\r\n'), '\s*,\s*') LOOP
        IF v_entry = '' THEN
            RAISE EXCEPTION '% "%" is not a MySQL GTID set: it has an empty entry', p_what, p_set
                USING ERRCODE = 'invalid_parameter_value', HINT = v_hint;
        END IF;
        v_parts := regexp_split_to_array(v_entry, '\s*:\s*');
        IF v_parts[1] !~* '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$' THEN
            RAISE EXCEPTION '% "%" is not a MySQL GTID set: "%" is not a server UUID', p_what, p_set, v_parts[1]
                USING ERRCODE = 'invalid_parameter_value', HINT = v_hint;
        END IF;
        sid := lower(v_parts[1]);
        tag := '';
        v_intervals := 0;
        v_open_tag := false;
        FOREACH v_item IN ARRAY v_parts[2:] LOOP
            v_item := regexp_replace(v_item, '\s+', '', 'g');
            IF v_item ~* '^[a-z_][a-z0-9_]{0,31}$' THEN
                IF v_open_tag THEN
                    RAISE EXCEPTION '% "%" is not a MySQL GTID set: tag "%" has no interval', p_what, p_set, tag
                        USING ERRCODE = 'invalid_parameter_value', HINT = v_hint;
                END IF;
                -- MySQL folds tags to lower case
                tag := lower(v_item);
                v_open_tag := true;
                CONTINUE;
            END IF;
            IF v_item !~ '^[0-9]{1,19}(-[0-9]{1,19})?$' THEN
                RAISE EXCEPTION '% "%" is not a MySQL GTID set: "%" (in "%") is neither an interval N or N-M nor a tag',
                    p_what, p_set, v_item, v_entry
                    USING ERRCODE = 'invalid_parameter_value', HINT = v_hint;
            END IF;
            lo := split_part(v_item, '-', 1)::numeric;
            hi := coalesce(nullif(split_part(v_item, '-', 2), ''), split_part(v_item, '-', 1))::numeric;
            IF lo < 1 OR hi > 9223372036854775807 THEN
                RAISE EXCEPTION '% "%" is not a MySQL GTID set: interval "%" is outside 1 to 9223372036854775807',
                    p_what, p_set, v_item
                    USING ERRCODE = 'invalid_parameter_value', HINT = v_hint;
            END IF;
            IF hi < lo THEN
                RAISE EXCEPTION '% "%" is not a MySQL GTID set: interval "%" ends before it starts', p_what, p_set, v_item
                    USING ERRCODE = 'invalid_parameter_value', HINT = v_hint;
            END IF;
            v_intervals := v_intervals + 1;
            v_open_tag := false;
            RETURN NEXT;
        END LOOP;
        IF v_open_tag THEN
            RAISE EXCEPTION '% "%" is not a MySQL GTID set: tag "%" has no interval', p_what, p_set, tag
                USING ERRCODE = 'invalid_parameter_value', HINT = v_hint;
        END IF;
        IF v_intervals = 0 THEN
            RAISE EXCEPTION '% "%" is not a MySQL GTID set: "%" names no interval', p_what, p_set, v_entry
                USING ERRCODE = 'invalid_parameter_value', HINT = v_hint;
        END IF;
    END LOOP;
END
$$;
COMMENT ON FUNCTION sch_chameleon.fn_gtid_set_intervals(text, text) IS
'The intervals of a MySQL GTID set, one row per (uuid, tag, interval); raises naming p_what when the set is malformed';

-- Whether every transaction of p_target is in p_current. The current set's
-- intervals are merged into maximal runs first (a set written by hand may
-- list 1-5:6-9, or overlapping ranges), so that each target interval is
-- covered exactly when one run holds it. A lone GTID 'uuid:N' as the current
-- value is what the reader records without gtid_enable: the last transaction
-- applied, read in binlog order, which on the server that assigned its GNOs
-- means uuid:1-N.
CREATE FUNCTION sch_chameleon.fn_gtid_set_contains(p_current text, p_target text)
RETURNS boolean
LANGUAGE sql IMMUTABLE
SET search_path = pg_catalog, pg_temp
AS $$
    WITH cur AS MATERIALIZED (
        SELECT c.sid, c.tag, c.lo, c.hi FROM sch_chameleon.fn_gtid_set_intervals(p_current) c
    ), applied AS (
        SELECT c.sid, c.tag, CASE WHEN lone.is_lone THEN 1 ELSE c.lo END AS lo, c.hi
        FROM cur c CROSS JOIN (SELECT count(*) = 1 AND bool_and(x.lo = x.hi) AS is_lone FROM cur x) lone
    ), edges AS (
        SELECT a.*, max(a.hi) OVER (PARTITION BY a.sid, a.tag ORDER BY a.lo, a.hi
                                    ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS hi_before
        FROM applied a
    ), runs AS (
        SELECT e.sid, e.tag, min(e.lo) AS lo, max(e.hi) AS hi
        FROM (SELECT e.*, count(*) FILTER (WHERE e.hi_before IS NULL OR e.lo > e.hi_before + 1)
                              OVER (PARTITION BY e.sid, e.tag ORDER BY e.lo, e.hi) AS run
              FROM edges e) e
        GROUP BY e.sid, e.tag, e.run
    )
    SELECT p_current IS NOT NULL AND NOT EXISTS (
        SELECT 1 FROM sch_chameleon.fn_gtid_set_intervals(p_target) t
        WHERE NOT EXISTS (
            SELECT 1 FROM runs r
            WHERE r.sid = t.sid AND r.tag = t.tag AND r.lo <= t.lo AND r.hi >= t.hi))
$$;
COMMENT ON FUNCTION sch_chameleon.fn_gtid_set_contains(text, text) IS
'Whether a MySQL GTID set (or the lone last GTID the reader records) contains every transaction of another';

-- Which GTID form a text is in, by its shape alone: a MySQL set starts with
-- a server UUID, a MariaDB position is domain-server-seq, comma separated.
CREATE FUNCTION sch_chameleon.fn_gtid_flavor(p_gtid text)
RETURNS text
LANGUAGE sql IMMUTABLE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT CASE
             WHEN p_gtid ~* '^\s*[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\s*:' THEN 'mysql'
             WHEN p_gtid ~ '^\s*[0-9]+-[0-9]+-[0-9]+(\s*,\s*[0-9]+-[0-9]+-[0-9]+)*\s*$' THEN 'mariadb'
           END
$$;
COMMENT ON FUNCTION sch_chameleon.fn_gtid_flavor(text) IS
'mysql for a MySQL GTID set, mariadb for a MariaDB GTID position, NULL for anything else (by shape, not validated)';
