CREATE FUNCTION sch_chameleon.fn_default_options()
RETURNS jsonb
LANGUAGE sql IMMUTABLE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT jsonb_build_object(
        'limit_tables',         '[]'::jsonb,
        'skip_tables',          '[]'::jsonb,
        'grant_select_to',      '[]'::jsonb,
        'lock_timeout',         '120s',
        -- null: 1000 + the source id, so that two sources on one server never share a replica id
        'my_server_id',         NULL::int,
        'replica_batch_size',   25000,
        'replay_max_rows',      25000,
        'batch_retention',      '1 day',
        'copy_max_memory',      '300M',
        -- "auto": the agent's CPU cores, from 1 to 8 (the agent encodes the COPY text of every job)
        'copy_jobs',            'auto',
        'copy_range_rows',      500000,
        'sleep_loop',           1,
        'on_error_replay',      'continue',
        'on_error_read',        'continue',
        'auto_maintenance',     'disabled',
        'gtid_enable',          false,
        'skip_events',          '{"insert": [], "update": [], "delete": []}'::jsonb,
        'keep_existing_schema', false,
        'net_read_timeout',     600,
        'type_override',        '{}'::jsonb,
        'fillfactor',           '{}'::jsonb
    )
$$;
COMMENT ON FUNCTION sch_chameleon.fn_default_options() IS 'Source options and their defaults (pg_chameleon names)';
