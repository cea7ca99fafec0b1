CREATE FUNCTION sch_chameleon.cutover(source text, timeout interval)
RETURNS bigint
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_src sch_chameleon.t_sources := sch_chameleon.fn_source(source, true);
BEGIN
    IF timeout IS NULL OR timeout <= interval '0' THEN
        RAISE EXCEPTION 'cutover needs a positive timeout, got %', coalesce(timeout::text, 'NULL')
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'How long to wait for the replica to apply everything MySQL has, e.g. ''5 minutes''.';
    END IF;
    PERFORM sch_chameleon.fn_require_initialised(v_src);
    IF v_src.read_file IS NULL THEN
        RAISE EXCEPTION 'source "%" has no copied tables to cut over to yet', source
            USING ERRCODE = 'object_not_in_prerequisite_state',
                  HINT = 'Wait for its init_replica to finish.';
    END IF;
    RETURN sch_chameleon.fn_enqueue(v_src, 'cutover', jsonb_build_object('timeout', timeout::text));
END
$$;
COMMENT ON FUNCTION sch_chameleon.cutover(text, interval) IS
'Waits (up to timeout) until the replica has applied everything MySQL had when the command started, then detaches the source (detach_replica). Returns the command id.';
