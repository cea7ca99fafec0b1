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
