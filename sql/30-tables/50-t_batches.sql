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
