CREATE FUNCTION sch_chameleon.start_replica(source text)
RETURNS bigint
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_src sch_chameleon.t_sources := sch_chameleon.fn_source(source, true);
BEGIN
    IF v_src.status = 'error' THEN
        RAISE EXCEPTION 'source "%" is in error: %', source, coalesce(v_src.last_error, 'see show_errors()')
            USING ERRCODE = 'object_not_in_prerequisite_state',
                  HINT = format('Fix the cause, then SELECT sch_chameleon.enable_replica(%L).', source);
    END IF;
    PERFORM sch_chameleon.fn_require_initialised(v_src);
    UPDATE sch_chameleon.t_sources s SET replica_enabled = true, updated_at = now() WHERE s.source_id = v_src.source_id;
    RETURN sch_chameleon.fn_enqueue(v_src, 'start_replica');
END
$$;
COMMENT ON FUNCTION sch_chameleon.start_replica(text) IS
'Starts the continuous replica of an initialised source; its command is done once the replica runs.';

CREATE FUNCTION sch_chameleon.stop_replica(source text)
RETURNS bigint
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_src sch_chameleon.t_sources := sch_chameleon.fn_source(source, true);
BEGIN
    -- recorded at once, so an agent that starts later does not resume it
    UPDATE sch_chameleon.t_sources s SET replica_enabled = false, updated_at = now() WHERE s.source_id = v_src.source_id;
    IF sch_chameleon.fn_live_owner(v_src.source_id) IS NULL
       AND NOT EXISTS (SELECT 1 FROM sch_chameleon.t_commands c
                       WHERE c.source_id = v_src.source_id AND c.state IN ('pending', 'running')) THEN
        -- no agent holds the source: there is nothing to wait for
        IF v_src.status IN ('running', 'starting') THEN
            UPDATE sch_chameleon.t_sources s SET status = 'stopped', updated_at = now() WHERE s.source_id = v_src.source_id;
        END IF;
        RETURN sch_chameleon.fn_record_command(v_src.source_id, v_src.source_name, 'stop_replica');
    END IF;
    RETURN sch_chameleon.fn_enqueue(v_src, 'stop_replica');
END
$$;
COMMENT ON FUNCTION sch_chameleon.stop_replica(text) IS
'Stops the continuous replica of a source after the batch in flight; returns the command id.';

CREATE FUNCTION sch_chameleon.stop_all_replicas()
RETURNS SETOF bigint
LANGUAGE sql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT sch_chameleon.stop_replica(s.source_name)
    FROM sch_chameleon.t_sources s
    WHERE s.replica_enabled OR s.status IN ('running', 'starting')
    ORDER BY s.source_name
$$;
COMMENT ON FUNCTION sch_chameleon.stop_all_replicas() IS 'Stops every running replica; returns one command id per source.';

CREATE FUNCTION sch_chameleon.enable_replica(source text)
RETURNS bigint
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_src sch_chameleon.t_sources := sch_chameleon.fn_source(source, true);
BEGIN
    IF v_src.status <> 'error' THEN
        RAISE EXCEPTION 'source "%" is not in error (status %)', source, v_src.status
            USING ERRCODE = 'object_not_in_prerequisite_state';
    END IF;
    UPDATE sch_chameleon.t_sources s
    SET status = CASE WHEN s.read_file IS NULL THEN 'ready' ELSE 'stopped' END,
        last_error = NULL, replica_enabled = false, updated_at = now()
    WHERE s.source_id = v_src.source_id;
    RETURN sch_chameleon.fn_record_command(v_src.source_id, v_src.source_name, 'enable_replica');
END
$$;
COMMENT ON FUNCTION sch_chameleon.enable_replica(text) IS
'Clears the error state of a source so that start_replica() may run again.';
