CREATE FUNCTION sch_chameleon.drop_source(source text)
RETURNS bigint
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_src sch_chameleon.t_sources := sch_chameleon.fn_source(source, true);
    v_id  bigint;
BEGIN
    -- a replica still running in an agent notices the source is gone at its
    -- next batch (its lease row disappears with it) and stops
    UPDATE sch_chameleon.t_commands c SET state = 'cancelled', finished_at = now(), error = 'source dropped'
    WHERE c.source_id = v_src.source_id AND c.state = 'pending';
    UPDATE sch_chameleon.t_commands c SET cancel_requested = true
    WHERE c.source_id = v_src.source_id AND c.state = 'running';
    v_id := sch_chameleon.fn_record_command(v_src.source_id, v_src.source_name, 'drop_source');
    DELETE FROM sch_chameleon.t_log_events l USING sch_chameleon.t_batches b
    WHERE l.batch_id = b.batch_id AND b.source_id = v_src.source_id;
    DELETE FROM sch_chameleon.t_sources s WHERE s.source_id = v_src.source_id;
    PERFORM pg_notify('chameleon_commands', json_build_object('command_id', v_id, 'source', v_src.source_name)::text);
    RETURN v_id;
END
$$;
COMMENT ON FUNCTION sch_chameleon.drop_source(text) IS
'Removes a source and its catalogue rows; the replicated tables stay.';
