-- Control calls that change the catalogue at once still leave a row in the
-- command table, so show_commands() is the whole audit trail.
CREATE FUNCTION sch_chameleon.fn_record_command(p_source_id bigint, p_source_name text, p_command text, p_args jsonb DEFAULT '{}')
RETURNS bigint
LANGUAGE sql
SET search_path = pg_catalog, pg_temp
AS $$
    INSERT INTO sch_chameleon.t_commands (source_id, source_name, command, args, state, started_at, finished_at)
    VALUES (p_source_id, p_source_name, p_command, coalesce(p_args, '{}'), 'done', pg_catalog.now(), pg_catalog.now())
    RETURNING command_id
$$;
COMMENT ON FUNCTION sch_chameleon.fn_record_command(bigint, text, text, jsonb) IS 'Records a control call that completed inside the calling transaction';

CREATE FUNCTION sch_chameleon.fn_live_owner(p_source_id bigint)
RETURNS text
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT l.agent_id FROM sch_chameleon.t_source_leases l
    WHERE l.source_id = p_source_id AND l.expires_at > pg_catalog.now()
$$;
COMMENT ON FUNCTION sch_chameleon.fn_live_owner(bigint) IS 'The agent holding an unexpired lease on the source, if any';

CREATE FUNCTION sch_chameleon.fn_require_idle(p_source sch_chameleon.t_sources, p_action text)
RETURNS void
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_cmd record;
BEGIN
    IF p_source.replica_enabled THEN
        RAISE EXCEPTION 'cannot % source "%" while its replica is running', p_action, p_source.source_name
            USING ERRCODE = 'object_not_in_prerequisite_state',
                  HINT = format('Run SELECT sch_chameleon.stop_replica(%L) first.', p_source.source_name);
    END IF;
    SELECT c.command_id, c.command INTO v_cmd FROM sch_chameleon.t_commands c
    WHERE c.source_id = p_source.source_id AND c.state = 'running' LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION 'cannot % source "%" while command % (%) runs', p_action, p_source.source_name, v_cmd.command_id, v_cmd.command
            USING ERRCODE = 'object_not_in_prerequisite_state',
                  HINT = 'Wait for it with wait_command() or stop it with cancel_command().';
    END IF;
END
$$;
COMMENT ON FUNCTION sch_chameleon.fn_require_idle(sch_chameleon.t_sources, text) IS 'Raises unless the source is neither replicating nor running a command';

-- A source has a position once a snapshot ran; an init_replica still in the
-- queue will give it one before the next command of the source runs.
-- A detached source's tables are a standalone database: nothing copies into them or replicates them again.
CREATE FUNCTION sch_chameleon.fn_require_attached(p_source sch_chameleon.t_sources)
RETURNS void
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF p_source.status = 'detached' THEN
        RAISE EXCEPTION 'source "%" was detached: its tables are a standalone database now', p_source.source_name
            USING ERRCODE = 'object_not_in_prerequisite_state',
                  HINT = 'add_source() registers a source anew, into other schemas.';
    END IF;
END
$$;
COMMENT ON FUNCTION sch_chameleon.fn_require_attached(sch_chameleon.t_sources) IS 'Raises if the source was detached';

CREATE FUNCTION sch_chameleon.fn_require_initialised(p_source sch_chameleon.t_sources)
RETURNS void
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    PERFORM sch_chameleon.fn_require_attached(p_source);
    IF p_source.read_file IS NULL AND NOT EXISTS (
        SELECT 1 FROM sch_chameleon.t_commands c
        WHERE c.source_id = p_source.source_id AND c.command = 'init_replica' AND c.state IN ('pending', 'running')) THEN
        RAISE EXCEPTION 'source "%" has not been initialised', p_source.source_name
            USING ERRCODE = 'object_not_in_prerequisite_state',
                  HINT = format('Run SELECT sch_chameleon.init_replica(%L) first.', p_source.source_name);
    END IF;
END
$$;
COMMENT ON FUNCTION sch_chameleon.fn_require_initialised(sch_chameleon.t_sources) IS 'Raises unless the source was initialised or has an init_replica queued';
