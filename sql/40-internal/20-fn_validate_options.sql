-- Raises on the first bad option, naming it; returns the options merged over the defaults.
CREATE FUNCTION sch_chameleon.fn_validate_options(options jsonb, base jsonb DEFAULT NULL)
RETURNS jsonb
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_defaults jsonb := sch_chameleon.fn_default_options();
    v_key      text;
    v_value    jsonb;
    v_item     jsonb;
    v_kind     text;
BEGIN
    IF options IS NULL OR jsonb_typeof(options) <> 'object' THEN
        RAISE EXCEPTION 'options must be a json object, got %', coalesce(jsonb_typeof(options), 'null')
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'Pass options as a json object such as ''{"replica_batch_size": 5000}''.';
    END IF;

    FOR v_key, v_value IN SELECT key, value FROM jsonb_each(options) LOOP
        IF NOT v_defaults ? v_key THEN
            RAISE EXCEPTION 'unknown option "%"', v_key
                USING ERRCODE = 'invalid_parameter_value',
                      HINT = 'Known options: ' || (SELECT string_agg(k, ', ' ORDER BY k) FROM jsonb_object_keys(v_defaults) k);
        END IF;

        CASE
        WHEN v_key IN ('limit_tables', 'skip_tables') THEN
            IF jsonb_typeof(v_value) <> 'array' THEN
                RAISE EXCEPTION 'option "%" must be an array of "db.table" names', v_key
                    USING ERRCODE = 'invalid_parameter_value';
            END IF;
            FOR v_item IN SELECT value FROM jsonb_array_elements(v_value) LOOP
                IF jsonb_typeof(v_item) <> 'string' OR (v_item #>> '{}') !~ '^[^.]+\.[^.]+$' THEN
                    RAISE EXCEPTION 'option "%": % is not a "db.table" name', v_key, v_item
                        USING ERRCODE = 'invalid_parameter_value';
                END IF;
            END LOOP;
        WHEN v_key = 'grant_select_to' THEN
            IF jsonb_typeof(v_value) <> 'array' THEN
                RAISE EXCEPTION 'option "grant_select_to" must be an array of role names'
                    USING ERRCODE = 'invalid_parameter_value';
            END IF;
            FOR v_item IN SELECT value FROM jsonb_array_elements(v_value) LOOP
                IF jsonb_typeof(v_item) <> 'string'
                   OR NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = v_item #>> '{}') THEN
                    RAISE EXCEPTION 'option "grant_select_to": role % does not exist', v_item
                        USING ERRCODE = 'undefined_object';
                END IF;
            END LOOP;
        WHEN v_key IN ('lock_timeout', 'batch_retention') THEN
            BEGIN
                PERFORM (v_value #>> '{}')::interval;
            EXCEPTION WHEN others THEN
                RAISE EXCEPTION 'option "%": % is not an interval', v_key, v_value
                    USING ERRCODE = 'invalid_parameter_value', HINT = 'Use a value such as "120s" or "1 day".';
            END;
            IF jsonb_typeof(v_value) <> 'string' OR (v_value #>> '{}')::interval < interval '0' THEN
                RAISE EXCEPTION 'option "%": % must be a positive interval string', v_key, v_value
                    USING ERRCODE = 'invalid_parameter_value';
            END IF;
        WHEN v_key = 'auto_maintenance' THEN
            IF jsonb_typeof(v_value) <> 'string' THEN
                RAISE EXCEPTION 'option "auto_maintenance" must be "disabled" or an interval string'
                    USING ERRCODE = 'invalid_parameter_value';
            END IF;
            IF v_value #>> '{}' <> 'disabled' THEN
                BEGIN
                    PERFORM (v_value #>> '{}')::interval;
                EXCEPTION WHEN others THEN
                    RAISE EXCEPTION 'option "auto_maintenance": % is neither "disabled" nor an interval', v_value
                        USING ERRCODE = 'invalid_parameter_value';
                END;
            END IF;
        WHEN v_key = 'my_server_id' AND jsonb_typeof(v_value) = 'null' THEN
            NULL;  -- automatic: 1000 + the source id
        WHEN v_key = 'copy_jobs' THEN
            -- each job holds a MySQL session and a connection of the agent's pool of 20 (two for an
            -- in-place reload): past 16 the jobs could starve the lease heartbeat or wait on each other
            IF NOT (jsonb_typeof(v_value) = 'string' AND v_value #>> '{}' = 'auto')
               AND (jsonb_typeof(v_value) <> 'number' OR (v_value::text)::numeric <> trunc((v_value::text)::numeric)
                    OR (v_value::text)::numeric NOT BETWEEN 1 AND 16) THEN
                RAISE EXCEPTION 'option "copy_jobs" must be "auto" or an integer from 1 to 16, got %', v_value
                    USING ERRCODE = 'invalid_parameter_value',
                          HINT = '"auto" copies as many tables at once as the agent has CPU cores, from 1 to 8.';
            END IF;
        WHEN v_key IN ('my_server_id', 'replica_batch_size', 'replay_max_rows', 'net_read_timeout', 'copy_range_rows') THEN
            IF jsonb_typeof(v_value) <> 'number' OR (v_value::text)::numeric <> trunc((v_value::text)::numeric)
               OR (v_value::text)::numeric < 1
               OR (v_value::text)::numeric > (ARRAY[2147483647, 4294967295])[(v_key = 'my_server_id')::int + 1] THEN
                RAISE EXCEPTION 'option "%" must be a positive integer, got %', v_key, v_value
                    USING ERRCODE = 'invalid_parameter_value';
            END IF;
        WHEN v_key = 'sleep_loop' THEN
            IF jsonb_typeof(v_value) <> 'number' OR (v_value::text)::numeric <= 0 OR (v_value::text)::numeric > 3600 THEN
                RAISE EXCEPTION 'option "sleep_loop" must be a number of seconds between 0 and 3600, got %', v_value
                    USING ERRCODE = 'invalid_parameter_value';
            END IF;
        WHEN v_key = 'copy_max_memory' THEN
            IF jsonb_typeof(v_value) <> 'string' OR (v_value #>> '{}') !~* '^[0-9]+[KMG]?$' THEN
                RAISE EXCEPTION 'option "copy_max_memory" must be a size such as "300M", got %', v_value
                    USING ERRCODE = 'invalid_parameter_value';
            END IF;
        WHEN v_key IN ('on_error_replay', 'on_error_read') THEN
            IF jsonb_typeof(v_value) <> 'string' OR (v_value #>> '{}') NOT IN ('continue', 'exit') THEN
                RAISE EXCEPTION 'option "%" must be "continue" or "exit", got %', v_key, v_value
                    USING ERRCODE = 'invalid_parameter_value';
            END IF;
        WHEN v_key IN ('gtid_enable', 'keep_existing_schema') THEN
            IF jsonb_typeof(v_value) <> 'boolean' THEN
                RAISE EXCEPTION 'option "%" must be true or false, got %', v_key, v_value
                    USING ERRCODE = 'invalid_parameter_value';
            END IF;
        WHEN v_key = 'skip_events' THEN
            IF jsonb_typeof(v_value) <> 'object' THEN
                RAISE EXCEPTION 'option "skip_events" must be an object {"insert": [...], "update": [...], "delete": [...]}'
                    USING ERRCODE = 'invalid_parameter_value';
            END IF;
            FOR v_kind, v_item IN SELECT key, value FROM jsonb_each(v_value) LOOP
                IF v_kind NOT IN ('insert', 'update', 'delete') THEN
                    RAISE EXCEPTION 'option "skip_events": unknown event kind "%"', v_kind
                        USING ERRCODE = 'invalid_parameter_value', HINT = 'Use insert, update or delete.';
                END IF;
                IF jsonb_typeof(v_item) <> 'array' OR EXISTS (
                    SELECT 1 FROM jsonb_array_elements(v_item) e
                    WHERE jsonb_typeof(e) <> 'string' OR (e #>> '{}') !~ '^[^.]+(\.[^.]+)?$') THEN
                    RAISE EXCEPTION 'option "skip_events": "%" must be an array of "db" or "db.table" names', v_kind
                        USING ERRCODE = 'invalid_parameter_value';
                END IF;
            END LOOP;
        WHEN v_key = 'type_override' THEN
            IF jsonb_typeof(v_value) <> 'object' THEN
                RAISE EXCEPTION 'option "type_override" must be an object {"mysql type": {"override_to": ..., "override_tables": [...]}}'
                    USING ERRCODE = 'invalid_parameter_value';
            END IF;
            FOR v_kind, v_item IN SELECT key, value FROM jsonb_each(v_value) LOOP
                IF jsonb_typeof(v_item) <> 'object' OR jsonb_typeof(v_item -> 'override_to') IS DISTINCT FROM 'string'
                   OR (v_item ? 'override_tables' AND jsonb_typeof(v_item -> 'override_tables') <> 'array')
                   OR EXISTS (SELECT 1 FROM jsonb_object_keys(v_item) k WHERE k NOT IN ('override_to', 'override_tables')) THEN
                    RAISE EXCEPTION 'option "type_override": entry "%" must be {"override_to": "pg type", "override_tables": ["db.table" or "*"]}', v_kind
                        USING ERRCODE = 'invalid_parameter_value';
                END IF;
                BEGIN
                    PERFORM (v_item ->> 'override_to')::regtype;
                EXCEPTION WHEN others THEN
                    RAISE EXCEPTION 'option "type_override": "%" is not a PostgreSQL type', v_item ->> 'override_to'
                        USING ERRCODE = 'invalid_parameter_value';
                END;
            END LOOP;
        WHEN v_key = 'fillfactor' THEN
            IF jsonb_typeof(v_value) <> 'object' THEN
                RAISE EXCEPTION 'option "fillfactor" must be an object {"<10-100>": {"tables": ["db.table", ...]}}'
                    USING ERRCODE = 'invalid_parameter_value';
            END IF;
            FOR v_kind, v_item IN SELECT key, value FROM jsonb_each(v_value) LOOP
                IF v_kind !~ '^[0-9]+$' OR v_kind::numeric NOT BETWEEN 10 AND 100
                   OR jsonb_typeof(v_item) <> 'object' OR jsonb_typeof(v_item -> 'tables') IS DISTINCT FROM 'array' THEN
                    RAISE EXCEPTION 'option "fillfactor": entry "%" must be a number from 10 to 100 with {"tables": [...]}', v_kind
                        USING ERRCODE = 'invalid_parameter_value';
                END IF;
            END LOOP;
        END CASE;
    END LOOP;

    RETURN coalesce(base, v_defaults) || options;
END
$$;
COMMENT ON FUNCTION sch_chameleon.fn_validate_options(jsonb, jsonb) IS 'Checks source options, naming the first bad one; returns them merged over the defaults';
