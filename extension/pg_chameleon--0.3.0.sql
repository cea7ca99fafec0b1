-- pg_chameleon 0.3.0: generated from sql/ by `npm run build`; do not edit.

\echo Use "CREATE EXTENSION pg_chameleon" to load this file. \quit

-- sql/10-schema/00-schema.sql
-- The whole catalogue lives in one schema; nothing in it is reachable by PUBLIC.
CREATE SCHEMA sch_chameleon;
REVOKE ALL ON SCHEMA sch_chameleon FROM PUBLIC;
COMMENT ON SCHEMA sch_chameleon IS 'pg_chameleon: MySQL/MariaDB to PostgreSQL replica controlled from SQL';

-- sql/10-schema/10-roles.sql
-- Roles are cluster-wide and may already exist from another database or an
-- earlier install, so they are created only when missing. The installer's
-- advisory lock holds within one database only: an install running at the
-- same time in another database of the cluster may create them first, which
-- shows here as a duplicate once it commits.
DO $roles$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = 'chameleon_monitor') THEN
        BEGIN
            CREATE ROLE chameleon_monitor NOLOGIN;
        EXCEPTION WHEN duplicate_object OR unique_violation THEN
            NULL;
        END;
    END IF;
    IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = 'chameleon_admin') THEN
        BEGIN
            CREATE ROLE chameleon_admin NOLOGIN;
        EXCEPTION WHEN duplicate_object OR unique_violation THEN
            NULL;
        END;
    END IF;
    -- an administrator can always read what a monitor reads
    IF NOT pg_catalog.pg_has_role('chameleon_admin', 'chameleon_monitor', 'MEMBER') THEN
        BEGIN
            GRANT chameleon_monitor TO chameleon_admin;
        EXCEPTION WHEN duplicate_object OR unique_violation THEN
            NULL;
        END;
    END IF;
END
$roles$;

-- sql/30-tables/00-t_version.sql
CREATE TABLE sch_chameleon.t_version (
    version      text        NOT NULL PRIMARY KEY,
    installed_at timestamptz NOT NULL DEFAULT pg_catalog.now()
);
COMMENT ON TABLE sch_chameleon.t_version IS 'Catalogue versions installed or upgraded to, newest last';

-- sql/30-tables/10-t_sources.sql
CREATE TABLE sch_chameleon.t_sources (
    source_id        bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    source_name      text        NOT NULL UNIQUE
                     CHECK (source_name ~ '^[A-Za-z_][A-Za-z0-9_]{0,62}$'),
    -- holds the password: only the owner and the agent read this column
    mysql_url        text        NOT NULL,
    schema_mappings  jsonb       NOT NULL,
    options          jsonb       NOT NULL DEFAULT '{}',
    status           text        NOT NULL DEFAULT 'ready'
                     CHECK (status IN ('ready', 'initialising', 'initialised', 'starting',
                                       'running', 'stopped', 'error', 'detached')),
    -- what the operator asked for; an agent (re)starting honours it
    replica_enabled  boolean     NOT NULL DEFAULT false,
    -- reader position: where the next read starts, committed with the batch it ends
    read_file        text COLLATE "C",
    read_pos         bigint,
    read_gtid        text,
    -- replay position: the end of the last applied batch
    replay_file      text COLLATE "C",
    replay_pos       bigint,
    replay_gtid      text,
    -- times for lag: binlog event time and wall time of the last read / replay
    last_read_event_at   timestamptz,
    last_read_at         timestamptz,
    last_replay_event_at timestamptz,
    last_replayed_at     timestamptz,
    events_read      bigint      NOT NULL DEFAULT 0,
    events_applied   bigint      NOT NULL DEFAULT 0,
    events_skipped   bigint      NOT NULL DEFAULT 0,
    -- the last vacuum of the log (run_maintenance, auto_maintenance counts from it)
    last_maintenance_at  timestamptz,
    last_error       text,
    -- a condition that will become an error if nothing changes (binlog retention shorter than the lag)
    warning          text,
    created_at       timestamptz NOT NULL DEFAULT pg_catalog.now(),
    updated_at       timestamptz NOT NULL DEFAULT pg_catalog.now()
);
COMMENT ON TABLE sch_chameleon.t_sources IS 'One row per MySQL source: connection, mappings, options, state and positions';

-- sql/30-tables/20-t_tables.sql
CREATE TABLE sch_chameleon.t_tables (
    source_id      bigint      NOT NULL REFERENCES sch_chameleon.t_sources ON DELETE CASCADE,
    mysql_schema   text COLLATE "C" NOT NULL,
    mysql_table    text COLLATE "C" NOT NULL,
    pg_schema      text        NOT NULL,
    pg_table       text        NOT NULL,
    -- the key the decoder matches rows on; empty when the table has none
    pk_columns     text[]      NOT NULL DEFAULT '{}',
    state          text        NOT NULL DEFAULT 'pending'
                   CHECK (state IN ('pending', 'copying', 'copied', 'replicating', 'excluded', 'failed', 'quarantined')),
    -- binlog coordinates of the snapshot this table was copied at; for a
    -- quarantined table, those of its quarantined DDL statement
    copy_file      text COLLATE "C",
    copy_pos       bigint,
    copy_gtid      text,
    rows_copied    bigint      NOT NULL DEFAULT 0,
    rows_estimate  bigint,
    bytes_copied   bigint      NOT NULL DEFAULT 0,
    copy_started_at  timestamptz,
    copy_finished_at timestamptz,
    -- the command whose run copied the table: when that command is re-run
    -- (its agent died), tables it already copied are kept, not copied again
    copy_command   bigint,
    -- primary-key ranges done so far by the current copy; 0 for a table copied whole
    copy_ranges    integer     NOT NULL DEFAULT 0,
    events_applied bigint      NOT NULL DEFAULT 0,
    reason         text,
    -- the decoder's statements for the target table, built on first use;
    -- cleared whenever the table is (re)copied
    decoder_statements jsonb,
    updated_at     timestamptz NOT NULL DEFAULT pg_catalog.now(),
    PRIMARY KEY (source_id, mysql_schema, mysql_table)
);
CREATE INDEX ON sch_chameleon.t_tables (pg_schema, pg_table);
COMMENT ON TABLE sch_chameleon.t_tables IS 'Per-table state of each source: target, key, copy coordinates and progress';

-- sql/30-tables/30-t_commands.sql
CREATE TABLE sch_chameleon.t_commands (
    command_id   bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    source_id    bigint      REFERENCES sch_chameleon.t_sources ON DELETE SET NULL,
    -- kept so the audit trail still names a dropped source
    source_name  text,
    command      text        NOT NULL,
    args         jsonb       NOT NULL DEFAULT '{}',
    state        text        NOT NULL DEFAULT 'pending'
                 CHECK (state IN ('pending', 'running', 'done', 'failed', 'cancelled')),
    progress     jsonb,
    error        text,
    -- set by cancel_command on a running command; the agent stops at its next step
    cancel_requested boolean NOT NULL DEFAULT false,
    agent_id     text,
    attempts     integer     NOT NULL DEFAULT 0,
    created_by   name        NOT NULL DEFAULT session_user,
    created_at   timestamptz NOT NULL DEFAULT pg_catalog.now(),
    started_at   timestamptz,
    finished_at  timestamptz
);
CREATE INDEX t_commands_pending ON sch_chameleon.t_commands (command_id) WHERE state IN ('pending', 'running');
COMMENT ON TABLE sch_chameleon.t_commands IS 'The command queue: one row per control call; NOTIFY only wakes the agent';

-- sql/30-tables/40-t_agents.sql
CREATE TABLE sch_chameleon.t_agents (
    agent_id     text        PRIMARY KEY,
    hostname     text        NOT NULL,
    pid          integer     NOT NULL,
    version      text        NOT NULL,
    started_at   timestamptz NOT NULL DEFAULT pg_catalog.now(),
    heartbeat_at timestamptz NOT NULL DEFAULT pg_catalog.now(),
    stopped_at   timestamptz
);
COMMENT ON TABLE sch_chameleon.t_agents IS 'Agents that have run against this database and their last heartbeat';

CREATE TABLE sch_chameleon.t_source_leases (
    source_id    bigint      PRIMARY KEY REFERENCES sch_chameleon.t_sources ON DELETE CASCADE,
    agent_id     text        NOT NULL,
    acquired_at  timestamptz NOT NULL DEFAULT pg_catalog.now(),
    expires_at   timestamptz NOT NULL
);
-- Makes agent_id a key column: a takeover (agent_id changes) then waits for
-- the KEY SHARE fence of the owner's batch and replay transactions, while a
-- renewal (only expires_at changes) does not, so heartbeats never queue up
-- the replica behind them.
CREATE UNIQUE INDEX t_source_leases_owner ON sch_chameleon.t_source_leases (source_id, agent_id);
COMMENT ON TABLE sch_chameleon.t_source_leases IS 'Which agent owns a source; an expired lease may be taken over';

-- sql/30-tables/50-t_batches.sql
CREATE TABLE sch_chameleon.t_batches (
    batch_id       bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    source_id      bigint      NOT NULL REFERENCES sch_chameleon.t_sources ON DELETE CASCADE,
    -- the binlog position after the last transaction of the batch
    end_file       text COLLATE "C" NOT NULL,
    end_pos        bigint      NOT NULL,
    end_gtid       text,
    events         integer     NOT NULL,
    transactions   integer     NOT NULL,
    bytes          bigint      NOT NULL,
    first_event_at timestamptz,
    last_event_at  timestamptz,
    -- the tables of the batch's log rows, the element n - 1 for the table
    -- numbered n: [{"schema", "table", "events" (row events), "ddl"}], so
    -- that the decoder needs no pass over the log rows to find and count
    -- them; null when not known (the decoder then counts them itself)
    tables         jsonb,
    created_at     timestamptz NOT NULL DEFAULT pg_catalog.now(),
    applied_at     timestamptz
);
CREATE INDEX t_batches_unapplied ON sch_chameleon.t_batches (source_id, batch_id) WHERE applied_at IS NULL;
-- the newest batch of a source holds the reader's position
CREATE INDEX t_batches_source ON sch_chameleon.t_batches (source_id, batch_id);
CREATE INDEX t_batches_applied ON sch_chameleon.t_batches (source_id, applied_at) WHERE applied_at IS NOT NULL;
COMMENT ON TABLE sch_chameleon.t_batches IS 'Batches of binlog row events, each ending on a MySQL transaction boundary';

-- sql/30-tables/60-t_log_events.sql
CREATE TABLE sch_chameleon.t_log_events (
    -- no foreign key: the batch row is written in the same transaction, and a
    -- check per logged row costs as much as a fifth of the whole write; the
    -- rows go with their batch in fn_replay_next, drop_source and re-snapshots
    -- names and binlog files compare byte by byte (COLLATE "C", here and in
    -- every catalogue column they are compared with): the key and the soft
    -- init test run for every logged row, and a locale's collation costs a
    -- library call per comparison
    batch_id     bigint      NOT NULL,
    event_seq    integer     NOT NULL,
    -- the table's number within its batch (1, 2, ... in order of first
    -- appearance): the key the decoder reads a batch by, table by table,
    -- narrower and cheaper to maintain than the names
    table_no     integer     NOT NULL,
    mysql_schema text COLLATE "C" NOT NULL,
    mysql_table  text COLLATE "C" NOT NULL,
    kind         text        NOT NULL CHECK (kind IN ('insert', 'update', 'delete', 'ddl')),
    row_after    jsonb,
    row_before   jsonb,
    -- commit position of the MySQL transaction the event belongs to: the
    -- decoder compares it with a table's copy coordinates (soft init)
    tx_file      text COLLATE "C" NOT NULL,
    tx_pos       bigint      NOT NULL,
    tx_seq       integer     NOT NULL,
    -- kind 'ddl': the MySQL statement, and what the decoder does to the
    -- table at this place (src/ddl/translate-ddl.ts, DdlPlan)
    ddl          text,
    ddl_plan     jsonb,
    PRIMARY KEY (batch_id, table_no, event_seq)
)
-- A queue: every row is deleted within moments of its insert. Statistics of
-- it are never useful (the decoder reads it by its key) and analysing it
-- under load took a core away from the replica half the time; vacuum still
-- reclaims the space, after a fixed number of dead rows rather than a
-- fraction of a size that swings from zero to millions.
WITH (autovacuum_analyze_scale_factor = 0, autovacuum_analyze_threshold = 2000000000,
      autovacuum_vacuum_scale_factor = 0, autovacuum_vacuum_threshold = 200000,
      autovacuum_vacuum_insert_scale_factor = 0, autovacuum_vacuum_insert_threshold = 2000000000);
COMMENT ON TABLE sch_chameleon.t_log_events IS 'Row images (jsonb in PostgreSQL input format) waiting for the decoder';

-- sql/30-tables/70-t_errors.sql
CREATE TABLE sch_chameleon.t_errors (
    error_id     bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    source_id    bigint      REFERENCES sch_chameleon.t_sources ON DELETE CASCADE,
    mysql_schema text COLLATE "C",
    mysql_table  text COLLATE "C",
    batch_id     bigint,
    event_seq    integer,
    binlog_file  text COLLATE "C",
    binlog_pos   bigint,
    statement    text,
    row_image    jsonb,
    sqlstate     text,
    message      text        NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT pg_catalog.now()
);
COMMENT ON TABLE sch_chameleon.t_errors IS 'Replay errors per table, with the statement and row that failed';

CREATE TABLE sch_chameleon.t_discarded_rows (
    discarded_id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    source_id    bigint      REFERENCES sch_chameleon.t_sources ON DELETE CASCADE,
    mysql_schema text COLLATE "C" NOT NULL,
    mysql_table  text COLLATE "C" NOT NULL,
    origin       text        NOT NULL CHECK (origin IN ('snapshot', 'replica')),
    row_image    jsonb,
    reason       text        NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT pg_catalog.now()
);
COMMENT ON TABLE sch_chameleon.t_discarded_rows IS 'Source rows PostgreSQL cannot hold, kept with the reason';

-- sql/30-tables/75-t_ddl_events.sql
CREATE TABLE sch_chameleon.t_ddl_events (
    ddl_id       bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    source_id    bigint      NOT NULL REFERENCES sch_chameleon.t_sources ON DELETE CASCADE,
    mysql_schema text COLLATE "C" NOT NULL,
    mysql_table  text COLLATE "C" NOT NULL,
    -- commit position of the statement in the binlog
    binlog_file  text COLLATE "C",
    binlog_pos   bigint,
    mysql_ddl    text        NOT NULL,
    -- the translation the decoder ran (DdlPlan); null for a statement logged untranslated
    plan         jsonb,
    -- applied: the target follows the statement; quarantined: the table waits
    -- for resolve_ddl; resolved: an operator's statement took its place;
    -- recopied: sync_tables copied the table again instead
    state        text        NOT NULL CHECK (state IN ('applied', 'quarantined', 'resolved', 'recopied')),
    error        text,
    resolved_sql text,
    resolved_by  name,
    created_at   timestamptz NOT NULL DEFAULT pg_catalog.now(),
    resolved_at  timestamptz
);
CREATE INDEX t_ddl_events_source ON sch_chameleon.t_ddl_events (source_id, ddl_id);
COMMENT ON TABLE sch_chameleon.t_ddl_events IS 'Every MySQL DDL statement the replica met: applied, or quarantined until resolve_ddl';

-- sql/30-tables/80-t_verify_chunks.sql
CREATE TABLE sch_chameleon.t_verify_chunks (
    -- the verify (or repair) command that checked the chunk
    command_id   bigint      NOT NULL,
    source_id    bigint      NOT NULL REFERENCES sch_chameleon.t_sources ON DELETE CASCADE,
    mysql_schema text COLLATE "C" NOT NULL,
    mysql_table  text COLLATE "C" NOT NULL,
    chunk_no     integer     NOT NULL,
    -- the chunk: key values above range_from and up to range_to (null: no bound)
    -- of key_column, as text; no key column: the whole table in one chunk
    key_column   text,
    range_from   text,
    range_to     text,
    mysql_rows   bigint      NOT NULL,
    pg_rows      bigint      NOT NULL,
    -- rows on one side and not the other (a changed row counts on both)
    differing    bigint      NOT NULL,
    -- the primary key of the first differing rows, as text
    differing_keys jsonb     NOT NULL DEFAULT '[]',
    -- same; differs; repaired (repair copied it again, then it compared equal);
    -- error (the chunk could not be compared: the message says why)
    state        text        NOT NULL CHECK (state IN ('same', 'differs', 'repaired', 'error')),
    error        text,
    -- MySQL's binlog position of the snapshot compared
    checked_at_position text,
    checked_at   timestamptz NOT NULL DEFAULT pg_catalog.now(),
    PRIMARY KEY (command_id, mysql_schema, mysql_table, chunk_no)
);
CREATE INDEX t_verify_chunks_table ON sch_chameleon.t_verify_chunks (source_id, mysql_schema, mysql_table, command_id);
COMMENT ON TABLE sch_chameleon.t_verify_chunks IS 'Results of verify() and repair(): source and target compared chunk by chunk';

-- sql/40-internal/10-fn_default_options.sql
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

-- sql/40-internal/20-fn_validate_options.sql
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

-- sql/40-internal/30-fn_validate_mappings.sql
CREATE FUNCTION sch_chameleon.fn_validate_mappings(schema_mappings jsonb, p_source_id bigint DEFAULT NULL)
RETURNS jsonb
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_mysql text;
    v_pg    jsonb;
    v_other text;
BEGIN
    IF schema_mappings IS NULL OR jsonb_typeof(schema_mappings) <> 'object' OR schema_mappings = '{}'::jsonb THEN
        RAISE EXCEPTION 'schema_mappings must be a non-empty json object {"mysql_db": "pg_schema", ...}'
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    FOR v_mysql, v_pg IN SELECT key, value FROM jsonb_each(schema_mappings) LOOP
        IF v_mysql = '' OR length(v_mysql) > 64 THEN
            RAISE EXCEPTION 'schema_mappings: "%" is not a MySQL database name', v_mysql
                USING ERRCODE = 'invalid_parameter_value';
        END IF;
        IF jsonb_typeof(v_pg) <> 'string' OR (v_pg #>> '{}') = '' OR length(v_pg #>> '{}') > 63 THEN
            RAISE EXCEPTION 'schema_mappings: the target of "%" must be a PostgreSQL schema name (1 to 63 characters), got %', v_mysql, v_pg
                USING ERRCODE = 'invalid_parameter_value';
        END IF;
        IF (v_pg #>> '{}') IN ('sch_chameleon', 'pg_catalog', 'information_schema') OR (v_pg #>> '{}') LIKE 'pg\_%' THEN
            RAISE EXCEPTION 'schema_mappings: "%" cannot be a target schema', v_pg #>> '{}'
                USING ERRCODE = 'invalid_parameter_value';
        END IF;
        IF (SELECT count(*) FROM jsonb_each_text(schema_mappings) WHERE value = v_pg #>> '{}') > 1 THEN
            RAISE EXCEPTION 'schema_mappings: schema "%" is the target of more than one MySQL database', v_pg #>> '{}'
                USING ERRCODE = 'invalid_parameter_value';
        END IF;
        SELECT s.source_name INTO v_other
        FROM sch_chameleon.t_sources s, jsonb_each_text(s.schema_mappings) m
        WHERE m.value = v_pg #>> '{}' AND s.source_id IS DISTINCT FROM p_source_id
        LIMIT 1;
        IF FOUND THEN
            RAISE EXCEPTION 'schema_mappings: schema "%" is already the target of source "%"', v_pg #>> '{}', v_other
                USING ERRCODE = 'duplicate_object';
        END IF;
    END LOOP;
    RETURN schema_mappings;
END
$$;
COMMENT ON FUNCTION sch_chameleon.fn_validate_mappings(jsonb, bigint) IS 'Checks a schema mapping: names valid, targets unique across all sources';

-- sql/40-internal/40-fn_source.sql
CREATE FUNCTION sch_chameleon.fn_source(source text, for_update boolean DEFAULT false)
RETURNS sch_chameleon.t_sources
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_row sch_chameleon.t_sources;
BEGIN
    IF source IS NULL THEN
        RAISE EXCEPTION 'source must not be null' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    IF for_update THEN
        SELECT * INTO v_row FROM sch_chameleon.t_sources s WHERE s.source_name = source FOR UPDATE;
    ELSE
        SELECT * INTO v_row FROM sch_chameleon.t_sources s WHERE s.source_name = source;
    END IF;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'unknown source "%"', source
            USING ERRCODE = 'undefined_object', HINT = 'show_sources() lists the sources; add_source() adds one.';
    END IF;
    RETURN v_row;
END
$$;
COMMENT ON FUNCTION sch_chameleon.fn_source(text, boolean) IS 'The catalogue row of a source, or an error naming the unknown source';

-- sql/40-internal/50-fn_enqueue.sql
-- Commands are rows: one issued inside a transaction exists only if it commits,
-- and the NOTIFY is delivered only then too.
CREATE FUNCTION sch_chameleon.fn_enqueue(p_source sch_chameleon.t_sources, p_command text, p_args jsonb DEFAULT '{}')
RETURNS bigint
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_id bigint;
BEGIN
    INSERT INTO sch_chameleon.t_commands (source_id, source_name, command, args)
    VALUES (p_source.source_id, p_source.source_name, p_command, coalesce(p_args, '{}'))
    RETURNING command_id INTO v_id;
    PERFORM pg_notify('chameleon_commands', json_build_object('command_id', v_id, 'source', p_source.source_name)::text);
    RETURN v_id;
END
$$;
COMMENT ON FUNCTION sch_chameleon.fn_enqueue(sch_chameleon.t_sources, text, jsonb) IS 'Queues a command for the agent and wakes it';

CREATE FUNCTION sch_chameleon.fn_mask_url(url text)
RETURNS text
LANGUAGE sql IMMUTABLE
SET search_path = pg_catalog, pg_temp
AS $$
    -- as a URL parser reads it: the password runs to the last @ before the
    -- path, so an unencoded @ in it must not leave its tail visible
    SELECT regexp_replace(url, '^([a-z0-9+]+://[^:/?#]*):[^/?#]*@', '\1:********@', 'i')
$$;
COMMENT ON FUNCTION sch_chameleon.fn_mask_url(text) IS 'A connection URL with its password hidden';

CREATE FUNCTION sch_chameleon.fn_position_text(p_file text, p_pos bigint, p_gtid text)
RETURNS text
LANGUAGE sql IMMUTABLE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT CASE WHEN p_file IS NULL THEN NULL
                ELSE p_file || ':' || p_pos || coalesce(' (' || p_gtid || ')', '') END
$$;
COMMENT ON FUNCTION sch_chameleon.fn_position_text(text, bigint, text) IS 'A binlog position as file:position (gtid)';

-- sql/40-internal/60-fn_record_command.sql
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

-- sql/40-internal/70-fn_parse_position.sql
-- file:position, compared as (file, position); binlog file names of one
-- server share their base name and a zero-padded number, so text order works.
CREATE FUNCTION sch_chameleon.fn_position_reached(p_file text, p_pos bigint, p_target_file text, p_target_pos bigint)
RETURNS boolean
LANGUAGE sql IMMUTABLE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT p_file IS NOT NULL AND (p_file, p_pos) >= (p_target_file, p_target_pos)
$$;
COMMENT ON FUNCTION sch_chameleon.fn_position_reached(text, bigint, text, bigint) IS 'Whether a binlog position is at or after a target';

-- MariaDB GTID positions list one domain-server-seq per domain; a target is
-- covered when every domain it names has reached its sequence number.
CREATE FUNCTION sch_chameleon.fn_gtid_covered(p_current text, p_target text)
RETURNS boolean
LANGUAGE sql IMMUTABLE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT p_current IS NOT NULL AND NOT EXISTS (
        SELECT 1
        FROM regexp_split_to_table(btrim(p_target, E' \t\r\n'), '\s*,\s*') t
        WHERE NOT EXISTS (
            SELECT 1 FROM regexp_split_to_table(btrim(p_current, E' \t\r\n'), '\s*,\s*') c
            WHERE split_part(c, '-', 1) = split_part(t, '-', 1)
              -- an entry of another form (an empty position) must not fail the cast
              AND CASE WHEN c ~ '^[0-9]+-[0-9]+-[0-9]+$' THEN split_part(c, '-', 3)::numeric END
                  >= split_part(t, '-', 3)::numeric))
$$;
COMMENT ON FUNCTION sch_chameleon.fn_gtid_covered(text, text) IS 'Whether a MariaDB GTID position covers another';

-- The reader's committed position: its newest batch, or what the snapshot
-- (or the replayer, as it applies and prunes batches) recorded on the source.
CREATE FUNCTION sch_chameleon.fn_read_position(p_source_id bigint, OUT file text, OUT pos bigint, OUT gtid text)
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT CASE WHEN ahead THEN b.end_file ELSE s.read_file END,
           CASE WHEN ahead THEN b.end_pos ELSE s.read_pos END,
           CASE WHEN ahead THEN coalesce(b.end_gtid, s.read_gtid) ELSE s.read_gtid END
    FROM sch_chameleon.t_sources s
    LEFT JOIN LATERAL (
        SELECT x.end_file, x.end_pos, x.end_gtid FROM sch_chameleon.t_batches x
        WHERE x.source_id = s.source_id ORDER BY x.batch_id DESC LIMIT 1) b ON true
    CROSS JOIN LATERAL (
        SELECT b.end_file IS NOT NULL
               AND NOT sch_chameleon.fn_position_reached(s.read_file, s.read_pos, b.end_file, b.end_pos) AS ahead) a
    WHERE s.source_id = p_source_id
$$;
COMMENT ON FUNCTION sch_chameleon.fn_read_position(bigint) IS 'Where the reader of a source resumes: its newest batch, else the position recorded on the source';

-- sql/40-internal/75-fn_gtid_set.sql
-- MySQL GTID sets, as @@gtid_executed prints them: 'uuid:1-5:11-18,uuid2:1-27'
-- (case and white space free, a newline after each comma). MySQL 8.3+ tags
-- name the source of the intervals after them ('uuid:1-5:tag_a:1-3'): a
-- (uuid, tag) pair is a source of its own. One row per interval, bounds
-- inclusive, as numeric because GNOs go up to 2^63-1 and hi + 1 must not
-- overflow. p_what names the value in the errors, so that a caller's bad
-- argument is reported under the argument's name.
CREATE FUNCTION sch_chameleon.fn_gtid_set_intervals(p_set text, p_what text DEFAULT 'GTID set')
RETURNS TABLE (sid text, tag text, lo numeric, hi numeric)
LANGUAGE plpgsql IMMUTABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_entry     text;
    v_item      text;
    v_parts     text[];
    v_intervals integer;
    v_open_tag  boolean;
    v_hint      constant text := 'A MySQL GTID set is uuid:N[-M][:N[-M]...][,uuid:...], as SELECT @@gtid_executed prints it.';
BEGIN
    IF p_set IS NULL OR btrim(p_set, E' \t\r\n') = '' THEN
        RETURN;
    END IF;
    FOREACH v_entry IN ARRAY regexp_split_to_array(btrim(p_set, E' \t\r\n'), '\s*,\s*') LOOP
        IF v_entry = '' THEN
            RAISE EXCEPTION '% "%" is not a MySQL GTID set: it has an empty entry', p_what, p_set
                USING ERRCODE = 'invalid_parameter_value', HINT = v_hint;
        END IF;
        v_parts := regexp_split_to_array(v_entry, '\s*:\s*');
        IF v_parts[1] !~* '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$' THEN
            RAISE EXCEPTION '% "%" is not a MySQL GTID set: "%" is not a server UUID', p_what, p_set, v_parts[1]
                USING ERRCODE = 'invalid_parameter_value', HINT = v_hint;
        END IF;
        sid := lower(v_parts[1]);
        tag := '';
        v_intervals := 0;
        v_open_tag := false;
        FOREACH v_item IN ARRAY v_parts[2:] LOOP
            v_item := regexp_replace(v_item, '\s+', '', 'g');
            IF v_item ~* '^[a-z_][a-z0-9_]{0,31}$' THEN
                IF v_open_tag THEN
                    RAISE EXCEPTION '% "%" is not a MySQL GTID set: tag "%" has no interval', p_what, p_set, tag
                        USING ERRCODE = 'invalid_parameter_value', HINT = v_hint;
                END IF;
                -- MySQL folds tags to lower case
                tag := lower(v_item);
                v_open_tag := true;
                CONTINUE;
            END IF;
            IF v_item !~ '^[0-9]{1,19}(-[0-9]{1,19})?$' THEN
                RAISE EXCEPTION '% "%" is not a MySQL GTID set: "%" (in "%") is neither an interval N or N-M nor a tag',
                    p_what, p_set, v_item, v_entry
                    USING ERRCODE = 'invalid_parameter_value', HINT = v_hint;
            END IF;
            lo := split_part(v_item, '-', 1)::numeric;
            hi := coalesce(nullif(split_part(v_item, '-', 2), ''), split_part(v_item, '-', 1))::numeric;
            IF lo < 1 OR hi > 9223372036854775807 THEN
                RAISE EXCEPTION '% "%" is not a MySQL GTID set: interval "%" is outside 1 to 9223372036854775807',
                    p_what, p_set, v_item
                    USING ERRCODE = 'invalid_parameter_value', HINT = v_hint;
            END IF;
            IF hi < lo THEN
                RAISE EXCEPTION '% "%" is not a MySQL GTID set: interval "%" ends before it starts', p_what, p_set, v_item
                    USING ERRCODE = 'invalid_parameter_value', HINT = v_hint;
            END IF;
            v_intervals := v_intervals + 1;
            v_open_tag := false;
            RETURN NEXT;
        END LOOP;
        IF v_open_tag THEN
            RAISE EXCEPTION '% "%" is not a MySQL GTID set: tag "%" has no interval', p_what, p_set, tag
                USING ERRCODE = 'invalid_parameter_value', HINT = v_hint;
        END IF;
        IF v_intervals = 0 THEN
            RAISE EXCEPTION '% "%" is not a MySQL GTID set: "%" names no interval', p_what, p_set, v_entry
                USING ERRCODE = 'invalid_parameter_value', HINT = v_hint;
        END IF;
    END LOOP;
END
$$;
COMMENT ON FUNCTION sch_chameleon.fn_gtid_set_intervals(text, text) IS
'The intervals of a MySQL GTID set, one row per (uuid, tag, interval); raises naming p_what when the set is malformed';

-- Whether every transaction of p_target is in p_current. The current set's
-- intervals are merged into maximal runs first (a set written by hand may
-- list 1-5:6-9, or overlapping ranges), so that each target interval is
-- covered exactly when one run holds it. A lone GTID 'uuid:N' as the current
-- value is what the reader records without gtid_enable: the last transaction
-- applied, read in binlog order, which on the server that assigned its GNOs
-- means uuid:1-N.
CREATE FUNCTION sch_chameleon.fn_gtid_set_contains(p_current text, p_target text)
RETURNS boolean
LANGUAGE sql IMMUTABLE
SET search_path = pg_catalog, pg_temp
AS $$
    WITH cur AS MATERIALIZED (
        SELECT c.sid, c.tag, c.lo, c.hi FROM sch_chameleon.fn_gtid_set_intervals(p_current) c
    ), applied AS (
        SELECT c.sid, c.tag, CASE WHEN lone.is_lone THEN 1 ELSE c.lo END AS lo, c.hi
        FROM cur c CROSS JOIN (SELECT count(*) = 1 AND bool_and(x.lo = x.hi) AS is_lone FROM cur x) lone
    ), edges AS (
        SELECT a.*, max(a.hi) OVER (PARTITION BY a.sid, a.tag ORDER BY a.lo, a.hi
                                    ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS hi_before
        FROM applied a
    ), runs AS (
        SELECT e.sid, e.tag, min(e.lo) AS lo, max(e.hi) AS hi
        FROM (SELECT e.*, count(*) FILTER (WHERE e.hi_before IS NULL OR e.lo > e.hi_before + 1)
                              OVER (PARTITION BY e.sid, e.tag ORDER BY e.lo, e.hi) AS run
              FROM edges e) e
        GROUP BY e.sid, e.tag, e.run
    )
    SELECT p_current IS NOT NULL AND NOT EXISTS (
        SELECT 1 FROM sch_chameleon.fn_gtid_set_intervals(p_target) t
        WHERE NOT EXISTS (
            SELECT 1 FROM runs r
            WHERE r.sid = t.sid AND r.tag = t.tag AND r.lo <= t.lo AND r.hi >= t.hi))
$$;
COMMENT ON FUNCTION sch_chameleon.fn_gtid_set_contains(text, text) IS
'Whether a MySQL GTID set (or the lone last GTID the reader records) contains every transaction of another';

-- Which GTID form a text is in, by its shape alone: a MySQL set starts with
-- a server UUID, a MariaDB position is domain-server-seq, comma separated.
CREATE FUNCTION sch_chameleon.fn_gtid_flavor(p_gtid text)
RETURNS text
LANGUAGE sql IMMUTABLE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT CASE
             WHEN p_gtid ~* '^\s*[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\s*:' THEN 'mysql'
             WHEN p_gtid ~ '^\s*[0-9]+-[0-9]+-[0-9]+(\s*,\s*[0-9]+-[0-9]+-[0-9]+)*\s*$' THEN 'mariadb'
           END
$$;
COMMENT ON FUNCTION sch_chameleon.fn_gtid_flavor(text) IS
'mysql for a MySQL GTID set, mariadb for a MariaDB GTID position, NULL for anything else (by shape, not validated)';

-- sql/50-decoder/10-fn_decoder_statements.sql
-- Builds, once per table and replay call, the statements the decoder runs.
-- Every statement reads the log rows of one table in a range of one batch:
--   $1 batch, $2/$3 first and last event, $4 the table's number in the
--   batch, $5/$6 the table's copy coordinates (events of transactions
--   committed at or before them are already in the copy and are left out).
CREATE FUNCTION sch_chameleon.fn_decoder_statements(p_schema text, p_table text, p_pk text[])
RETURNS jsonb
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_rel      regclass;
    v_cols     text[];
    v_target   text := format('%I.%I', p_schema, p_table);
    v_filter   text := 'l.batch_id = $1 AND l.table_no = $4 AND l.event_seq BETWEEN $2 AND $3'
                       ' AND l.kind <> ''ddl'' AND ($5::text IS NULL OR (l.tx_file, l.tx_pos) > ($5::text, $6::bigint))';
    v_list     text;
    v_rlist    text;
    v_set      text;
    v_keys     text;
    v_pkmatch  text;
    v_nkeys    bigint;
    v_kacols   text;
    v_kbs      text;
    v_kas      text;
    v_kbask    text;
    v_ks       text;
    v_on       text;
    v_scols    text;
    v_svals    text;
    v_sset     text;
    v_rowmatch text;
    v_result   jsonb;
BEGIN
    v_rel := to_regclass(v_target);
    IF v_rel IS NULL THEN
        RAISE EXCEPTION 'target table %.% does not exist', p_schema, p_table USING ERRCODE = 'undefined_table';
    END IF;
    -- generated columns are computed by PostgreSQL itself
    SELECT array_agg(a.attname::text ORDER BY a.attnum) INTO v_cols
    FROM pg_attribute a
    WHERE a.attrelid = v_rel AND a.attnum > 0 AND NOT a.attisdropped AND a.attgenerated = '';

    SELECT string_agg(format('%I', c), ', '), string_agg(format('r.%I', c), ', '),
           string_agg(format('%I = s.%I', c, c), ', ')
    INTO v_list, v_rlist, v_set
    FROM unnest(v_cols) c;

    -- one event at a time, in order
    v_result := jsonb_build_object(
        'insert_one', format(
            'INSERT INTO %s (%s) OVERRIDING SYSTEM VALUE SELECT %s'
            ' FROM sch_chameleon.t_log_events l CROSS JOIN LATERAL jsonb_populate_record(NULL::%s, l.row_after) r'
            ' WHERE %s AND l.kind IN (''insert'', ''update'') ORDER BY l.event_seq',
            v_target, v_list, v_rlist, v_target, v_filter));

    IF cardinality(p_pk) > 0 THEN
        SELECT string_agg(format('r.%I', k), ', '),
               string_agg(format('t.%I = s.%I', k, k), ' AND ')
        INTO v_keys, v_pkmatch
        FROM unnest(p_pk) k;
        -- The net statement groups events by key values of the key columns'
        -- own types (what the target stores), not by jsonb: sorting typed
        -- values costs a fraction of sorting jsonb arrays.
        SELECT count(a.attname),
               string_agg(format('(l.row_before ->> %L)::%s', k.name, format_type(a.atttypid, a.atttypmod)), ', ' ORDER BY k.n),
               string_agg(format('(l.row_after ->> %L)::%s', k.name, format_type(a.atttypid, a.atttypmod)), ', ' ORDER BY k.n),
               string_agg(format('(l.row_before ->> %L)::%s AS k%s', k.name, format_type(a.atttypid, a.atttypmod), k.n), ', ' ORDER BY k.n),
               string_agg(format('(l.row_after ->> %L)::%s', k.name, format_type(a.atttypid, a.atttypmod)), ', ' ORDER BY k.n),
               string_agg(format('a.k%s', k.n), ', ' ORDER BY k.n),
               string_agg(format('t.%I = s.k%s', k.name, k.n), ' AND ' ORDER BY k.n)
        INTO v_nkeys, v_kbs, v_kas, v_kbask, v_kacols, v_ks, v_on
        FROM unnest(p_pk) WITH ORDINALITY AS k(name, n)
        LEFT JOIN pg_attribute a ON a.attrelid = v_rel AND a.attname = k.name AND a.attnum > 0 AND NOT a.attisdropped;
        IF v_nkeys <> cardinality(p_pk) THEN
            RAISE EXCEPTION 'target table %.% lacks a key column of %', p_schema, p_table, p_pk USING ERRCODE = 'undefined_column';
        END IF;
        -- the source of the MERGE names the image's columns c1, c2, ... and its key k1, k2, ...:
        -- names of ours, which no column of the table can collide with
        SELECT string_agg(format('r.%I AS c%s', c.name, c.n), ', ' ORDER BY c.n),
               string_agg(format('s.c%s', c.n), ', ' ORDER BY c.n),
               string_agg(format('%I = s.c%s', c.name, c.n), ', ' ORDER BY c.n) FILTER (WHERE c.name <> ALL (p_pk))
        INTO v_scols, v_svals, v_sset
        FROM unnest(v_cols) WITH ORDINALITY AS c(name, n);
        v_result := v_result || jsonb_build_object(
            'delete_one', format(
                'DELETE FROM %s t USING (SELECT %s FROM sch_chameleon.t_log_events l'
                ' CROSS JOIN LATERAL jsonb_populate_record(NULL::%s, l.row_before) r'
                ' WHERE %s AND l.kind IN (''update'', ''delete'')) s WHERE %s',
                v_target, v_keys, v_target, v_filter, v_pkmatch),
            -- The net effect of a range: every key ends deleted or holding the
            -- after image of its last event; the events of a batch commit
            -- together, so only that final state is ever visible. One
            -- statement per table and batch, however the events interleave:
            -- each event gives its key's end (a delete, or a key-changing
            -- update, ends the old key; an insert or update sets the new one),
            -- the last one per key wins, and one MERGE applies them.
            'net', format(
                'MERGE INTO %s AS t USING ('
                ' SELECT f.*, f.img IS NULL AS gone, %s'
                ' FROM (SELECT DISTINCT ON (%s) %s, a.img FROM sch_chameleon.t_log_events l'
                '       CROSS JOIN LATERAL (SELECT %s, 0 AS sub, NULL::jsonb AS img'
                '                            WHERE l.kind = ''delete'' OR (l.kind = ''update'' AND (%s) IS DISTINCT FROM (%s))'
                '                           UNION ALL'
                '                           SELECT %s, 1, l.row_after WHERE l.kind IN (''insert'', ''update'')) a'
                '       WHERE %s ORDER BY %s, l.event_seq DESC, a.sub DESC) f'
                ' LEFT JOIN LATERAL jsonb_populate_record(NULL::%s, f.img) r ON true) s'
                ' ON %s'
                ' WHEN MATCHED AND s.gone THEN DELETE'
                ' WHEN MATCHED THEN %s'
                ' WHEN NOT MATCHED AND NOT s.gone THEN INSERT (%s) OVERRIDING SYSTEM VALUE VALUES (%s)',
                v_target, v_scols,
                v_ks, v_ks,
                v_kbask, v_kbs, v_kas,
                v_kacols,
                v_filter, v_ks,
                v_target,
                v_on,
                CASE WHEN v_sset IS NULL THEN 'DO NOTHING' ELSE 'UPDATE SET ' || v_sset END,
                v_list, v_svals));
    ELSE
        -- no key: a row is identified by all its values, one matching row per event
        SELECT string_agg(format('t2.%I', c), ', ') INTO v_rowmatch FROM unnest(v_cols) c;
        v_rowmatch := format('ROW(%s)::text = ROW(%s)::text', v_rowmatch,
                             (SELECT string_agg(format('b.%I', c), ', ') FROM unnest(v_cols) c));
        v_result := v_result || jsonb_build_object(
            'insert_run', format(
                'INSERT INTO %s (%s) OVERRIDING SYSTEM VALUE SELECT %s'
                ' FROM sch_chameleon.t_log_events l CROSS JOIN LATERAL jsonb_populate_record(NULL::%s, l.row_after) r'
                ' WHERE %s AND l.kind = ''insert'' ORDER BY l.event_seq',
                v_target, v_list, v_rlist, v_target, v_filter),
            'delete_row', format(
                'DELETE FROM %s t WHERE t.ctid = (SELECT t2.ctid FROM %s t2, (SELECT r.* FROM sch_chameleon.t_log_events l'
                ' CROSS JOIN LATERAL jsonb_populate_record(NULL::%s, l.row_before) r WHERE %s) b WHERE %s LIMIT 1)',
                v_target, v_target, v_target, v_filter, v_rowmatch),
            'update_row', format(
                'UPDATE %s t SET %s FROM (SELECT r.* FROM sch_chameleon.t_log_events l'
                ' CROSS JOIN LATERAL jsonb_populate_record(NULL::%s, l.row_after) r WHERE %s) s'
                ' WHERE t.ctid = (SELECT t2.ctid FROM %s t2, (SELECT r.* FROM sch_chameleon.t_log_events l'
                ' CROSS JOIN LATERAL jsonb_populate_record(NULL::%s, l.row_before) r WHERE %s) b WHERE %s LIMIT 1)',
                v_target, v_set, v_target, v_filter, v_target, v_target, v_filter, v_rowmatch));
    END IF;
    RETURN v_result;
END
$$;
COMMENT ON FUNCTION sch_chameleon.fn_decoder_statements(text, text, text[]) IS
'The decoder''s statements for one target table: net effect per key, one event at a time, whole-row identity';

-- sql/50-decoder/20-fn_replay_event.sql
-- One event applied alone: for tables without a key, and for finding the row
-- at fault after a set-based statement failed.
CREATE FUNCTION sch_chameleon.fn_replay_event(p_stmts jsonb, p_kind text, p_batch_id bigint, p_seq integer,
                                              p_table_no integer, p_copy_file text, p_copy_pos bigint)
RETURNS bigint
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_n bigint := 0;
BEGIN
    IF p_stmts ? 'delete_one' THEN
        -- keyed table: an update is the delete of the old key and the insert of the new row
        IF p_kind IN ('update', 'delete') THEN
            EXECUTE p_stmts ->> 'delete_one' USING p_batch_id, p_seq, p_seq, p_table_no, p_copy_file, p_copy_pos;
            GET DIAGNOSTICS v_n = ROW_COUNT;
        END IF;
        IF p_kind IN ('insert', 'update') THEN
            EXECUTE p_stmts ->> 'insert_one' USING p_batch_id, p_seq, p_seq, p_table_no, p_copy_file, p_copy_pos;
            GET DIAGNOSTICS v_n = ROW_COUNT;
        END IF;
    ELSIF p_kind = 'insert' THEN
        EXECUTE p_stmts ->> 'insert_one' USING p_batch_id, p_seq, p_seq, p_table_no, p_copy_file, p_copy_pos;
        GET DIAGNOSTICS v_n = ROW_COUNT;
    ELSIF p_kind = 'delete' THEN
        EXECUTE p_stmts ->> 'delete_row' USING p_batch_id, p_seq, p_seq, p_table_no, p_copy_file, p_copy_pos;
        GET DIAGNOSTICS v_n = ROW_COUNT;
    ELSE
        EXECUTE p_stmts ->> 'update_row' USING p_batch_id, p_seq, p_seq, p_table_no, p_copy_file, p_copy_pos;
        GET DIAGNOSTICS v_n = ROW_COUNT;
    END IF;
    RETURN v_n;
END
$$;
COMMENT ON FUNCTION sch_chameleon.fn_replay_event(jsonb, text, bigint, integer, integer, text, bigint) IS
'Applies a single logged event with the statements of its table';

-- sql/50-decoder/25-fn_apply_ddl.sql
-- The primary key of a target table, as the decoder matches rows on it.
CREATE FUNCTION sch_chameleon.fn_target_primary_key(p_schema text, p_table text)
RETURNS text[]
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT coalesce(array_agg(a.attname::text ORDER BY k.ord), '{}')
    FROM pg_catalog.pg_index x
    CROSS JOIN LATERAL unnest(x.indkey) WITH ORDINALITY AS k(attnum, ord)
    JOIN pg_catalog.pg_attribute a ON a.attrelid = x.indrelid AND a.attnum = k.attnum
    WHERE x.indrelid = to_regclass(format('%I.%I', p_schema, p_table)) AND x.indisprimary
$$;
COMMENT ON FUNCTION sch_chameleon.fn_target_primary_key(text, text) IS 'The primary-key columns of a target table, in key order';

-- A MySQL DDL statement in its place in a batch (fn_replay_batch calls it
-- for a table the replica holds, or one the statement creates): runs the
-- translation's steps (the log row's ddl_plan, see src/ddl/translate-ddl.ts)
-- in a subtransaction and brings the table's catalogue row along (renamed,
-- dropped, new key, statements rebuilt). A statement with no translation,
-- or whose translation PostgreSQL refuses, quarantines the table instead:
-- nothing of it is applied, the table's later events wait in the log, and
-- resolve_ddl() with the operator's PostgreSQL statement lets it go on. The
-- replica itself never stops on DDL. Every statement is recorded in
-- t_ddl_events. Returns 'applied' or 'quarantined'.
CREATE FUNCTION sch_chameleon.fn_apply_ddl(p_src sch_chameleon.t_sources, p_ddl sch_chameleon.t_log_events)
RETURNS text
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_plan   jsonb := p_ddl.ddl_plan;
    v_action text := coalesce(p_ddl.ddl_plan ->> 'action', 'quarantine');
    v_tbl    sch_chameleon.t_tables;
    v_found  boolean;
    v_schema text;
    v_table  text;
    v_step   jsonb;
    v_con    name;
    v_idx    name;
    v_to     jsonb := p_ddl.ddl_plan -> 'to';
    v_err    text;
    v_id     bigint;
BEGIN
    SELECT t.* INTO v_tbl FROM sch_chameleon.t_tables t
    WHERE t.source_id = p_src.source_id AND t.mysql_schema = p_ddl.mysql_schema AND t.mysql_table = p_ddl.mysql_table;
    v_found := FOUND;
    -- a table made anew (CREATE OR REPLACE of one the replica holds, too) gets the plan's names
    v_schema := CASE WHEN v_found AND v_action <> 'create' THEN v_tbl.pg_schema ELSE coalesce(v_plan ->> 'pg_schema', v_tbl.pg_schema) END;
    v_table := CASE WHEN v_found AND v_action <> 'create' THEN v_tbl.pg_table ELSE coalesce(v_plan ->> 'pg_table', v_tbl.pg_table) END;
    IF v_action = 'quarantine' THEN
        v_err := coalesce(v_plan ->> 'reason', 'the statement was logged without a translation');
    ELSE
        BEGIN
            FOR v_step IN SELECT e FROM jsonb_array_elements(v_plan -> 'steps') AS e LOOP
                IF jsonb_typeof(v_step) = 'string' THEN
                    EXECUTE format(v_step #>> '{}', v_schema, v_table, replace(v_table, '"', '""'));
                ELSIF v_step ? 'drop_primary_key' THEN
                    SELECT c.conname INTO v_con FROM pg_catalog.pg_constraint c
                    WHERE c.conrelid = format('%I.%I', v_schema, v_table)::regclass AND c.contype = 'p';
                    IF v_con IS NOT NULL THEN
                        EXECUTE format('ALTER TABLE %I.%I DROP CONSTRAINT %I', v_schema, v_table, v_con);
                    END IF;
                END IF;
            END LOOP;
            IF v_action IN ('drop', 'forget') THEN
                DELETE FROM sch_chameleon.t_tables t
                WHERE t.source_id = p_src.source_id AND t.mysql_schema = p_ddl.mysql_schema AND t.mysql_table = p_ddl.mysql_table;
            ELSIF v_action <> 'truncate' THEN
                IF v_to IS NOT NULL THEN
                    -- indexes named after the table (as the snapshot names them) follow it
                    FOR v_idx IN
                        SELECT i.relname FROM pg_catalog.pg_index x JOIN pg_catalog.pg_class i ON i.oid = x.indexrelid
                        WHERE x.indrelid = format('%I.%I', v_to ->> 'pg_schema', v_to ->> 'pg_table')::regclass
                          AND starts_with(i.relname, v_table || '_')
                    LOOP
                        EXECUTE format('ALTER INDEX %I.%I RENAME TO %I', v_to ->> 'pg_schema', v_idx,
                                       (v_to ->> 'pg_table') || substr(v_idx, length(v_table) + 1));
                    END LOOP;
                    -- a row left under the new name by a table the replica no longer follows
                    DELETE FROM sch_chameleon.t_tables t
                    WHERE t.source_id = p_src.source_id AND t.mysql_schema = v_to ->> 'mysql_schema' AND t.mysql_table = v_to ->> 'mysql_table'
                      AND (t.mysql_schema, t.mysql_table) <> (p_ddl.mysql_schema, p_ddl.mysql_table);
                    v_schema := v_to ->> 'pg_schema';
                    v_table := v_to ->> 'pg_table';
                END IF;
                IF v_found THEN
                    UPDATE sch_chameleon.t_tables t
                    SET mysql_schema = coalesce(v_to ->> 'mysql_schema', t.mysql_schema),
                        mysql_table = coalesce(v_to ->> 'mysql_table', t.mysql_table),
                        pg_schema = v_schema, pg_table = v_table,
                        pk_columns = sch_chameleon.fn_target_primary_key(v_schema, v_table),
                        decoder_statements = NULL, updated_at = now()
                    WHERE t.source_id = p_src.source_id AND t.mysql_schema = p_ddl.mysql_schema AND t.mysql_table = p_ddl.mysql_table;
                ELSE
                    -- a table created after the copy: every event of it is new, none is in a copy
                    INSERT INTO sch_chameleon.t_tables (source_id, mysql_schema, mysql_table, pg_schema, pg_table, pk_columns, state)
                    VALUES (p_src.source_id, p_ddl.mysql_schema, p_ddl.mysql_table, v_schema, v_table,
                            sch_chameleon.fn_target_primary_key(v_schema, v_table), 'replicating');
                END IF;
            END IF;
        EXCEPTION WHEN others THEN
            GET STACKED DIAGNOSTICS v_err = MESSAGE_TEXT;
            v_err := 'PostgreSQL refused the translation: ' || v_err;
        END;
    END IF;

    INSERT INTO sch_chameleon.t_ddl_events (source_id, mysql_schema, mysql_table, binlog_file, binlog_pos, mysql_ddl, plan, state, error)
    VALUES (p_src.source_id, p_ddl.mysql_schema, p_ddl.mysql_table, p_ddl.tx_file, p_ddl.tx_pos, coalesce(p_ddl.ddl, ''), v_plan,
            CASE WHEN v_err IS NULL THEN 'applied' ELSE 'quarantined' END, v_err)
    RETURNING ddl_id INTO v_id;
    IF v_err IS NULL THEN
        RETURN 'applied';
    END IF;

    -- Quarantine: the table's coordinates become the statement's, so that when it
    -- is resolved its events from the statement on are applied, and the ones
    -- before it (applied already) are not.
    INSERT INTO sch_chameleon.t_tables AS t (source_id, mysql_schema, mysql_table, pg_schema, pg_table, state, copy_file, copy_pos, reason)
    VALUES (p_src.source_id, p_ddl.mysql_schema, p_ddl.mysql_table, v_schema, v_table, 'quarantined', p_ddl.tx_file, p_ddl.tx_pos,
            format('DDL %s quarantined: %s; resolve_ddl(%s, ''<PostgreSQL statement>'') applies it and resumes the table', v_id, v_err, v_id))
    ON CONFLICT (source_id, mysql_schema, mysql_table) DO UPDATE
    SET state = 'quarantined', copy_file = excluded.copy_file, copy_pos = excluded.copy_pos, copy_gtid = NULL,
        decoder_statements = NULL, reason = excluded.reason, updated_at = now();
    INSERT INTO sch_chameleon.t_errors (source_id, mysql_schema, mysql_table, batch_id, event_seq, binlog_file, binlog_pos, statement, message)
    VALUES (p_src.source_id, p_ddl.mysql_schema, p_ddl.mysql_table, p_ddl.batch_id, p_ddl.event_seq, p_ddl.tx_file, p_ddl.tx_pos,
            p_ddl.ddl, format('DDL %s quarantined: %s', v_id, v_err));
    PERFORM pg_notify('chameleon_alerts', json_build_object(
        'source', p_src.source_name, 'table', p_ddl.mysql_schema || '.' || p_ddl.mysql_table,
        'error', format('DDL %s quarantined: %s', v_id, v_err), 'ddl_id', v_id)::text);
    RETURN 'quarantined';
END
$$;
COMMENT ON FUNCTION sch_chameleon.fn_apply_ddl(sch_chameleon.t_sources, sch_chameleon.t_log_events) IS
'Applies a MySQL DDL statement''s translation in its place in the stream, or quarantines its table';

-- sql/50-decoder/30-fn_replay_batch.sql
-- The decoder. A batch is cut at its DDL events (fn_apply_ddl runs each in
-- its place); between them, each table's
-- events are applied with one set-based statement (their net effect per
-- primary key). A statement that fails is replayed event by event under
-- savepoints to pin the row at fault; then the table is excluded
-- (on_error_replay = continue) or the whole call fails and nothing of the
-- batch is applied (exit).
CREATE FUNCTION sch_chameleon.fn_replay_batch(p_batch_id bigint, OUT applied bigint, OUT skipped bigint)
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_src      sch_chameleon.t_sources;
    v_tbl      sch_chameleon.t_tables;
    v_t        record;
    v_ev       record;
    v_key      text;
    v_stmts    jsonb := '{}';
    v_s        jsonb;
    v_lo       integer := 0;
    v_hi       integer;
    v_ddl_seq  integer;
    v_run_lo   integer;
    v_run_hi   integer;
    v_state    text;
    v_msg      text;
    v_stmt     text;
    v_done     bigint;
    v_ddl      sch_chameleon.t_log_events;
    v_batch    sch_chameleon.t_batches;
    v_described boolean;
    v_before   bigint;
    v_found    boolean;
BEGIN
    applied := 0;
    skipped := 0;
    SELECT s.* INTO v_src FROM sch_chameleon.t_sources s
    JOIN sch_chameleon.t_batches b ON b.source_id = s.source_id WHERE b.batch_id = p_batch_id;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'batch % does not exist', p_batch_id USING ERRCODE = 'undefined_object';
    END IF;
    SELECT b.* INTO v_batch FROM sch_chameleon.t_batches b WHERE b.batch_id = p_batch_id;
    -- The reader describes a batch's tables as it writes it: without DDL to
    -- cut the batch at, the tables and their event counts are taken from
    -- there instead of from a pass over every log row of the batch (a fifth
    -- of the replay's time). An applied batch replayed again holds only the
    -- events retained for tables being copied (fn_replay_retained): counted.
    v_described := v_batch.applied_at IS NULL AND coalesce(jsonb_typeof(v_batch.tables) = 'array', false)
        AND NOT EXISTS (SELECT 1 FROM jsonb_array_elements(v_batch.tables) e(t) WHERE (e.t ->> 'ddl')::integer > 0);

    LOOP
        v_ddl_seq := NULL;
        IF NOT v_described THEN
            SELECT min(l.event_seq) INTO v_ddl_seq FROM sch_chameleon.t_log_events l
            WHERE l.batch_id = p_batch_id AND l.kind = 'ddl' AND l.event_seq >= v_lo;
        END IF;
        v_hi := coalesce(v_ddl_seq - 1, 2147483647);

        FOR v_t IN
            SELECT e.n::integer AS table_no, e.t ->> 'schema' AS mysql_schema, e.t ->> 'table' AS mysql_table,
                   (e.t ->> 'events')::bigint AS events, NULL::bigint AS before_copy, e.n AS first_seq
            FROM jsonb_array_elements(v_batch.tables) WITH ORDINALITY AS e(t, n)
            WHERE v_described AND (e.t ->> 'events')::bigint > 0
            UNION ALL
            SELECT l.table_no, l.mysql_schema, l.mysql_table, count(*) AS events,
                   count(*) FILTER (WHERE t.copy_file IS NOT NULL AND (l.tx_file, l.tx_pos) <= (t.copy_file, t.copy_pos)) AS before_copy,
                   min(l.event_seq) AS first_seq
            FROM sch_chameleon.t_log_events l
            LEFT JOIN sch_chameleon.t_tables t
                   ON t.source_id = v_src.source_id AND t.mysql_schema = l.mysql_schema AND t.mysql_table = l.mysql_table
            WHERE NOT v_described AND l.batch_id = p_batch_id AND l.event_seq BETWEEN v_lo AND v_hi AND l.kind <> 'ddl'
            GROUP BY l.table_no, l.mysql_schema, l.mysql_table
            ORDER BY first_seq
        LOOP
            SELECT * INTO v_tbl FROM sch_chameleon.t_tables t
            WHERE t.source_id = v_src.source_id AND t.mysql_schema = v_t.mysql_schema AND t.mysql_table = v_t.mysql_table;
            -- a table being copied again, or quarantined at a DDL statement: its events
            -- wait in the log (fn_replay_next keeps them) and are applied when the copy
            -- is swapped in or the statement resolved
            CONTINUE WHEN FOUND AND v_tbl.state IN ('copying', 'quarantined');
            IF NOT FOUND OR v_tbl.state NOT IN ('copied', 'replicating') THEN
                skipped := skipped + v_t.events;
                CONTINUE;
            END IF;
            -- soft init: the events of transactions the table's copy already holds
            v_before := v_t.before_copy;
            IF v_before IS NULL THEN
                v_before := 0;
                -- binlog order is event order: when the table's first event of the batch
                -- is past the copy, so are the others, and none needs counting
                IF v_tbl.copy_file IS NOT NULL AND EXISTS (
                    SELECT 1 FROM (SELECT l.tx_file, l.tx_pos FROM sch_chameleon.t_log_events l
                                   WHERE l.batch_id = p_batch_id AND l.table_no = v_t.table_no
                                   ORDER BY l.event_seq LIMIT 1) f
                    WHERE (f.tx_file, f.tx_pos) <= (v_tbl.copy_file, v_tbl.copy_pos)) THEN
                    SELECT count(*) INTO v_before FROM sch_chameleon.t_log_events l
                    WHERE l.batch_id = p_batch_id AND l.table_no = v_t.table_no AND l.kind <> 'ddl'
                      AND (l.tx_file, l.tx_pos) <= (v_tbl.copy_file, v_tbl.copy_pos);
                END IF;
            END IF;
            skipped := skipped + v_before;
            CONTINUE WHEN v_t.events = v_before;

            v_key := format('%I.%I', v_tbl.pg_schema, v_tbl.pg_table);
            v_s := coalesce(v_stmts -> v_key, v_tbl.decoder_statements);
            BEGIN
                IF v_s IS NULL THEN
                    v_s := sch_chameleon.fn_decoder_statements(v_tbl.pg_schema, v_tbl.pg_table, v_tbl.pk_columns);
                    UPDATE sch_chameleon.t_tables t SET decoder_statements = v_s
                    WHERE t.source_id = v_src.source_id AND t.mysql_schema = v_t.mysql_schema AND t.mysql_table = v_t.mysql_table;
                END IF;
                v_stmts := v_stmts || jsonb_build_object(v_key, v_s);
                IF v_s ? 'net' THEN
                    EXECUTE v_s ->> 'net'
                        USING p_batch_id, v_lo, v_hi, v_t.table_no, v_tbl.copy_file, v_tbl.copy_pos;
                ELSE
                    -- no key: runs of inserts in one statement, updates and deletes one by one
                    v_run_lo := NULL;
                    FOR v_ev IN
                        SELECT l.event_seq, l.kind FROM sch_chameleon.t_log_events l
                        WHERE l.batch_id = p_batch_id AND l.table_no = v_t.table_no
                          AND l.event_seq BETWEEN v_lo AND v_hi
                        ORDER BY l.event_seq
                    LOOP
                        IF v_ev.kind = 'insert' THEN
                            v_run_lo := coalesce(v_run_lo, v_ev.event_seq);
                            v_run_hi := v_ev.event_seq;
                            CONTINUE;
                        END IF;
                        IF v_run_lo IS NOT NULL THEN
                            EXECUTE v_s ->> 'insert_run'
                                USING p_batch_id, v_run_lo, v_run_hi, v_t.table_no, v_tbl.copy_file, v_tbl.copy_pos;
                            v_run_lo := NULL;
                        END IF;
                        PERFORM sch_chameleon.fn_replay_event(v_s, v_ev.kind, p_batch_id, v_ev.event_seq,
                            v_t.table_no, v_tbl.copy_file, v_tbl.copy_pos);
                    END LOOP;
                    IF v_run_lo IS NOT NULL THEN
                        EXECUTE v_s ->> 'insert_run'
                            USING p_batch_id, v_run_lo, v_run_hi, v_t.table_no, v_tbl.copy_file, v_tbl.copy_pos;
                    END IF;
                END IF;
                applied := applied + v_t.events - v_before;
            EXCEPTION WHEN others THEN
                -- rolled back to the savepoint: replay the table's events one by one to find the row at fault,
                -- with statements built afresh (the target may have been altered since they were cached)
                v_done := 0;
                BEGIN
                    v_s := sch_chameleon.fn_decoder_statements(v_tbl.pg_schema, v_tbl.pg_table, v_tbl.pk_columns);
                    UPDATE sch_chameleon.t_tables t SET decoder_statements = v_s
                    WHERE t.source_id = v_src.source_id AND t.mysql_schema = v_t.mysql_schema AND t.mysql_table = v_t.mysql_table;
                EXCEPTION WHEN others THEN
                    NULL;  -- the table is gone: every event below fails and is reported
                END;
                FOR v_ev IN
                    SELECT l.event_seq, l.kind FROM sch_chameleon.t_log_events l
                    WHERE l.batch_id = p_batch_id AND l.table_no = v_t.table_no
                      AND l.event_seq BETWEEN v_lo AND v_hi
                    ORDER BY l.event_seq
                LOOP
                    BEGIN
                        PERFORM sch_chameleon.fn_replay_event(v_s, v_ev.kind, p_batch_id, v_ev.event_seq,
                            v_t.table_no, v_tbl.copy_file, v_tbl.copy_pos);
                        v_done := v_done + 1;
                    EXCEPTION WHEN others THEN
                        GET STACKED DIAGNOSTICS v_state = RETURNED_SQLSTATE, v_msg = MESSAGE_TEXT;
                        v_stmt := CASE WHEN v_s IS NULL THEN NULL
                                       WHEN v_s ? 'delete_one' THEN concat_ws('; ',
                                            CASE WHEN v_ev.kind <> 'insert' THEN v_s ->> 'delete_one' END,
                                            CASE WHEN v_ev.kind <> 'delete' THEN v_s ->> 'insert_one' END)
                                       WHEN v_ev.kind = 'insert' THEN v_s ->> 'insert_one'
                                       WHEN v_ev.kind = 'delete' THEN v_s ->> 'delete_row'
                                       ELSE v_s ->> 'update_row' END;
                        IF v_src.options ->> 'on_error_replay' = 'exit' THEN
                            RAISE EXCEPTION 'replay of %.% failed at batch % event %: %', v_t.mysql_schema, v_t.mysql_table, p_batch_id, v_ev.event_seq, v_msg
                                USING ERRCODE = v_state,
                                      DETAIL = (SELECT format('row: %s; statement: %s', coalesce(l.row_after, l.row_before), v_stmt)
                                                FROM sch_chameleon.t_log_events l
                                                WHERE l.batch_id = p_batch_id AND l.table_no = v_t.table_no AND l.event_seq = v_ev.event_seq);
                        END IF;
                        INSERT INTO sch_chameleon.t_errors (source_id, mysql_schema, mysql_table, batch_id, event_seq,
                                                            binlog_file, binlog_pos, statement, row_image, sqlstate, message)
                        SELECT v_src.source_id, l.mysql_schema, l.mysql_table, p_batch_id, l.event_seq, l.tx_file, l.tx_pos,
                               v_stmt, coalesce(l.row_after, l.row_before), v_state, v_msg
                        FROM sch_chameleon.t_log_events l
                        WHERE l.batch_id = p_batch_id AND l.table_no = v_t.table_no AND l.event_seq = v_ev.event_seq;
                        UPDATE sch_chameleon.t_tables t
                        SET state = 'excluded', reason = format('replay failed at %s:%s: %s', v_t.mysql_schema, v_t.mysql_table, v_msg),
                            updated_at = now()
                        WHERE t.source_id = v_src.source_id AND t.mysql_schema = v_t.mysql_schema AND t.mysql_table = v_t.mysql_table;
                        PERFORM pg_notify('chameleon_alerts', json_build_object(
                            'source', v_src.source_name, 'table', v_t.mysql_schema || '.' || v_t.mysql_table,
                            'error', v_msg, 'excluded', true)::text);
                        EXIT;
                    END;
                END LOOP;
                applied := applied + v_done;
                skipped := skipped + greatest(v_t.events - v_before - v_done, 0);
            END;
            UPDATE sch_chameleon.t_tables t SET events_applied = t.events_applied + v_t.events - v_before
            WHERE t.source_id = v_src.source_id AND t.mysql_schema = v_t.mysql_schema AND t.mysql_table = v_t.mysql_table
              AND t.state <> 'excluded';
        END LOOP;

        EXIT WHEN v_ddl_seq IS NULL;
        -- A MySQL DDL statement, in its place between the row events around it.
        SELECT l.* INTO v_ddl FROM sch_chameleon.t_log_events l WHERE l.batch_id = p_batch_id AND l.event_seq = v_ddl_seq;
        SELECT t.* INTO v_tbl FROM sch_chameleon.t_tables t
        WHERE t.source_id = v_src.source_id AND t.mysql_schema = v_ddl.mysql_schema AND t.mysql_table = v_ddl.mysql_table;
        v_found := FOUND;
        IF v_found AND v_tbl.state IN ('copying', 'quarantined') THEN
            -- kept with the table's other events, applied after its copy or its resolve_ddl;
            -- a rename of it: the events under the new name wait too, until the rename is applied
            IF v_ddl.ddl_plan ? 'to' THEN
                INSERT INTO sch_chameleon.t_tables (source_id, mysql_schema, mysql_table, pg_schema, pg_table, state, copy_file, copy_pos, reason)
                VALUES (v_src.source_id, v_ddl.ddl_plan #>> '{to,mysql_schema}', v_ddl.ddl_plan #>> '{to,mysql_table}',
                        v_ddl.ddl_plan #>> '{to,pg_schema}', v_ddl.ddl_plan #>> '{to,pg_table}', 'quarantined', v_ddl.tx_file, v_ddl.tx_pos,
                        format('the new name of %s.%s, which is %s: its events wait for it', v_ddl.mysql_schema, v_ddl.mysql_table,
                               CASE v_tbl.state WHEN 'copying' THEN 'being copied' ELSE 'quarantined' END))
                ON CONFLICT (source_id, mysql_schema, mysql_table) DO NOTHING;
            END IF;
        ELSIF v_found AND (v_tbl.state NOT IN ('copied', 'replicating')
                           OR (v_tbl.copy_file IS NOT NULL AND (v_ddl.tx_file, v_ddl.tx_pos) <= (v_tbl.copy_file, v_tbl.copy_pos))
                           OR coalesce((v_ddl.ddl_plan ->> 'if_not_exists')::boolean, false)) THEN
            -- an excluded or failed table (its next copy has the change), a copy that
            -- already holds it, or CREATE TABLE IF NOT EXISTS of a table there already
            skipped := skipped + 1;
        ELSIF NOT v_found AND coalesce(v_ddl.ddl_plan ->> 'action', '') NOT IN ('create', 'quarantine') THEN
            -- a table the replica does not hold
            skipped := skipped + 1;
        ELSIF sch_chameleon.fn_apply_ddl(v_src, v_ddl) = 'applied' THEN
            applied := applied + 1;
        ELSE
            skipped := skipped + 1;
        END IF;
        v_stmts := '{}';
        v_lo := v_ddl_seq + 1;
    END LOOP;
END
$$;
COMMENT ON FUNCTION sch_chameleon.fn_replay_batch(bigint) IS
'The set-based decoder: applies one logged batch to the target tables';

-- sql/50-decoder/40-fn_replay_next.sql
-- Applies the oldest unapplied batches of a source, at least one and up to
-- replay_max_rows events, and moves the replay position, all in the caller's
-- transaction: data and position commit together.
CREATE FUNCTION sch_chameleon.fn_replay_next(p_source_id bigint, p_agent_id text,
    OUT batches integer, OUT events bigint, OUT applied bigint, OUT skipped bigint)
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_max   bigint;
    v_batch sch_chameleon.t_batches;
    v_last  sch_chameleon.t_batches;
    v_res   record;
BEGIN
    batches := 0; events := 0; applied := 0; skipped := 0;
    -- resolve_ddl takes this lock exclusively: a replay call never runs beside
    -- a table's return from quarantine (it would keep that table's events back
    -- after the table replicates again)
    PERFORM pg_advisory_xact_lock_shared(hashtext('sch_chameleon.replay'), p_source_id::integer);
    -- fencing: an agent that lost its lease must not apply anything
    PERFORM 1 FROM sch_chameleon.t_source_leases l
    WHERE l.source_id = p_source_id AND l.agent_id = p_agent_id FOR KEY SHARE;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'agent % does not own source %', p_agent_id, p_source_id
            USING ERRCODE = 'lock_not_available', HINT = 'Another agent took the source over, or it was dropped.';
    END IF;
    SELECT (s.options ->> 'replay_max_rows')::bigint INTO v_max FROM sch_chameleon.t_sources s WHERE s.source_id = p_source_id;
    LOOP
        SELECT * INTO v_batch FROM sch_chameleon.t_batches b
        WHERE b.source_id = p_source_id AND b.applied_at IS NULL
        ORDER BY b.batch_id LIMIT 1
        FOR UPDATE;
        EXIT WHEN NOT FOUND;
        v_res := sch_chameleon.fn_replay_batch(v_batch.batch_id);
        UPDATE sch_chameleon.t_batches b SET applied_at = clock_timestamp() WHERE b.batch_id = v_batch.batch_id;
        IF EXISTS (SELECT 1 FROM sch_chameleon.t_tables t WHERE t.source_id = p_source_id AND t.state IN ('copying', 'quarantined')) THEN
            -- the events of tables being copied again, or quarantined at a DDL
            -- statement, stay, for fn_replay_retained to apply once their copy is
            -- in place or the statement is resolved; the other tables go on meanwhile
            DELETE FROM sch_chameleon.t_log_events l
            WHERE l.batch_id = v_batch.batch_id
              AND NOT EXISTS (SELECT 1 FROM sch_chameleon.t_tables t
                              WHERE t.source_id = p_source_id AND t.state IN ('copying', 'quarantined')
                                AND t.mysql_schema = l.mysql_schema AND t.mysql_table = l.mysql_table);
        ELSE
            DELETE FROM sch_chameleon.t_log_events l WHERE l.batch_id = v_batch.batch_id;
        END IF;
        v_last := v_batch;
        batches := batches + 1;
        events := events + v_batch.events;
        applied := applied + v_res.applied;
        skipped := skipped + v_res.skipped;
        EXIT WHEN events >= coalesce(v_max, 25000);
    END LOOP;
    IF batches > 0 THEN
        -- last, and once: the row stays locked until the commit. The reader's
        -- position lives in its batch rows; applied batches may be pruned, so
        -- the read position is carried forward here as they are applied.
        UPDATE sch_chameleon.t_sources s
        SET read_file = CASE WHEN sch_chameleon.fn_position_reached(s.read_file, s.read_pos, v_last.end_file, v_last.end_pos)
                             THEN s.read_file ELSE v_last.end_file END,
            read_pos = CASE WHEN sch_chameleon.fn_position_reached(s.read_file, s.read_pos, v_last.end_file, v_last.end_pos)
                            THEN s.read_pos ELSE v_last.end_pos END,
            read_gtid = CASE WHEN sch_chameleon.fn_position_reached(s.read_file, s.read_pos, v_last.end_file, v_last.end_pos)
                             THEN s.read_gtid ELSE coalesce(v_last.end_gtid, s.read_gtid) END,
            events_read = s.events_read + events,
            replay_file = v_last.end_file, replay_pos = v_last.end_pos,
            replay_gtid = coalesce(v_last.end_gtid, s.replay_gtid),
            last_replay_event_at = coalesce(v_last.last_event_at, s.last_replay_event_at),
            last_replayed_at = clock_timestamp(),
            events_applied = s.events_applied + applied,
            events_skipped = s.events_skipped + skipped
        WHERE s.source_id = p_source_id;
    END IF;
END
$$;
COMMENT ON FUNCTION sch_chameleon.fn_replay_next(bigint, text) IS
'Replays the next batches of a source (up to replay_max_rows events) and moves its replay position';

-- sql/50-decoder/45-fn_replay_retained.sql
-- A table copied again while its source replicates, or quarantined at a DDL
-- statement: the decoder kept its events of the batches it applied meanwhile
-- (fn_replay_next). Called in the transaction that puts the new copy in
-- place, or that resolves the statement, with the replay held: applies
-- those events in binlog order (the decoder's soft init leaves out what the
-- copy already holds) and removes them, so that the table's next events,
-- in batches not applied yet, find it up to date.
CREATE FUNCTION sch_chameleon.fn_replay_retained(p_source_id bigint, p_mysql_schema text, p_mysql_table text,
    OUT batches integer, OUT applied bigint, OUT skipped bigint)
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_batch bigint;
    v_res   record;
    v_next  record;
BEGIN
    batches := 0; applied := 0; skipped := 0;
    FOR v_batch IN
        SELECT DISTINCT l.batch_id
        FROM sch_chameleon.t_log_events l
        JOIN sch_chameleon.t_batches b ON b.batch_id = l.batch_id
        WHERE b.source_id = p_source_id AND b.applied_at IS NOT NULL
          AND l.mysql_schema = p_mysql_schema AND l.mysql_table = p_mysql_table
        ORDER BY l.batch_id
    LOOP
        -- an applied batch holds only the events of tables that were being
        -- copied: this one, and others still copying, which the decoder skips
        v_res := sch_chameleon.fn_replay_batch(v_batch);
        -- every event of the batch the decoder did not keep back is done (this table's, and
        -- those of its new name once a rename among them is applied); a DDL statement among
        -- them that quarantined the table again keeps its events from there on
        DELETE FROM sch_chameleon.t_log_events l
        WHERE l.batch_id = v_batch
          AND NOT EXISTS (SELECT 1 FROM sch_chameleon.t_tables t
                          WHERE t.source_id = p_source_id AND t.mysql_schema = l.mysql_schema
                            AND t.mysql_table = l.mysql_table AND t.state IN ('copying', 'quarantined'));
        batches := batches + 1;
        applied := applied + v_res.applied;
        skipped := skipped + v_res.skipped;
    END LOOP;
    IF batches > 0 THEN
        UPDATE sch_chameleon.t_sources s
        SET events_applied = s.events_applied + applied, events_skipped = s.events_skipped + skipped
        WHERE s.source_id = p_source_id;
    END IF;
    -- a table renamed among those events: its events under the new name, in batches this
    -- table had none in, are kept for it still (fn_replay_batch held them for the rename);
    -- each call counts its own on the source
    FOR v_next IN
        SELECT DISTINCT l.mysql_schema, l.mysql_table
        FROM sch_chameleon.t_log_events l
        JOIN sch_chameleon.t_batches b ON b.batch_id = l.batch_id
        JOIN sch_chameleon.t_tables t ON t.source_id = b.source_id AND t.mysql_schema = l.mysql_schema AND t.mysql_table = l.mysql_table
        WHERE b.source_id = p_source_id AND b.applied_at IS NOT NULL AND t.state IN ('copied', 'replicating')
    LOOP
        SELECT * INTO v_res FROM sch_chameleon.fn_replay_retained(p_source_id, v_next.mysql_schema, v_next.mysql_table);
        batches := batches + v_res.batches;
        applied := applied + v_res.applied;
        skipped := skipped + v_res.skipped;
    END LOOP;
END
$$;
COMMENT ON FUNCTION sch_chameleon.fn_replay_retained(bigint, text, text) IS
'Applies the events the decoder kept for a table while it was copied again, once the new copy is in place';

-- sql/50-decoder/50-fn_resume_quarantined.sql
-- The other half of resolve_ddl(), run as the catalogue's owner once the
-- operator's statement (if any) ran in the caller's session: the
-- quarantined statement is marked resolved, its table replicates again,
-- and the events kept back since the statement are applied, all in the
-- caller's transaction. Holds the source's replay off meanwhile (see
-- fn_replay_next). Returns the command row that records the resolution.
CREATE FUNCTION sch_chameleon.fn_resume_quarantined(p_ddl_id bigint, p_sql text)
RETURNS bigint
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_ev  sch_chameleon.t_ddl_events;
    v_src sch_chameleon.t_sources;
    v_tbl sch_chameleon.t_tables;
    v_res record;
    v_id  bigint;
BEGIN
    SELECT e.* INTO v_ev FROM sch_chameleon.t_ddl_events e WHERE e.ddl_id = p_ddl_id FOR UPDATE;
    PERFORM sch_chameleon.fn_check_quarantined(v_ev, p_ddl_id);
    PERFORM pg_advisory_xact_lock(hashtext('sch_chameleon.replay'), v_ev.source_id::integer);
    SELECT s.* INTO v_src FROM sch_chameleon.t_sources s WHERE s.source_id = v_ev.source_id;
    SELECT t.* INTO v_tbl FROM sch_chameleon.t_tables t
    WHERE t.source_id = v_ev.source_id AND t.mysql_schema = v_ev.mysql_schema AND t.mysql_table = v_ev.mysql_table
    FOR UPDATE;
    UPDATE sch_chameleon.t_ddl_events e
    SET state = 'resolved', resolved_sql = p_sql, resolved_by = session_user, resolved_at = now()
    WHERE e.ddl_id = p_ddl_id;
    IF to_regclass(format('%I.%I', v_tbl.pg_schema, v_tbl.pg_table)) IS NULL THEN
        -- the statement dropped the table, or it never existed here (a CREATE resolved with nothing)
        DELETE FROM sch_chameleon.t_tables t
        WHERE t.source_id = v_tbl.source_id AND t.mysql_schema = v_tbl.mysql_schema AND t.mysql_table = v_tbl.mysql_table;
        DELETE FROM sch_chameleon.t_log_events l
        USING sch_chameleon.t_batches b
        WHERE b.batch_id = l.batch_id AND b.source_id = v_tbl.source_id AND b.applied_at IS NOT NULL
          AND l.mysql_schema = v_tbl.mysql_schema AND l.mysql_table = v_tbl.mysql_table;
        v_res := ROW(0, 0::bigint, 0::bigint);
    ELSE
        UPDATE sch_chameleon.t_tables t
        SET state = 'replicating', reason = NULL, decoder_statements = NULL, updated_at = now(),
            pk_columns = sch_chameleon.fn_target_primary_key(t.pg_schema, t.pg_table)
        WHERE t.source_id = v_tbl.source_id AND t.mysql_schema = v_tbl.mysql_schema AND t.mysql_table = v_tbl.mysql_table;
        SELECT * INTO v_res FROM sch_chameleon.fn_replay_retained(v_tbl.source_id, v_tbl.mysql_schema, v_tbl.mysql_table);
    END IF;
    INSERT INTO sch_chameleon.t_commands (source_id, source_name, command, args, state, progress, started_at, finished_at)
    VALUES (v_src.source_id, v_src.source_name, 'resolve_ddl', jsonb_build_object('ddl_id', p_ddl_id, 'postgres_sql', p_sql), 'done',
            jsonb_build_object('table', v_tbl.mysql_schema || '.' || v_tbl.mysql_table, 'batches', v_res.batches,
                               'applied', v_res.applied, 'skipped', v_res.skipped,
                               'state', (SELECT t.state FROM sch_chameleon.t_tables t
                                          WHERE t.source_id = v_tbl.source_id AND t.mysql_schema = v_tbl.mysql_schema
                                            AND t.mysql_table = v_tbl.mysql_table)),
            now(), now())
    RETURNING command_id INTO v_id;
    RETURN v_id;
END
$$;
COMMENT ON FUNCTION sch_chameleon.fn_resume_quarantined(bigint, text) IS
'resolve_ddl''s catalogue part: marks the statement resolved and applies the events its table kept back';

-- Raises unless the DDL event exists and still holds its table in quarantine.
CREATE FUNCTION sch_chameleon.fn_check_quarantined(p_ev sch_chameleon.t_ddl_events, p_ddl_id bigint)
RETURNS void
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF p_ev.ddl_id IS NULL THEN
        RAISE EXCEPTION 'DDL event % does not exist', p_ddl_id
            USING ERRCODE = 'undefined_object', HINT = 'show_ddl() lists the DDL statements the replica met, quarantined ones first.';
    END IF;
    IF p_ev.state <> 'quarantined' THEN
        RAISE EXCEPTION 'DDL event % is %, not quarantined', p_ddl_id, p_ev.state
            USING ERRCODE = 'object_not_in_prerequisite_state';
    END IF;
    IF NOT EXISTS (SELECT 1 FROM sch_chameleon.t_tables t
                   WHERE t.source_id = p_ev.source_id AND t.mysql_schema = p_ev.mysql_schema AND t.mysql_table = p_ev.mysql_table
                     AND t.state = 'quarantined' AND (t.copy_file, t.copy_pos) = (p_ev.binlog_file, p_ev.binlog_pos)) THEN
        RAISE EXCEPTION 'DDL event % no longer holds %.%: the table was copied again or dropped since', p_ddl_id, p_ev.mysql_schema, p_ev.mysql_table
            USING ERRCODE = 'object_not_in_prerequisite_state';
    END IF;
END
$$;
COMMENT ON FUNCTION sch_chameleon.fn_check_quarantined(sch_chameleon.t_ddl_events, bigint) IS 'Raises unless a DDL event holds its table in quarantine';

-- The validation of resolve_ddl, as the catalogue's owner (the caller cannot read the catalogue).
CREATE FUNCTION sch_chameleon.fn_require_quarantined(p_ddl_id bigint)
RETURNS void
LANGUAGE plpgsql STABLE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_ev sch_chameleon.t_ddl_events;
BEGIN
    SELECT e.* INTO v_ev FROM sch_chameleon.t_ddl_events e WHERE e.ddl_id = p_ddl_id;
    PERFORM sch_chameleon.fn_check_quarantined(v_ev, p_ddl_id);
END
$$;
COMMENT ON FUNCTION sch_chameleon.fn_require_quarantined(bigint) IS 'resolve_ddl''s argument check: raises unless the DDL event is quarantined';

-- sql/60-control/10-add_source.sql
CREATE FUNCTION sch_chameleon.add_source(source text, mysql_url text, schema_mappings jsonb, options jsonb DEFAULT '{}')
RETURNS bigint
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_id      bigint;
    v_options jsonb;
BEGIN
    IF source IS NULL OR source !~ '^[A-Za-z_][A-Za-z0-9_]{0,62}$' THEN
        RAISE EXCEPTION 'invalid source name %', coalesce(quote_literal(source), 'NULL')
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'A source name starts with a letter or underscore and holds letters, digits and underscores (at most 63).';
    END IF;
    IF EXISTS (SELECT 1 FROM sch_chameleon.t_sources s WHERE s.source_name = source) THEN
        RAISE EXCEPTION 'source "%" already exists', source
            USING ERRCODE = 'duplicate_object', HINT = 'Use alter_source() to change it or drop_source() first.';
    END IF;
    IF mysql_url IS NULL OR mysql_url !~* '^(mysql|mariadb)://[^/?#]+(/[^?#]*)?(\?.*)?$' THEN
        -- never echo the URL: it may hold a password
        RAISE EXCEPTION 'mysql_url is not a MySQL connection URL'
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'Use mysql://user:password@host:port (the password percent-encoded).';
    END IF;
    PERFORM sch_chameleon.fn_validate_mappings(schema_mappings);
    v_options := sch_chameleon.fn_validate_options(coalesce(options, '{}'::jsonb));

    INSERT INTO sch_chameleon.t_sources (source_name, mysql_url, schema_mappings, options)
    VALUES (source, mysql_url, schema_mappings, v_options)
    RETURNING source_id INTO v_id;
    PERFORM sch_chameleon.fn_record_command(v_id, source, 'add_source',
        jsonb_build_object('schema_mappings', schema_mappings, 'options', coalesce(options, '{}'::jsonb)));
    RETURN v_id;
END
$$;
COMMENT ON FUNCTION sch_chameleon.add_source(text, text, jsonb, jsonb) IS
'Registers a MySQL source: add_source(source, mysql_url, {"mysql_db": "pg_schema"}, options). Returns the source id.';

-- sql/60-control/11-alter_source.sql
CREATE FUNCTION sch_chameleon.alter_source(source text, options jsonb)
RETURNS bigint
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_src sch_chameleon.t_sources := sch_chameleon.fn_source(source, true);
    v_new jsonb;
BEGIN
    PERFORM sch_chameleon.fn_require_idle(v_src, 'alter');
    v_new := sch_chameleon.fn_validate_options(options, v_src.options);
    UPDATE sch_chameleon.t_sources s SET options = v_new, updated_at = now() WHERE s.source_id = v_src.source_id;
    RETURN sch_chameleon.fn_record_command(v_src.source_id, v_src.source_name, 'alter_source', jsonb_build_object('options', options));
END
$$;
COMMENT ON FUNCTION sch_chameleon.alter_source(text, jsonb) IS
'Changes options of a stopped source; the given keys replace the current values.';

-- sql/60-control/12-update_schema_mappings.sql
CREATE FUNCTION sch_chameleon.update_schema_mappings(source text, schema_mappings jsonb)
RETURNS bigint
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_src sch_chameleon.t_sources := sch_chameleon.fn_source(source, true);
BEGIN
    PERFORM sch_chameleon.fn_require_idle(v_src, 'change the schema mappings of');
    PERFORM sch_chameleon.fn_validate_mappings(schema_mappings, v_src.source_id);
    -- tables of a database that is no longer mapped leave the catalogue;
    -- tables of a renamed target schema follow it
    DELETE FROM sch_chameleon.t_tables t
    WHERE t.source_id = v_src.source_id AND NOT schema_mappings ? t.mysql_schema;
    UPDATE sch_chameleon.t_tables t SET pg_schema = schema_mappings ->> t.mysql_schema, updated_at = now()
    WHERE t.source_id = v_src.source_id AND t.pg_schema IS DISTINCT FROM schema_mappings ->> t.mysql_schema;
    UPDATE sch_chameleon.t_sources s SET schema_mappings = update_schema_mappings.schema_mappings, updated_at = now()
    WHERE s.source_id = v_src.source_id;
    RETURN sch_chameleon.fn_record_command(v_src.source_id, v_src.source_name, 'update_schema_mappings',
        jsonb_build_object('schema_mappings', schema_mappings));
END
$$;
COMMENT ON FUNCTION sch_chameleon.update_schema_mappings(text, jsonb) IS
'Replaces the schema mappings of a stopped source; renamed PostgreSQL schemas must then be renamed or re-copied (init_replica).';

-- sql/60-control/13-drop_source.sql
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

-- sql/60-control/20-init_replica.sql
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

-- sql/60-control/25-refresh_schema.sql
CREATE FUNCTION sch_chameleon.refresh_schema(source text, mysql_schema text)
RETURNS bigint
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_src sch_chameleon.t_sources := sch_chameleon.fn_source(source, true);
BEGIN
    IF mysql_schema IS NULL OR NOT v_src.schema_mappings ? mysql_schema THEN
        RAISE EXCEPTION 'MySQL database % is not mapped by source "%"', coalesce(quote_ident(mysql_schema), 'NULL'), source
            USING ERRCODE = 'invalid_parameter_value',
                  DETAIL = 'Mapped databases: ' || (SELECT string_agg(quote_ident(k), ', ' ORDER BY k)
                                                     FROM jsonb_object_keys(v_src.schema_mappings) k) || '.',
                  HINT = 'Name a mapped database, or map it first with update_schema_mappings().';
    END IF;
    -- the re-copied tables join a replica that already has a position; a
    -- source never initialised has none (init_replica queued first is fine)
    PERFORM sch_chameleon.fn_require_initialised(v_src);
    RETURN sch_chameleon.fn_enqueue(v_src, 'refresh_schema', jsonb_build_object('mysql_schema', mysql_schema));
END
$$;
COMMENT ON FUNCTION sch_chameleon.refresh_schema(text, text) IS
'Queues a new copy of every table of one mapped MySQL database, while the replica keeps running; each table then replicates from its new copy. Returns the command id.';

-- sql/60-control/26-sync_tables.sql
CREATE FUNCTION sch_chameleon.sync_tables(source text, tables text[])
RETURNS bigint
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_src    sch_chameleon.t_sources := sch_chameleon.fn_source(source, true);
    v_name   text;
    v_db     text;
    v_tables text[] := '{}';
BEGIN
    IF tables IS NULL OR cardinality(tables) = 0 THEN
        RAISE EXCEPTION 'tables must name at least one table'
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'Pass ARRAY[''db.table'', ...], or ARRAY[''disabled''] for every excluded or failed table.';
    END IF;
    IF 'disabled' = ANY (tables) THEN
        IF cardinality(tables) > 1 THEN
            RAISE EXCEPTION '"disabled" must be the only element of tables'
                USING ERRCODE = 'invalid_parameter_value',
                      HINT = 'ARRAY[''disabled''] re-copies every excluded or failed table; name other tables in a second call.';
        END IF;
        v_tables := ARRAY['disabled'];
    ELSE
        FOREACH v_name IN ARRAY tables LOOP
            IF v_name IS NULL OR v_name !~ '^.+\..+$' THEN
                RAISE EXCEPTION 'tables: % is not a "db.table" name', coalesce(quote_literal(v_name), 'NULL')
                    USING ERRCODE = 'invalid_parameter_value';
            END IF;
            -- MySQL names may hold dots: the database is the longest mapped name the entry starts with
            SELECT k INTO v_db FROM jsonb_object_keys(v_src.schema_mappings) k
            WHERE length(v_name) > length(k) + 1 AND left(v_name, length(k) + 1) = k || '.'
            ORDER BY length(k) DESC LIMIT 1;
            IF v_db IS NULL THEN
                RAISE EXCEPTION 'tables: the database of "%" is not mapped by source "%"', v_name, source
                    USING ERRCODE = 'invalid_parameter_value',
                          DETAIL = 'Mapped databases: ' || (SELECT string_agg(quote_ident(k), ', ' ORDER BY k)
                                                             FROM jsonb_object_keys(v_src.schema_mappings) k) || '.',
                          HINT = 'Name tables as "mysql_db.table" with a mapped database.';
            END IF;
            IF NOT v_name = ANY (v_tables) THEN
                v_tables := v_tables || v_name;
            END IF;
        END LOOP;
    END IF;
    PERFORM sch_chameleon.fn_require_initialised(v_src);
    RETURN sch_chameleon.fn_enqueue(v_src, 'sync_tables', jsonb_build_object('tables', to_jsonb(v_tables)));
END
$$;
COMMENT ON FUNCTION sch_chameleon.sync_tables(text, text[]) IS
'Queues a new copy of the named "db.table"s (ARRAY[''disabled'']: every excluded or failed table), while the replica keeps running. Returns the command id.';

-- sql/60-control/30-start_replica.sql
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

-- sql/60-control/40-wait_command.sql
CREATE FUNCTION sch_chameleon.wait_command(command_id bigint, timeout interval DEFAULT '1 hour')
RETURNS TABLE (id bigint, source text, command text, args jsonb, state text, progress jsonb,
               error text, created_at timestamptz, started_at timestamptz, finished_at timestamptz)
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_deadline timestamptz := clock_timestamp() + timeout;
    v_cmd      sch_chameleon.t_commands;
    v_sleep    double precision := 0.02;
    v_xmin     bigint;
    v_top      bigint;
BEGIN
    IF command_id IS NULL THEN
        RAISE EXCEPTION 'command_id must not be null' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    IF timeout IS NULL OR timeout < interval '0' THEN
        RAISE EXCEPTION 'timeout must be a positive interval' USING ERRCODE = 'invalid_parameter_value';
    END IF;
    -- The agent cannot see a command before the transaction that made it
    -- commits. A row we see whose writer is still in progress is ours, also
    -- when written under a savepoint (psql's ON_ERROR_ROLLBACK, EXCEPTION
    -- blocks), where xmin is a subtransaction's xid, not the top-level one.
    v_top := pg_current_xact_id_if_assigned()::text::bigint;
    IF v_top IS NOT NULL THEN
        SELECT c.xmin::text::bigint INTO v_xmin
        FROM sch_chameleon.t_commands c WHERE c.command_id = wait_command.command_id AND c.state = 'pending';
        IF FOUND THEN
            -- xmin has 32 bits; every live xid is within 2^31 of ours, so the
            -- full one is the value of that residue nearest to ours
            v_xmin := ((v_top >> 32) << 32) + v_xmin;
            IF v_xmin > v_top + 2147483648 THEN
                v_xmin := v_xmin - 4294967296;
            ELSIF v_xmin < v_top - 2147483648 THEN
                v_xmin := v_xmin + 4294967296;
            END IF;
            IF pg_xact_status(v_xmin::text::xid8) = 'in progress' THEN
                RAISE EXCEPTION 'command % was issued in this transaction and cannot run before it commits', command_id
                    USING ERRCODE = 'object_not_in_prerequisite_state',
                          HINT = 'Commit, then call wait_command() in a new transaction.';
            END IF;
        END IF;
    END IF;
    LOOP
        SELECT * INTO v_cmd FROM sch_chameleon.t_commands c WHERE c.command_id = wait_command.command_id;
        IF NOT FOUND THEN
            RAISE EXCEPTION 'unknown command %', command_id
                USING ERRCODE = 'undefined_object', HINT = 'show_commands() lists the commands.';
        END IF;
        EXIT WHEN v_cmd.state IN ('done', 'failed', 'cancelled');
        IF clock_timestamp() >= v_deadline THEN
            RAISE EXCEPTION 'command % (%) still % after %', command_id, v_cmd.command, v_cmd.state, timeout
                USING ERRCODE = 'query_canceled',
                      HINT = CASE WHEN v_cmd.state = 'pending'
                                  THEN 'Is an agent running? Start one with: chameleon agent --pg URL'
                                  ELSE 'It goes on running; call wait_command() again.' END;
        END IF;
        PERFORM pg_sleep(least(v_sleep, greatest(extract(epoch FROM v_deadline - clock_timestamp()), 0)));
        -- a finished command is seen within 0.1 s: a caller chaining commands waits no longer than that
        v_sleep := least(v_sleep * 1.5, 0.1);
    END LOOP;
    IF v_cmd.state = 'failed' THEN
        RAISE EXCEPTION 'command % (%) failed: %', command_id, v_cmd.command, v_cmd.error
            USING ERRCODE = 'external_routine_exception', HINT = 'show_commands() and show_errors() have the details.';
    END IF;
    IF v_cmd.state = 'cancelled' THEN
        RAISE EXCEPTION 'command % (%) was cancelled%', command_id, v_cmd.command, coalesce(': ' || v_cmd.error, '')
            USING ERRCODE = 'query_canceled';
    END IF;
    RETURN QUERY SELECT v_cmd.command_id, v_cmd.source_name, v_cmd.command, v_cmd.args, v_cmd.state, v_cmd.progress,
                        v_cmd.error, v_cmd.created_at, v_cmd.started_at, v_cmd.finished_at;
END
$$;
COMMENT ON FUNCTION sch_chameleon.wait_command(bigint, interval) IS
'Blocks until a command finishes and returns its final row; raises if it failed, was cancelled or timed out.';

CREATE FUNCTION sch_chameleon.cancel_command(command_id bigint)
RETURNS text
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_cmd sch_chameleon.t_commands;
BEGIN
    SELECT * INTO v_cmd FROM sch_chameleon.t_commands c WHERE c.command_id = cancel_command.command_id FOR UPDATE;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'unknown command %', command_id USING ERRCODE = 'undefined_object';
    END IF;
    IF v_cmd.state = 'pending' THEN
        UPDATE sch_chameleon.t_commands c SET state = 'cancelled', finished_at = now(), error = 'cancelled by ' || session_user
        WHERE c.command_id = v_cmd.command_id;
        IF v_cmd.command = 'start_replica' THEN
            UPDATE sch_chameleon.t_sources s SET replica_enabled = false WHERE s.source_id = v_cmd.source_id;
        END IF;
        RETURN 'cancelled';
    ELSIF v_cmd.state = 'running' THEN
        UPDATE sch_chameleon.t_commands c SET cancel_requested = true WHERE c.command_id = v_cmd.command_id;
        PERFORM pg_notify('chameleon_commands', json_build_object('command_id', v_cmd.command_id, 'cancel', true)::text);
        RETURN 'cancel requested';
    END IF;
    RAISE EXCEPTION 'command % has already finished (%)', command_id, v_cmd.state
        USING ERRCODE = 'object_not_in_prerequisite_state';
END
$$;
COMMENT ON FUNCTION sch_chameleon.cancel_command(bigint) IS
'Cancels a pending command at once, or asks the agent to stop a running one at its next step.';

-- sql/60-control/50-wait_for_position.sql
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

-- sql/60-control/60-run_maintenance.sql
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

-- sql/60-control/70-detach_replica.sql
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

-- sql/60-control/75-cutover.sql
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

-- sql/60-control/80-resolve_ddl.sql
-- Not SECURITY DEFINER, on purpose: the operator's statement runs with the
-- caller's own privileges (and this function's fixed search_path, so its
-- names must be schema-qualified), in the caller's transaction together
-- with the table's return to the replica. If it fails, nothing changes and
-- the table stays quarantined. Transaction control cannot run inside it.
CREATE FUNCTION sch_chameleon.resolve_ddl(id bigint, postgres_sql text)
RETURNS bigint
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_msg    text;
    v_state  text;
BEGIN
    IF id IS NULL THEN
        RAISE EXCEPTION 'id must not be NULL' USING ERRCODE = 'null_value_not_allowed',
            HINT = 'Pass the ddl_id of a quarantined statement from show_ddl().';
    END IF;
    IF postgres_sql IS NULL THEN
        RAISE EXCEPTION 'postgres_sql must not be NULL' USING ERRCODE = 'null_value_not_allowed',
            HINT = 'Pass the PostgreSQL statement that does what the MySQL one did, or '''' when PostgreSQL needs no change.';
    END IF;
    PERFORM sch_chameleon.fn_require_quarantined(id);
    IF btrim(postgres_sql) <> '' THEN
        BEGIN
            EXECUTE postgres_sql;
        EXCEPTION WHEN others THEN
            GET STACKED DIAGNOSTICS v_state = RETURNED_SQLSTATE, v_msg = MESSAGE_TEXT;
            RAISE EXCEPTION 'resolve_ddl(%): the statement failed: %', id, v_msg
                USING ERRCODE = v_state,
                      HINT = 'Nothing was changed and the table stays quarantined. Names must be schema-qualified; the statement runs as you.';
        END;
    END IF;
    RETURN sch_chameleon.fn_resume_quarantined(id, postgres_sql);
END
$$;
COMMENT ON FUNCTION sch_chameleon.resolve_ddl(bigint, text) IS
'Runs an operator''s PostgreSQL statement in place of a quarantined MySQL DDL statement (show_ddl()), then lets its table replicate again with the events kept since; '''' resumes without a statement. Returns the id of the command row that records it.';

-- sql/60-control/85-verify.sql
-- The "db.table" names of a source's replicated tables among p_tables
-- (all of them when null), or an error naming the first that is not one.
CREATE FUNCTION sch_chameleon.fn_replicated_tables(p_src sch_chameleon.t_sources, p_tables text[])
RETURNS text[]
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_name  text;
    v_known text[];
    v_out   text[] := '{}';
BEGIN
    SELECT coalesce(array_agg(t.mysql_schema || '.' || t.mysql_table ORDER BY t.mysql_schema, t.mysql_table), '{}') INTO v_known
    FROM sch_chameleon.t_tables t
    WHERE t.source_id = p_src.source_id AND t.state IN ('copied', 'replicating');
    IF p_tables IS NULL THEN
        RETURN v_known;
    END IF;
    IF cardinality(p_tables) = 0 THEN
        RAISE EXCEPTION 'tables must name at least one table, or be NULL for all of them'
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    FOREACH v_name IN ARRAY p_tables LOOP
        IF v_name IS NULL OR NOT v_name = ANY (v_known) THEN
            RAISE EXCEPTION 'tables: % is not a replicated table of source "%"', coalesce(quote_literal(v_name), 'NULL'), p_src.source_name
                USING ERRCODE = 'invalid_parameter_value',
                      HINT = 'Name tables as "mysql_db.table"; show_tables(source) lists them (state copied or replicating).';
        END IF;
        IF NOT v_name = ANY (v_out) THEN
            v_out := v_out || v_name;
        END IF;
    END LOOP;
    RETURN v_out;
END
$$;
COMMENT ON FUNCTION sch_chameleon.fn_replicated_tables(sch_chameleon.t_sources, text[]) IS
'The replicated tables of a source among the names given (all when null); raises on a name that is not one';

CREATE FUNCTION sch_chameleon.verify(source text, tables text[] DEFAULT NULL)
RETURNS bigint
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_src    sch_chameleon.t_sources := sch_chameleon.fn_source(source, true);
    v_tables text[];
BEGIN
    PERFORM sch_chameleon.fn_require_initialised(v_src);
    v_tables := sch_chameleon.fn_replicated_tables(v_src, tables);
    IF cardinality(v_tables) = 0 THEN
        RAISE EXCEPTION 'source "%" has no replicated table to verify', source
            USING ERRCODE = 'object_not_in_prerequisite_state', HINT = 'Wait for its init_replica to finish.';
    END IF;
    RETURN sch_chameleon.fn_enqueue(v_src, 'verify', jsonb_build_object('tables', to_jsonb(v_tables)));
END
$$;
COMMENT ON FUNCTION sch_chameleon.verify(text, text[]) IS
'Queues an online comparison of MySQL and PostgreSQL, chunk by chunk of each table (all replicated tables when tables is null) while the replica runs; results in show_verify(source). Returns the command id.';

CREATE FUNCTION sch_chameleon.repair(source text, "table" text)
RETURNS bigint
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_src  sch_chameleon.t_sources := sch_chameleon.fn_source(source, true);
    v_name text;
    v_tbl  sch_chameleon.t_tables;
BEGIN
    PERFORM sch_chameleon.fn_require_initialised(v_src);
    v_name := (sch_chameleon.fn_replicated_tables(v_src, ARRAY["table"]))[1];
    SELECT t.* INTO v_tbl FROM sch_chameleon.t_tables t
    WHERE t.source_id = v_src.source_id AND t.mysql_schema || '.' || t.mysql_table = v_name;
    IF cardinality(v_tbl.pk_columns) = 0 THEN
        RAISE EXCEPTION 'table % has no primary key: a range of it cannot be repaired in place', v_name
            USING ERRCODE = 'object_not_in_prerequisite_state',
                  HINT = 'sync_tables(source, ARRAY[table]) copies it again whole.';
    END IF;
    IF NOT EXISTS (
        SELECT 1 FROM sch_chameleon.t_verify_chunks c
        WHERE c.source_id = v_src.source_id AND c.mysql_schema = v_tbl.mysql_schema AND c.mysql_table = v_tbl.mysql_table
          AND c.state = 'differs'
          AND c.command_id = (SELECT max(x.command_id) FROM sch_chameleon.t_verify_chunks x
                              WHERE x.source_id = c.source_id AND x.mysql_schema = c.mysql_schema AND x.mysql_table = c.mysql_table)) THEN
        RAISE EXCEPTION 'table % has no differing range to repair', v_name
            USING ERRCODE = 'object_not_in_prerequisite_state',
                  HINT = 'repair() copies the ranges the last verify() of the table found different: run verify(source, ARRAY[table]) first.';
    END IF;
    RETURN sch_chameleon.fn_enqueue(v_src, 'repair', jsonb_build_object('table', v_name));
END
$$;
COMMENT ON FUNCTION sch_chameleon.repair(text, text) IS
'Queues a new copy of only the ranges of a table that its last verify() found different, while the replica runs; then compares them again. Returns the command id.';

-- sql/70-status/10-show_sources.sql
CREATE FUNCTION sch_chameleon.show_sources()
RETURNS TABLE (source text, source_id bigint, mysql_url text, schema_mappings jsonb, options jsonb,
               status text, replica_enabled boolean, created_at timestamptz, updated_at timestamptz)
LANGUAGE sql STABLE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT s.source_name, s.source_id, sch_chameleon.fn_mask_url(s.mysql_url), s.schema_mappings, s.options,
           s.status, s.replica_enabled, s.created_at, s.updated_at
    FROM sch_chameleon.t_sources s
    ORDER BY s.source_name
$$;
COMMENT ON FUNCTION sch_chameleon.show_sources() IS 'The sources with their mappings and options (passwords hidden).';

-- sql/70-status/20-show_status.sql
CREATE FUNCTION sch_chameleon.show_status()
RETURNS TABLE (source text, status text, consistent boolean, owner text,
               read_lag interval, replay_lag interval,
               read_position text, replay_position text,
               last_received timestamptz, last_replayed timestamptz,
               pending_batches bigint, tables_replicated bigint, tables_excluded bigint,
               events_read bigint, events_applied bigint, events_skipped bigint, last_error text, warning text,
               last_maintenance timestamptz)
LANGUAGE sql STABLE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT s.source_name, s.status,
           -- consistent once the replay has passed every copied table's coordinates
           s.replay_file IS NOT NULL AND NOT EXISTS (
               SELECT 1 FROM sch_chameleon.t_tables t
               WHERE t.source_id = s.source_id AND t.copy_file IS NOT NULL AND t.state <> 'excluded'
                 AND NOT sch_chameleon.fn_position_reached(s.replay_file, s.replay_pos, t.copy_file, t.copy_pos)),
           sch_chameleon.fn_live_owner(s.source_id),
           r.read_lag,
           CASE WHEN b.pending = 0 THEN r.read_lag ELSE now() - b.oldest_event END,
           (SELECT sch_chameleon.fn_position_text(rp.file, rp.pos, rp.gtid) FROM sch_chameleon.fn_read_position(s.source_id) rp),
           sch_chameleon.fn_position_text(s.replay_file, s.replay_pos, s.replay_gtid),
           rs.read_at, s.last_replayed_at,
           b.pending,
           (SELECT count(*) FROM sch_chameleon.t_tables t WHERE t.source_id = s.source_id AND t.state IN ('copied', 'replicating')),
           -- quarantined at a DDL statement too: not replicating until resolve_ddl or sync_tables
           (SELECT count(*) FROM sch_chameleon.t_tables t WHERE t.source_id = s.source_id AND t.state IN ('excluded', 'failed', 'quarantined')),
           s.events_read + b.pending_events, s.events_applied, s.events_skipped, s.last_error, s.warning,
           s.last_maintenance_at
    FROM sch_chameleon.t_sources s
    -- the newest batch: the reader's last write
    LEFT JOIN LATERAL (
        SELECT x.created_at, x.last_event_at
        FROM sch_chameleon.t_batches x WHERE x.source_id = s.source_id
        ORDER BY x.batch_id DESC LIMIT 1) lb ON true
    -- when the reader last wrote a batch or, idle, stamped the source
    CROSS JOIN LATERAL (
        SELECT greatest(s.last_read_at, lb.created_at) AS read_at,
               CASE WHEN lb.created_at IS NOT NULL AND (s.last_read_at IS NULL OR lb.created_at >= s.last_read_at)
                    THEN coalesce(lb.last_event_at, lb.created_at) ELSE s.last_read_event_at END AS read_event_at) rs
    -- the reader stamps last_read_at on every batch and, when the binlog is
    -- idle, every sleep_loop: a fresh stamp means caught up, so an idle
    -- source shows no lag; a stale one (reader stuck or gone) makes it grow
    CROSS JOIN LATERAL (
        SELECT CASE
                 WHEN rs.read_at IS NULL OR NOT s.replica_enabled THEN NULL
                 WHEN now() - rs.read_at <= greatest(interval '5 seconds',
                          make_interval(secs => 2 * coalesce((s.options ->> 'sleep_loop')::float8, 1)))
                   THEN greatest(rs.read_at - coalesce(rs.read_event_at, rs.read_at), interval '0')
                 ELSE now() - coalesce(rs.read_event_at, rs.read_at)
               END AS read_lag) r
    CROSS JOIN LATERAL (
        SELECT count(*) AS pending, coalesce(sum(x.events), 0) AS pending_events,
               min(coalesce(x.first_event_at, x.created_at)) AS oldest_event
        FROM sch_chameleon.t_batches x
        WHERE x.source_id = s.source_id AND x.applied_at IS NULL) b
    ORDER BY s.source_name
$$;
COMMENT ON FUNCTION sch_chameleon.show_status() IS
'One row per source: status, consistency, owner agent, read and replay lag, positions, counters and the last error.';

-- sql/70-status/30-show_commands.sql
CREATE FUNCTION sch_chameleon.show_commands()
RETURNS TABLE (id bigint, source text, command text, args jsonb, state text, progress jsonb, error text,
               created_at timestamptz, started_at timestamptz, finished_at timestamptz,
               agent text, attempts integer, created_by name)
LANGUAGE sql STABLE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT c.command_id, c.source_name, c.command, c.args, c.state, c.progress, c.error,
           c.created_at, c.started_at, c.finished_at, c.agent_id, c.attempts, c.created_by
    FROM sch_chameleon.t_commands c
    ORDER BY c.command_id
$$;
COMMENT ON FUNCTION sch_chameleon.show_commands() IS 'The command queue and its history: state, progress and error of every command.';

-- sql/70-status/40-show_tables.sql
CREATE FUNCTION sch_chameleon.show_tables(source text)
RETURNS TABLE (mysql_schema text, mysql_table text, pg_schema text, pg_table text, state text,
               primary_key text[], rows_copied bigint, rows_estimate bigint, bytes_copied bigint,
               copy_position text, copy_started_at timestamptz, copy_finished_at timestamptz,
               events_applied bigint, reason text)
LANGUAGE plpgsql STABLE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    -- looked up before the scan: in a WHERE clause it would never run while
    -- t_tables is empty, and an unknown source would show as no tables
    v_source_id bigint := (sch_chameleon.fn_source(show_tables.source)).source_id;
BEGIN
    RETURN QUERY
    SELECT t.mysql_schema, t.mysql_table, t.pg_schema, t.pg_table, t.state, t.pk_columns,
           t.rows_copied, t.rows_estimate, t.bytes_copied,
           sch_chameleon.fn_position_text(t.copy_file, t.copy_pos, t.copy_gtid),
           t.copy_started_at, t.copy_finished_at, t.events_applied, t.reason
    FROM sch_chameleon.t_tables t
    WHERE t.source_id = v_source_id
    ORDER BY t.mysql_schema, t.mysql_table;
END
$$;
COMMENT ON FUNCTION sch_chameleon.show_tables(text) IS
'Per-table state of a source: target, key, rows and bytes copied, estimate, copy coordinates, events applied.';

-- sql/70-status/50-show_errors.sql
CREATE FUNCTION sch_chameleon.show_errors()
RETURNS TABLE (error_id bigint, source text, mysql_schema text, mysql_table text, binlog_position text,
               statement text, row_image jsonb, sqlstate text, message text, created_at timestamptz)
LANGUAGE sql STABLE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT e.error_id, s.source_name, e.mysql_schema, e.mysql_table,
           sch_chameleon.fn_position_text(e.binlog_file, e.binlog_pos, NULL),
           e.statement, e.row_image, e.sqlstate, e.message, e.created_at
    FROM sch_chameleon.t_errors e
    LEFT JOIN sch_chameleon.t_sources s ON s.source_id = e.source_id
    ORDER BY e.error_id
$$;
COMMENT ON FUNCTION sch_chameleon.show_errors() IS 'Replay errors per table, with the statement and the row that failed.';

CREATE FUNCTION sch_chameleon.show_discarded_rows()
RETURNS TABLE (discarded_id bigint, source text, mysql_schema text, mysql_table text, origin text,
               row_image jsonb, reason text, created_at timestamptz)
LANGUAGE sql STABLE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT d.discarded_id, s.source_name, d.mysql_schema, d.mysql_table, d.origin, d.row_image, d.reason, d.created_at
    FROM sch_chameleon.t_discarded_rows d
    LEFT JOIN sch_chameleon.t_sources s ON s.source_id = d.source_id
    ORDER BY d.discarded_id
$$;
COMMENT ON FUNCTION sch_chameleon.show_discarded_rows() IS 'Source rows PostgreSQL could not hold, with the reason.';

-- sql/70-status/60-show_ddl.sql
CREATE FUNCTION sch_chameleon.show_ddl(source text DEFAULT NULL)
RETURNS TABLE (ddl_id bigint, source text, mysql_schema text, mysql_table text, binlog_position text, state text,
               mysql_ddl text, postgres_sql text, notes jsonb, error text, resolved_sql text, resolved_by name,
               created_at timestamptz, resolved_at timestamptz)
LANGUAGE sql STABLE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT e.ddl_id, s.source_name, e.mysql_schema, e.mysql_table,
           sch_chameleon.fn_position_text(e.binlog_file, e.binlog_pos, NULL), e.state, e.mysql_ddl,
           (SELECT string_agg(CASE WHEN jsonb_typeof(st) = 'string' THEN st #>> '{}' ELSE 'drop the primary key' END, E';\n')
              FROM jsonb_array_elements(e.plan -> 'steps') st),
           e.plan -> 'notes', e.error, e.resolved_sql, e.resolved_by, e.created_at, e.resolved_at
    -- a source named is one that exists: a typo is an error, not an empty list
    FROM (SELECT CASE WHEN show_ddl.source IS NULL THEN NULL
                      ELSE (sch_chameleon.fn_source(show_ddl.source, false)).source_id END AS id) f
    JOIN sch_chameleon.t_ddl_events e ON f.id IS NULL OR e.source_id = f.id
    JOIN sch_chameleon.t_sources s ON s.source_id = e.source_id
    ORDER BY e.state <> 'quarantined', e.ddl_id
$$;
COMMENT ON FUNCTION sch_chameleon.show_ddl(text) IS
'The MySQL DDL statements the replica met, quarantined ones first: the translation it ran (format() templates), notes, and errors.';

-- sql/70-status/70-show_verify.sql
CREATE FUNCTION sch_chameleon.show_verify(source text)
RETURNS TABLE (mysql_schema text, mysql_table text, command_id bigint, command text, state text,
               chunks integer, chunks_differing integer, mysql_rows bigint, pg_rows bigint, rows_differing bigint,
               differing_ranges jsonb, checked_at timestamptz)
LANGUAGE plpgsql STABLE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_src sch_chameleon.t_sources := sch_chameleon.fn_source(source, false);
BEGIN
    RETURN QUERY
    WITH latest AS (
        SELECT c.mysql_schema, c.mysql_table, max(c.command_id) AS command_id
        FROM sch_chameleon.t_verify_chunks c WHERE c.source_id = v_src.source_id
        GROUP BY c.mysql_schema, c.mysql_table
    )
    SELECT l.mysql_schema::text, l.mysql_table::text, l.command_id, cmd.command,
           CASE WHEN bool_or(c.state = 'error') THEN 'error'
                WHEN bool_or(c.state = 'differs') THEN 'differs'
                WHEN bool_or(c.state = 'repaired') THEN 'repaired'
                ELSE 'same' END,
           count(*)::integer, (count(*) FILTER (WHERE c.state IN ('differs', 'error')))::integer,
           sum(c.mysql_rows)::bigint, sum(c.pg_rows)::bigint, sum(c.differing)::bigint,
           coalesce(jsonb_agg(jsonb_build_object('chunk', c.chunk_no, 'key', c.key_column, 'from', c.range_from, 'to', c.range_to,
                                                 'differing', c.differing, 'keys', c.differing_keys, 'state', c.state, 'error', c.error)
                              ORDER BY c.chunk_no) FILTER (WHERE c.state <> 'same'), '[]'),
           max(c.checked_at)
    FROM latest l
    JOIN sch_chameleon.t_verify_chunks c
      ON c.command_id = l.command_id AND c.mysql_schema = l.mysql_schema AND c.mysql_table = l.mysql_table
    LEFT JOIN sch_chameleon.t_commands cmd ON cmd.command_id = l.command_id
    GROUP BY l.mysql_schema, l.mysql_table, l.command_id, cmd.command
    ORDER BY l.mysql_schema, l.mysql_table;
END
$$;
COMMENT ON FUNCTION sch_chameleon.show_verify(text) IS
'Per table of a source, the last verify() or repair(): chunks compared, rows on each side, the ranges that differ with their first differing keys.';

-- sql/90-grants.sql
-- The one place that says who may do what. Functions are executable by
-- PUBLIC by default: that is revoked for everything in the schema.
REVOKE ALL ON ALL TABLES IN SCHEMA sch_chameleon FROM PUBLIC;
REVOKE ALL ON ALL SEQUENCES IN SCHEMA sch_chameleon FROM PUBLIC;
REVOKE ALL ON ALL FUNCTIONS IN SCHEMA sch_chameleon FROM PUBLIC;

GRANT USAGE ON SCHEMA sch_chameleon TO chameleon_monitor, chameleon_admin;

GRANT EXECUTE ON FUNCTION
    sch_chameleon.show_status(),
    sch_chameleon.show_sources(),
    sch_chameleon.show_commands(),
    sch_chameleon.show_tables(text),
    sch_chameleon.show_errors(),
    sch_chameleon.show_discarded_rows(),
    sch_chameleon.show_ddl(text),
    sch_chameleon.show_verify(text)
TO chameleon_monitor;

GRANT EXECUTE ON FUNCTION
    sch_chameleon.add_source(text, text, jsonb, jsonb),
    sch_chameleon.alter_source(text, jsonb),
    sch_chameleon.update_schema_mappings(text, jsonb),
    sch_chameleon.drop_source(text),
    sch_chameleon.init_replica(text),
    sch_chameleon.copy_schema(text),
    sch_chameleon.refresh_schema(text, text),
    sch_chameleon.sync_tables(text, text[]),
    sch_chameleon.start_replica(text),
    sch_chameleon.stop_replica(text),
    sch_chameleon.stop_all_replicas(),
    sch_chameleon.enable_replica(text),
    sch_chameleon.wait_command(bigint, interval),
    sch_chameleon.cancel_command(bigint),
    sch_chameleon.wait_for_position(text, text, interval),
    sch_chameleon.run_maintenance(text, boolean),
    sch_chameleon.detach_replica(text),
    sch_chameleon.cutover(text, interval),
    sch_chameleon.verify(text, text[]),
    sch_chameleon.repair(text, text),
    sch_chameleon.resolve_ddl(bigint, text),
    -- resolve_ddl runs as its caller and calls these two for the catalogue's part
    sch_chameleon.fn_require_quarantined(bigint),
    sch_chameleon.fn_resume_quarantined(bigint, text)
TO chameleon_admin;

-- sql/95-extension/10-config-dump.sql
-- Extension builds only: pg_dump keeps what operators configured.
SELECT pg_catalog.pg_extension_config_dump('sch_chameleon.t_sources', '');
SELECT pg_catalog.pg_extension_config_dump('sch_chameleon.t_tables', '');
SELECT pg_catalog.pg_extension_config_dump('sch_chameleon.t_commands', '');
SELECT pg_catalog.pg_extension_config_dump('sch_chameleon.t_version', '');

INSERT INTO sch_chameleon.t_version (version) VALUES ('0.3.0');
