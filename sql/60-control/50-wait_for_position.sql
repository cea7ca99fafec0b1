CREATE FUNCTION sch_chameleon.wait_for_position(source text, "position" text, timeout interval DEFAULT '1 minute')
RETURNS text
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_src      sch_chameleon.t_sources := sch_chameleon.fn_source(source);
    v_deadline timestamptz := clock_timestamp() + timeout;
    v_file     text;
    v_pos      bigint;
    -- the form of the position: file, mariadb or mysql
    v_kind     text;
    v_sleep    double precision := 0.01;
BEGIN
    IF "position" IS NULL OR timeout IS NULL OR timeout < interval '0' THEN
        RAISE EXCEPTION 'position and a positive timeout are required' USING ERRCODE = 'invalid_parameter_value';
    END IF;
    -- a MySQL GTID (uuid:N) has the shape of file:position too: the UUID decides
    IF sch_chameleon.fn_gtid_flavor("position") = 'mysql' THEN
        -- raises naming the fault of a malformed set
        PERFORM FROM sch_chameleon.fn_gtid_set_intervals("position", 'position');
        v_kind := 'mysql';
    ELSIF "position" ~ '^[^:\s]+:[0-9]+$' THEN
        v_file := split_part("position", ':', 1);
        v_pos  := split_part("position", ':', 2)::bigint;
        v_kind := 'file';
    ELSIF sch_chameleon.fn_gtid_flavor("position") = 'mariadb' THEN
        v_kind := 'mariadb';
    ELSE
        RAISE EXCEPTION 'position "%" is neither file:position nor a MariaDB GTID (domain-server-sequence) nor a MySQL GTID set (uuid:interval)', "position"
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'Take it from MySQL: SHOW MASTER STATUS (File:Position), SELECT @@gtid_binlog_pos (MariaDB) or SELECT @@gtid_executed (MySQL).';
    END IF;
    LOOP
        SELECT * INTO v_src FROM sch_chameleon.t_sources s WHERE s.source_id = v_src.source_id;
        IF v_kind <> 'file' AND btrim(v_src.replay_gtid) <> ''
           AND sch_chameleon.fn_gtid_flavor(v_src.replay_gtid) IS DISTINCT FROM v_kind THEN
            -- one flavour's GTIDs never reach the other's: waiting could only time out
            RAISE EXCEPTION 'position "%" is a % GTID, but source "%" records % GTIDs (replay is at %)', "position",
                CASE v_kind WHEN 'mysql' THEN 'MySQL' ELSE 'MariaDB' END, source,
                CASE v_kind WHEN 'mysql' THEN 'MariaDB' ELSE 'MySQL' END,
                coalesce(sch_chameleon.fn_position_text(v_src.replay_file, v_src.replay_pos, v_src.replay_gtid), v_src.replay_gtid)
                USING ERRCODE = 'invalid_parameter_value',
                      HINT = 'Give a position of the same server type, or file:position.';
        END IF;
        IF (CASE v_kind
              WHEN 'file'    THEN sch_chameleon.fn_position_reached(v_src.replay_file, v_src.replay_pos, v_file, v_pos)
              WHEN 'mariadb' THEN sch_chameleon.fn_gtid_covered(v_src.replay_gtid, "position")
              ELSE sch_chameleon.fn_gtid_set_contains(v_src.replay_gtid, "position")
            END) THEN
            RETURN sch_chameleon.fn_position_text(v_src.replay_file, v_src.replay_pos, v_src.replay_gtid);
        END IF;
        IF v_src.status = 'error' THEN
            RAISE EXCEPTION 'source "%" is in error: %', source, v_src.last_error USING ERRCODE = 'object_not_in_prerequisite_state';
        END IF;
        IF clock_timestamp() >= v_deadline THEN
            RAISE EXCEPTION 'position % of source "%" not applied after % (replay is at %)', "position", source, timeout,
                coalesce(sch_chameleon.fn_position_text(v_src.replay_file, v_src.replay_pos, v_src.replay_gtid), 'nothing yet')
                USING ERRCODE = 'query_canceled';
        END IF;
        PERFORM pg_sleep(v_sleep);
        -- read-your-writes: the position is seen applied within 50 ms; a poll is one primary-key read
        v_sleep := least(v_sleep * 1.5, 0.05);
    END LOOP;
END
$$;
COMMENT ON FUNCTION sch_chameleon.wait_for_position(text, text, interval) IS
'Returns once everything up to a MySQL file:position, a MariaDB GTID position or every transaction of a MySQL GTID set is applied in PostgreSQL (read-your-writes).';
