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
