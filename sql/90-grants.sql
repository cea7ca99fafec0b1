-- The one place that says who may do what. Functions are executable by
-- PUBLIC by default: that is revoked for everything in the schema.
REVOKE ALL ON ALL TABLES IN SCHEMA sch_chameleon FROM PUBLIC;
REVOKE ALL ON ALL SEQUENCES IN SCHEMA sch_chameleon FROM PUBLIC;
REVOKE ALL ON ALL FUNCTIONS IN SCHEMA sch_chameleon FROM PUBLIC;

GRANT USAGE ON SCHEMA sch_chameleon TO chameleon_monitor, chameleon_admin;

GRANT EXECUTE ON FUNCTION
    sch_chameleon.show_status(),
    sch_chameleon.show_sources(),
    sch_chameleon.show_commands(),
    sch_chameleon.show_tables(text),
    sch_chameleon.show_errors(),
    sch_chameleon.show_discarded_rows(),
    sch_chameleon.show_ddl(text),
    sch_chameleon.show_verify(text)
TO chameleon_monitor;

GRANT EXECUTE ON FUNCTION
    sch_chameleon.add_source(text, text, jsonb, jsonb),
    sch_chameleon.alter_source(text, jsonb),
    sch_chameleon.update_schema_mappings(text, jsonb),
    sch_chameleon.drop_source(text),
    sch_chameleon.init_replica(text),
    sch_chameleon.copy_schema(text),
    sch_chameleon.refresh_schema(text, text),
    sch_chameleon.sync_tables(text, text[]),
    sch_chameleon.start_replica(text),
    sch_chameleon.stop_replica(text),
    sch_chameleon.stop_all_replicas(),
    sch_chameleon.enable_replica(text),
    sch_chameleon.wait_command(bigint, interval),
    sch_chameleon.cancel_command(bigint),
    sch_chameleon.wait_for_position(text, text, interval),
    sch_chameleon.run_maintenance(text, boolean),
    sch_chameleon.detach_replica(text),
    sch_chameleon.cutover(text, interval),
    sch_chameleon.verify(text, text[]),
    sch_chameleon.repair(text, text),
    sch_chameleon.resolve_ddl(bigint, text),
    -- resolve_ddl runs as its caller and calls these two for the catalogue's part
    sch_chameleon.fn_require_quarantined(bigint),
    sch_chameleon.fn_resume_quarantined(bigint, text)
TO chameleon_admin;
