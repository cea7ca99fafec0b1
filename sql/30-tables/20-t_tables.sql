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
