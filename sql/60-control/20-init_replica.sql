CREATE FUNCTION sch_chameleon.init_replica(source text)
RETURNS bigint
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_src sch_chameleon.t_sources := sch_chameleon.fn_source(source, true);
BEGIN
    PERFORM sch_chameleon.fn_require_attached(v_src);
    IF v_src.replica_enabled THEN
        RAISE EXCEPTION 'cannot init_replica source "%" while its replica is running', source
            USING ERRCODE = 'object_not_in_prerequisite_state',
                  HINT = format('Run SELECT sch_chameleon.stop_replica(%L) first.', source);
    END IF;
    RETURN sch_chameleon.fn_enqueue(v_src, 'init_replica');
END
$$;
COMMENT ON FUNCTION sch_chameleon.init_replica(text) IS
'Queues a snapshot copy of every mapped schema; the source is then ready to replicate. Returns the command id.';

CREATE FUNCTION sch_chameleon.copy_schema(source text)
RETURNS bigint
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_src sch_chameleon.t_sources := sch_chameleon.fn_source(source, true);
BEGIN
    PERFORM sch_chameleon.fn_require_attached(v_src);
    IF v_src.replica_enabled THEN
        RAISE EXCEPTION 'cannot copy_schema source "%" while its replica is running', source
            USING ERRCODE = 'object_not_in_prerequisite_state',
                  HINT = format('Run SELECT sch_chameleon.stop_replica(%L) first.', source);
    END IF;
    -- A source with copied tables has a replica position that matches their
    -- rows: empty tables (or the old rows under new copy coordinates) would
    -- leave the replica silently short of data.
    IF v_src.read_file IS NOT NULL THEN
        RAISE EXCEPTION 'cannot copy_schema source "%": its tables hold copied data (status %)', source, v_src.status
            USING ERRCODE = 'object_not_in_prerequisite_state',
                  DETAIL = 'copy_schema creates empty tables; on a source already copied it would replace or keep rows that no longer match its replica position.',
                  HINT = format('To copy the tables again with their data, run SELECT sch_chameleon.init_replica(%L); for some tables, sync_tables.', source);
    END IF;
    RETURN sch_chameleon.fn_enqueue(v_src, 'copy_schema');
END
$$;
COMMENT ON FUNCTION sch_chameleon.copy_schema(text) IS
'Queues the creation of the tables, keys and indexes of every mapped schema, without data. Returns the command id.';
