-- The whole catalogue lives in one schema; nothing in it is reachable by PUBLIC.
CREATE SCHEMA sch_chameleon;
REVOKE ALL ON SCHEMA sch_chameleon FROM PUBLIC;
COMMENT ON SCHEMA sch_chameleon IS 'pg_chameleon: MySQL/MariaDB to PostgreSQL replica controlled from SQL';
