-- VACUUM cannot run in a function (nor in any transaction): the agent runs it.
CREATE FUNCTION sch_chameleon.run_maintenance(source text, "full" boolean DEFAULT false)
RETURNS bigint
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_src sch_chameleon.t_sources := sch_chameleon.fn_source(source, true);
BEGIN
    IF "full" IS NULL THEN
        RAISE EXCEPTION 'argument "full" must be true or false, not NULL'
            USING ERRCODE = 'null_value_not_allowed',
                  HINT = 'false vacuums the log while the replica goes on; true rewrites it, locking out every source''s replica meanwhile.';
    END IF;
    RETURN sch_chameleon.fn_enqueue(v_src, 'run_maintenance', jsonb_build_object('full', "full"));
END
$$;
COMMENT ON FUNCTION sch_chameleon.run_maintenance(text, boolean) IS
'Prunes the source''s applied batches past batch_retention and vacuums the log and batch tables (VACUUM FULL when full); returns the command id.';
