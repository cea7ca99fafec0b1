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
