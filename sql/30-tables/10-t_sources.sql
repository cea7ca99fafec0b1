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
