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
