CREATE TABLE sch_chameleon.t_version (
    version      text        NOT NULL PRIMARY KEY,
    installed_at timestamptz NOT NULL DEFAULT pg_catalog.now()
);
COMMENT ON TABLE sch_chameleon.t_version IS 'Catalogue versions installed or upgraded to, newest last';
