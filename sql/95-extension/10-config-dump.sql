-- Extension builds only: pg_dump keeps what operators configured.
SELECT pg_catalog.pg_extension_config_dump('sch_chameleon.t_sources', '');
SELECT pg_catalog.pg_extension_config_dump('sch_chameleon.t_tables', '');
SELECT pg_catalog.pg_extension_config_dump('sch_chameleon.t_commands', '');
SELECT pg_catalog.pg_extension_config_dump('sch_chameleon.t_version', '');
