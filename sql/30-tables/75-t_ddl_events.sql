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
