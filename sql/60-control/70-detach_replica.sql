CREATE FUNCTION sch_chameleon.detach_replica(source text)
RETURNS bigint
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_src sch_chameleon.t_sources := sch_chameleon.fn_source(source, true);
BEGIN
    PERFORM sch_chameleon.fn_require_initialised(v_src);
    IF v_src.read_file IS NULL THEN
        RAISE EXCEPTION 'source "%" has no copied tables to detach yet', source
            USING ERRCODE = 'object_not_in_prerequisite_state',
                  HINT = 'Wait for its init_replica to finish.';
    END IF;
    -- recorded at once, as stop_replica does: an agent that starts meanwhile does not resume it
    UPDATE sch_chameleon.t_sources s SET replica_enabled = false, updated_at = now() WHERE s.source_id = v_src.source_id;
    RETURN sch_chameleon.fn_enqueue(v_src, 'detach_replica');
END
$$;
COMMENT ON FUNCTION sch_chameleon.detach_replica(text) IS
'Ends replication for a cut-over: the replica stops once what it read is applied, sequences move past the data, MySQL''s foreign keys are created (NOT VALID, then validated), and the tables stay as a standalone database. Returns the command id.';
