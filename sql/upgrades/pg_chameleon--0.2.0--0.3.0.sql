\echo Use "ALTER EXTENSION pg_chameleon UPDATE" to load this file. \quit

-- 0.3.0: log rows no longer carry their event's commit time (nothing read
-- it; batches keep their first and last), and the decoder applies each
-- table's net effect with one MERGE. Statements cached with the older form
-- are built again at their next use. run_maintenance(), and the time of a
-- source's last maintenance (auto_maintenance counts from it).

ALTER TABLE sch_chameleon.t_log_events DROP COLUMN event_at;
ALTER TABLE sch_chameleon.t_sources ADD COLUMN last_maintenance_at timestamptz;
-- detach_replica: a source's tables left as a standalone database
ALTER TABLE sch_chameleon.t_sources DROP CONSTRAINT t_sources_status_check,
    ADD CONSTRAINT t_sources_status_check CHECK (status IN ('ready', 'initialising', 'initialised', 'starting',
                                                            'running', 'stopped', 'error', 'detached'));

-- Builds, once per table and replay call, the statements the decoder runs.
-- Every statement reads the log rows of one table in a range of one batch:
--   $1 batch, $2/$3 first and last event, $4 the table's number in the
--   batch, $5/$6 the table's copy coordinates (events of transactions
--   committed at or before them are already in the copy and are left out).
CREATE OR REPLACE FUNCTION sch_chameleon.fn_decoder_statements(p_schema text, p_table text, p_pk text[])
RETURNS jsonb
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_rel      regclass;
    v_cols     text[];
    v_target   text := format('%I.%I', p_schema, p_table);
    v_filter   text := 'l.batch_id = $1 AND l.table_no = $4 AND l.event_seq BETWEEN $2 AND $3'
                       ' AND l.kind <> ''ddl'' AND ($5::text IS NULL OR (l.tx_file, l.tx_pos) > ($5::text, $6::bigint))';
    v_list     text;
    v_rlist    text;
    v_set      text;
    v_keys     text;
    v_pkmatch  text;
    v_nkeys    bigint;
    v_kacols   text;
    v_kbs      text;
    v_kas      text;
    v_kbask    text;
    v_ks       text;
    v_on       text;
    v_scols    text;
    v_svals    text;
    v_sset     text;
    v_rowmatch text;
    v_result   jsonb;
BEGIN
    v_rel := to_regclass(v_target);
    IF v_rel IS NULL THEN
        RAISE EXCEPTION 'target table %.% does not exist', p_schema, p_table USING ERRCODE = 'undefined_table';
    END IF;
    -- generated columns are computed by PostgreSQL itself
    SELECT array_agg(a.attname::text ORDER BY a.attnum) INTO v_cols
    FROM pg_attribute a
    WHERE a.attrelid = v_rel AND a.attnum > 0 AND NOT a.attisdropped AND a.attgenerated = '';

    SELECT string_agg(format('%I', c), ', '), string_agg(format('r.%I', c), ', '),
           string_agg(format('%I = s.%I', c, c), ', ')
    INTO v_list, v_rlist, v_set
    FROM unnest(v_cols) c;

    -- one event at a time, in order
    v_result := jsonb_build_object(
        'insert_one', format(
            'INSERT INTO %s (%s) OVERRIDING SYSTEM VALUE SELECT %s'
            ' FROM sch_chameleon.t_log_events l CROSS JOIN LATERAL jsonb_populate_record(NULL::%s, l.row_after) r'
            ' WHERE %s AND l.kind IN (''insert'', ''update'') ORDER BY l.event_seq',
            v_target, v_list, v_rlist, v_target, v_filter));

    IF cardinality(p_pk) > 0 THEN
        SELECT string_agg(format('r.%I', k), ', '),
               string_agg(format('t.%I = s.%I', k, k), ' AND ')
        INTO v_keys, v_pkmatch
        FROM unnest(p_pk) k;
        -- The net statement groups events by key values of the key columns'
        -- own types (what the target stores), not by jsonb: sorting typed
        -- values costs a fraction of sorting jsonb arrays.
        SELECT count(a.attname),
               string_agg(format('(l.row_before ->> %L)::%s', k.name, format_type(a.atttypid, a.atttypmod)), ', ' ORDER BY k.n),
               string_agg(format('(l.row_after ->> %L)::%s', k.name, format_type(a.atttypid, a.atttypmod)), ', ' ORDER BY k.n),
               string_agg(format('(l.row_before ->> %L)::%s AS k%s', k.name, format_type(a.atttypid, a.atttypmod), k.n), ', ' ORDER BY k.n),
               string_agg(format('(l.row_after ->> %L)::%s', k.name, format_type(a.atttypid, a.atttypmod)), ', ' ORDER BY k.n),
               string_agg(format('a.k%s', k.n), ', ' ORDER BY k.n),
               string_agg(format('t.%I = s.k%s', k.name, k.n), ' AND ' ORDER BY k.n)
        INTO v_nkeys, v_kbs, v_kas, v_kbask, v_kacols, v_ks, v_on
        FROM unnest(p_pk) WITH ORDINALITY AS k(name, n)
        LEFT JOIN pg_attribute a ON a.attrelid = v_rel AND a.attname = k.name AND a.attnum > 0 AND NOT a.attisdropped;
        IF v_nkeys <> cardinality(p_pk) THEN
            RAISE EXCEPTION 'target table %.% lacks a key column of %', p_schema, p_table, p_pk USING ERRCODE = 'undefined_column';
        END IF;
        -- the source of the MERGE names the image's columns c1, c2, ... and its key k1, k2, ...:
        -- names of ours, which no column of the table can collide with
        SELECT string_agg(format('r.%I AS c%s', c.name, c.n), ', ' ORDER BY c.n),
               string_agg(format('s.c%s', c.n), ', ' ORDER BY c.n),
               string_agg(format('%I = s.c%s', c.name, c.n), ', ' ORDER BY c.n) FILTER (WHERE c.name <> ALL (p_pk))
        INTO v_scols, v_svals, v_sset
        FROM unnest(v_cols) WITH ORDINALITY AS c(name, n);
        v_result := v_result || jsonb_build_object(
            'delete_one', format(
                'DELETE FROM %s t USING (SELECT %s FROM sch_chameleon.t_log_events l'
                ' CROSS JOIN LATERAL jsonb_populate_record(NULL::%s, l.row_before) r'
                ' WHERE %s AND l.kind IN (''update'', ''delete'')) s WHERE %s',
                v_target, v_keys, v_target, v_filter, v_pkmatch),
            -- The net effect of a range: every key ends deleted or holding the
            -- after image of its last event; the events of a batch commit
            -- together, so only that final state is ever visible. One
            -- statement per table and batch, however the events interleave:
            -- each event gives its key's end (a delete, or a key-changing
            -- update, ends the old key; an insert or update sets the new one),
            -- the last one per key wins, and one MERGE applies them.
            'net', format(
                'MERGE INTO %s AS t USING ('
                ' SELECT f.*, f.img IS NULL AS gone, %s'
                ' FROM (SELECT DISTINCT ON (%s) %s, a.img FROM sch_chameleon.t_log_events l'
                '       CROSS JOIN LATERAL (SELECT %s, 0 AS sub, NULL::jsonb AS img'
                '                            WHERE l.kind = ''delete'' OR (l.kind = ''update'' AND (%s) IS DISTINCT FROM (%s))'
                '                           UNION ALL'
                '                           SELECT %s, 1, l.row_after WHERE l.kind IN (''insert'', ''update'')) a'
                '       WHERE %s ORDER BY %s, l.event_seq DESC, a.sub DESC) f'
                ' LEFT JOIN LATERAL jsonb_populate_record(NULL::%s, f.img) r ON true) s'
                ' ON %s'
                ' WHEN MATCHED AND s.gone THEN DELETE'
                ' WHEN MATCHED THEN %s'
                ' WHEN NOT MATCHED AND NOT s.gone THEN INSERT (%s) OVERRIDING SYSTEM VALUE VALUES (%s)',
                v_target, v_scols,
                v_ks, v_ks,
                v_kbask, v_kbs, v_kas,
                v_kacols,
                v_filter, v_ks,
                v_target,
                v_on,
                CASE WHEN v_sset IS NULL THEN 'DO NOTHING' ELSE 'UPDATE SET ' || v_sset END,
                v_list, v_svals));
    ELSE
        -- no key: a row is identified by all its values, one matching row per event
        SELECT string_agg(format('t2.%I', c), ', ') INTO v_rowmatch FROM unnest(v_cols) c;
        v_rowmatch := format('ROW(%s)::text = ROW(%s)::text', v_rowmatch,
                             (SELECT string_agg(format('b.%I', c), ', ') FROM unnest(v_cols) c));
        v_result := v_result || jsonb_build_object(
            'insert_run', format(
                'INSERT INTO %s (%s) OVERRIDING SYSTEM VALUE SELECT %s'
                ' FROM sch_chameleon.t_log_events l CROSS JOIN LATERAL jsonb_populate_record(NULL::%s, l.row_after) r'
                ' WHERE %s AND l.kind = ''insert'' ORDER BY l.event_seq',
                v_target, v_list, v_rlist, v_target, v_filter),
            'delete_row', format(
                'DELETE FROM %s t WHERE t.ctid = (SELECT t2.ctid FROM %s t2, (SELECT r.* FROM sch_chameleon.t_log_events l'
                ' CROSS JOIN LATERAL jsonb_populate_record(NULL::%s, l.row_before) r WHERE %s) b WHERE %s LIMIT 1)',
                v_target, v_target, v_target, v_filter, v_rowmatch),
            'update_row', format(
                'UPDATE %s t SET %s FROM (SELECT r.* FROM sch_chameleon.t_log_events l'
                ' CROSS JOIN LATERAL jsonb_populate_record(NULL::%s, l.row_after) r WHERE %s) s'
                ' WHERE t.ctid = (SELECT t2.ctid FROM %s t2, (SELECT r.* FROM sch_chameleon.t_log_events l'
                ' CROSS JOIN LATERAL jsonb_populate_record(NULL::%s, l.row_before) r WHERE %s) b WHERE %s LIMIT 1)',
                v_target, v_set, v_target, v_filter, v_target, v_target, v_filter, v_rowmatch));
    END IF;
    RETURN v_result;
END
$$;
COMMENT ON FUNCTION sch_chameleon.fn_decoder_statements(text, text, text[]) IS
'The decoder''s statements for one target table: net effect per key, one event at a time, whole-row identity';

UPDATE sch_chameleon.t_tables SET decoder_statements = NULL WHERE decoder_statements IS NOT NULL;

-- VACUUM cannot run in a function (nor in any transaction): the agent runs it.
CREATE FUNCTION sch_chameleon.run_maintenance(source text, "full" boolean DEFAULT false)
RETURNS bigint
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_src sch_chameleon.t_sources := sch_chameleon.fn_source(source, true);
BEGIN
    IF "full" IS NULL THEN
        RAISE EXCEPTION 'argument "full" must be true or false, not NULL'
            USING ERRCODE = 'null_value_not_allowed',
                  HINT = 'false vacuums the log while the replica goes on; true rewrites it, locking out every source''s replica meanwhile.';
    END IF;
    RETURN sch_chameleon.fn_enqueue(v_src, 'run_maintenance', jsonb_build_object('full', "full"));
END
$$;
COMMENT ON FUNCTION sch_chameleon.run_maintenance(text, boolean) IS
'Prunes the source''s applied batches past batch_retention and vacuums the log and batch tables (VACUUM FULL when full); returns the command id.';
REVOKE ALL ON FUNCTION sch_chameleon.run_maintenance(text, boolean) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION sch_chameleon.run_maintenance(text, boolean) TO chameleon_admin;

-- A detached source's tables are a standalone database: nothing copies into them or replicates them again.
CREATE FUNCTION sch_chameleon.fn_require_attached(p_source sch_chameleon.t_sources)
RETURNS void
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF p_source.status = 'detached' THEN
        RAISE EXCEPTION 'source "%" was detached: its tables are a standalone database now', p_source.source_name
            USING ERRCODE = 'object_not_in_prerequisite_state',
                  HINT = 'add_source() registers a source anew, into other schemas.';
    END IF;
END
$$;
COMMENT ON FUNCTION sch_chameleon.fn_require_attached(sch_chameleon.t_sources) IS 'Raises if the source was detached';

CREATE OR REPLACE FUNCTION sch_chameleon.fn_require_initialised(p_source sch_chameleon.t_sources)
RETURNS void
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    PERFORM sch_chameleon.fn_require_attached(p_source);
    IF p_source.read_file IS NULL AND NOT EXISTS (
        SELECT 1 FROM sch_chameleon.t_commands c
        WHERE c.source_id = p_source.source_id AND c.command = 'init_replica' AND c.state IN ('pending', 'running')) THEN
        RAISE EXCEPTION 'source "%" has not been initialised', p_source.source_name
            USING ERRCODE = 'object_not_in_prerequisite_state',
                  HINT = format('Run SELECT sch_chameleon.init_replica(%L) first.', p_source.source_name);
    END IF;
END
$$;
COMMENT ON FUNCTION sch_chameleon.fn_require_initialised(sch_chameleon.t_sources) IS 'Raises unless the source was initialised or has an init_replica queued';

CREATE OR REPLACE FUNCTION sch_chameleon.init_replica(source text)
RETURNS bigint
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_src sch_chameleon.t_sources := sch_chameleon.fn_source(source, true);
BEGIN
    PERFORM sch_chameleon.fn_require_attached(v_src);
    IF v_src.replica_enabled THEN
        RAISE EXCEPTION 'cannot init_replica source "%" while its replica is running', source
            USING ERRCODE = 'object_not_in_prerequisite_state',
                  HINT = format('Run SELECT sch_chameleon.stop_replica(%L) first.', source);
    END IF;
    RETURN sch_chameleon.fn_enqueue(v_src, 'init_replica');
END
$$;
COMMENT ON FUNCTION sch_chameleon.init_replica(text) IS
'Queues a snapshot copy of every mapped schema; the source is then ready to replicate. Returns the command id.';

CREATE OR REPLACE FUNCTION sch_chameleon.copy_schema(source text)
RETURNS bigint
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_src sch_chameleon.t_sources := sch_chameleon.fn_source(source, true);
BEGIN
    PERFORM sch_chameleon.fn_require_attached(v_src);
    IF v_src.replica_enabled THEN
        RAISE EXCEPTION 'cannot copy_schema source "%" while its replica is running', source
            USING ERRCODE = 'object_not_in_prerequisite_state',
                  HINT = format('Run SELECT sch_chameleon.stop_replica(%L) first.', source);
    END IF;
    -- A source with copied tables has a replica position that matches their
    -- rows: empty tables (or the old rows under new copy coordinates) would
    -- leave the replica silently short of data.
    IF v_src.read_file IS NOT NULL THEN
        RAISE EXCEPTION 'cannot copy_schema source "%": its tables hold copied data (status %)', source, v_src.status
            USING ERRCODE = 'object_not_in_prerequisite_state',
                  DETAIL = 'copy_schema creates empty tables; on a source already copied it would replace or keep rows that no longer match its replica position.',
                  HINT = format('To copy the tables again with their data, run SELECT sch_chameleon.init_replica(%L); for some tables, sync_tables.', source);
    END IF;
    RETURN sch_chameleon.fn_enqueue(v_src, 'copy_schema');
END
$$;
COMMENT ON FUNCTION sch_chameleon.copy_schema(text) IS
'Queues the creation of the tables, keys and indexes of every mapped schema, without data. Returns the command id.';

CREATE FUNCTION sch_chameleon.detach_replica(source text)
RETURNS bigint
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_src sch_chameleon.t_sources := sch_chameleon.fn_source(source, true);
BEGIN
    PERFORM sch_chameleon.fn_require_initialised(v_src);
    IF v_src.read_file IS NULL THEN
        RAISE EXCEPTION 'source "%" has no copied tables to detach yet', source
            USING ERRCODE = 'object_not_in_prerequisite_state',
                  HINT = 'Wait for its init_replica to finish.';
    END IF;
    -- recorded at once, as stop_replica does: an agent that starts meanwhile does not resume it
    UPDATE sch_chameleon.t_sources s SET replica_enabled = false, updated_at = now() WHERE s.source_id = v_src.source_id;
    RETURN sch_chameleon.fn_enqueue(v_src, 'detach_replica');
END
$$;
COMMENT ON FUNCTION sch_chameleon.detach_replica(text) IS
'Ends replication for a cut-over: the replica stops once what it read is applied, sequences move past the data, MySQL''s foreign keys are created (NOT VALID, then validated), and the tables stay as a standalone database. Returns the command id.';
REVOKE ALL ON FUNCTION sch_chameleon.detach_replica(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION sch_chameleon.detach_replica(text) TO chameleon_admin;
REVOKE ALL ON FUNCTION sch_chameleon.fn_require_attached(sch_chameleon.t_sources) FROM PUBLIC;

CREATE FUNCTION sch_chameleon.cutover(source text, timeout interval)
RETURNS bigint
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_src sch_chameleon.t_sources := sch_chameleon.fn_source(source, true);
BEGIN
    IF timeout IS NULL OR timeout <= interval '0' THEN
        RAISE EXCEPTION 'cutover needs a positive timeout, got %', coalesce(timeout::text, 'NULL')
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'How long to wait for the replica to apply everything MySQL has, e.g. ''5 minutes''.';
    END IF;
    PERFORM sch_chameleon.fn_require_initialised(v_src);
    IF v_src.read_file IS NULL THEN
        RAISE EXCEPTION 'source "%" has no copied tables to cut over to yet', source
            USING ERRCODE = 'object_not_in_prerequisite_state',
                  HINT = 'Wait for its init_replica to finish.';
    END IF;
    RETURN sch_chameleon.fn_enqueue(v_src, 'cutover', jsonb_build_object('timeout', timeout::text));
END
$$;
COMMENT ON FUNCTION sch_chameleon.cutover(text, interval) IS
'Waits (up to timeout) until the replica has applied everything MySQL had when the command started, then detaches the source (detach_replica). Returns the command id.';
REVOKE ALL ON FUNCTION sch_chameleon.cutover(text, interval) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION sch_chameleon.cutover(text, interval) TO chameleon_admin;

-- DDL replication: the reader logs each MySQL DDL statement with its
-- translation (t_log_events.ddl_plan); the decoder runs it in its place or
-- quarantines the table (state 'quarantined') until resolve_ddl(). Every
-- statement is recorded in t_ddl_events, listed by show_ddl(). DDL rows an
-- older agent logged without a translation are quarantined when replayed.
ALTER TABLE sch_chameleon.t_log_events ADD COLUMN ddl_plan jsonb;
ALTER TABLE sch_chameleon.t_tables DROP CONSTRAINT t_tables_state_check,
    ADD CONSTRAINT t_tables_state_check CHECK (state IN ('pending', 'copying', 'copied', 'replicating', 'excluded', 'failed', 'quarantined'));

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

-- The primary key of a target table, as the decoder matches rows on it.
CREATE FUNCTION sch_chameleon.fn_target_primary_key(p_schema text, p_table text)
RETURNS text[]
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT coalesce(array_agg(a.attname::text ORDER BY k.ord), '{}')
    FROM pg_catalog.pg_index x
    CROSS JOIN LATERAL unnest(x.indkey) WITH ORDINALITY AS k(attnum, ord)
    JOIN pg_catalog.pg_attribute a ON a.attrelid = x.indrelid AND a.attnum = k.attnum
    WHERE x.indrelid = to_regclass(format('%I.%I', p_schema, p_table)) AND x.indisprimary
$$;
COMMENT ON FUNCTION sch_chameleon.fn_target_primary_key(text, text) IS 'The primary-key columns of a target table, in key order';

-- A MySQL DDL statement in its place in a batch (fn_replay_batch calls it
-- for a table the replica holds, or one the statement creates): runs the
-- translation's steps (the log row's ddl_plan, see src/ddl/translate-ddl.ts)
-- in a subtransaction and brings the table's catalogue row along (renamed,
-- dropped, new key, statements rebuilt). A statement with no translation,
-- or whose translation PostgreSQL refuses, quarantines the table instead:
-- nothing of it is applied, the table's later events wait in the log, and
-- resolve_ddl() with the operator's PostgreSQL statement lets it go on. The
-- replica itself never stops on DDL. Every statement is recorded in
-- t_ddl_events. Returns 'applied' or 'quarantined'.
CREATE FUNCTION sch_chameleon.fn_apply_ddl(p_src sch_chameleon.t_sources, p_ddl sch_chameleon.t_log_events)
RETURNS text
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_plan   jsonb := p_ddl.ddl_plan;
    v_action text := coalesce(p_ddl.ddl_plan ->> 'action', 'quarantine');
    v_tbl    sch_chameleon.t_tables;
    v_found  boolean;
    v_schema text;
    v_table  text;
    v_step   jsonb;
    v_con    name;
    v_idx    name;
    v_to     jsonb := p_ddl.ddl_plan -> 'to';
    v_err    text;
    v_id     bigint;
BEGIN
    SELECT t.* INTO v_tbl FROM sch_chameleon.t_tables t
    WHERE t.source_id = p_src.source_id AND t.mysql_schema = p_ddl.mysql_schema AND t.mysql_table = p_ddl.mysql_table;
    v_found := FOUND;
    -- a table made anew (CREATE OR REPLACE of one the replica holds, too) gets the plan's names
    v_schema := CASE WHEN v_found AND v_action <> 'create' THEN v_tbl.pg_schema ELSE coalesce(v_plan ->> 'pg_schema', v_tbl.pg_schema) END;
    v_table := CASE WHEN v_found AND v_action <> 'create' THEN v_tbl.pg_table ELSE coalesce(v_plan ->> 'pg_table', v_tbl.pg_table) END;
    IF v_action = 'quarantine' THEN
        v_err := coalesce(v_plan ->> 'reason', 'the statement was logged without a translation');
    ELSE
        BEGIN
            FOR v_step IN SELECT e FROM jsonb_array_elements(v_plan -> 'steps') AS e LOOP
                IF jsonb_typeof(v_step) = 'string' THEN
                    EXECUTE format(v_step #>> '{}', v_schema, v_table, replace(v_table, '"', '""'));
                ELSIF v_step ? 'drop_primary_key' THEN
                    SELECT c.conname INTO v_con FROM pg_catalog.pg_constraint c
                    WHERE c.conrelid = format('%I.%I', v_schema, v_table)::regclass AND c.contype = 'p';
                    IF v_con IS NOT NULL THEN
                        EXECUTE format('ALTER TABLE %I.%I DROP CONSTRAINT %I', v_schema, v_table, v_con);
                    END IF;
                END IF;
            END LOOP;
            IF v_action IN ('drop', 'forget') THEN
                DELETE FROM sch_chameleon.t_tables t
                WHERE t.source_id = p_src.source_id AND t.mysql_schema = p_ddl.mysql_schema AND t.mysql_table = p_ddl.mysql_table;
            ELSIF v_action <> 'truncate' THEN
                IF v_to IS NOT NULL THEN
                    -- indexes named after the table (as the snapshot names them) follow it
                    FOR v_idx IN
                        SELECT i.relname FROM pg_catalog.pg_index x JOIN pg_catalog.pg_class i ON i.oid = x.indexrelid
                        WHERE x.indrelid = format('%I.%I', v_to ->> 'pg_schema', v_to ->> 'pg_table')::regclass
                          AND starts_with(i.relname, v_table || '_')
                    LOOP
                        EXECUTE format('ALTER INDEX %I.%I RENAME TO %I', v_to ->> 'pg_schema', v_idx,
                                       (v_to ->> 'pg_table') || substr(v_idx, length(v_table) + 1));
                    END LOOP;
                    -- a row left under the new name by a table the replica no longer follows
                    DELETE FROM sch_chameleon.t_tables t
                    WHERE t.source_id = p_src.source_id AND t.mysql_schema = v_to ->> 'mysql_schema' AND t.mysql_table = v_to ->> 'mysql_table'
                      AND (t.mysql_schema, t.mysql_table) <> (p_ddl.mysql_schema, p_ddl.mysql_table);
                    v_schema := v_to ->> 'pg_schema';
                    v_table := v_to ->> 'pg_table';
                END IF;
                IF v_found THEN
                    UPDATE sch_chameleon.t_tables t
                    SET mysql_schema = coalesce(v_to ->> 'mysql_schema', t.mysql_schema),
                        mysql_table = coalesce(v_to ->> 'mysql_table', t.mysql_table),
                        pg_schema = v_schema, pg_table = v_table,
                        pk_columns = sch_chameleon.fn_target_primary_key(v_schema, v_table),
                        decoder_statements = NULL, updated_at = now()
                    WHERE t.source_id = p_src.source_id AND t.mysql_schema = p_ddl.mysql_schema AND t.mysql_table = p_ddl.mysql_table;
                ELSE
                    -- a table created after the copy: every event of it is new, none is in a copy
                    INSERT INTO sch_chameleon.t_tables (source_id, mysql_schema, mysql_table, pg_schema, pg_table, pk_columns, state)
                    VALUES (p_src.source_id, p_ddl.mysql_schema, p_ddl.mysql_table, v_schema, v_table,
                            sch_chameleon.fn_target_primary_key(v_schema, v_table), 'replicating');
                END IF;
            END IF;
        EXCEPTION WHEN others THEN
            GET STACKED DIAGNOSTICS v_err = MESSAGE_TEXT;
            v_err := 'PostgreSQL refused the translation: ' || v_err;
        END;
    END IF;

    INSERT INTO sch_chameleon.t_ddl_events (source_id, mysql_schema, mysql_table, binlog_file, binlog_pos, mysql_ddl, plan, state, error)
    VALUES (p_src.source_id, p_ddl.mysql_schema, p_ddl.mysql_table, p_ddl.tx_file, p_ddl.tx_pos, coalesce(p_ddl.ddl, ''), v_plan,
            CASE WHEN v_err IS NULL THEN 'applied' ELSE 'quarantined' END, v_err)
    RETURNING ddl_id INTO v_id;
    IF v_err IS NULL THEN
        RETURN 'applied';
    END IF;

    -- Quarantine: the table's coordinates become the statement's, so that when it
    -- is resolved its events from the statement on are applied, and the ones
    -- before it (applied already) are not.
    INSERT INTO sch_chameleon.t_tables AS t (source_id, mysql_schema, mysql_table, pg_schema, pg_table, state, copy_file, copy_pos, reason)
    VALUES (p_src.source_id, p_ddl.mysql_schema, p_ddl.mysql_table, v_schema, v_table, 'quarantined', p_ddl.tx_file, p_ddl.tx_pos,
            format('DDL %s quarantined: %s; resolve_ddl(%s, ''<PostgreSQL statement>'') applies it and resumes the table', v_id, v_err, v_id))
    ON CONFLICT (source_id, mysql_schema, mysql_table) DO UPDATE
    SET state = 'quarantined', copy_file = excluded.copy_file, copy_pos = excluded.copy_pos, copy_gtid = NULL,
        decoder_statements = NULL, reason = excluded.reason, updated_at = now();
    INSERT INTO sch_chameleon.t_errors (source_id, mysql_schema, mysql_table, batch_id, event_seq, binlog_file, binlog_pos, statement, message)
    VALUES (p_src.source_id, p_ddl.mysql_schema, p_ddl.mysql_table, p_ddl.batch_id, p_ddl.event_seq, p_ddl.tx_file, p_ddl.tx_pos,
            p_ddl.ddl, format('DDL %s quarantined: %s', v_id, v_err));
    PERFORM pg_notify('chameleon_alerts', json_build_object(
        'source', p_src.source_name, 'table', p_ddl.mysql_schema || '.' || p_ddl.mysql_table,
        'error', format('DDL %s quarantined: %s', v_id, v_err), 'ddl_id', v_id)::text);
    RETURN 'quarantined';
END
$$;
COMMENT ON FUNCTION sch_chameleon.fn_apply_ddl(sch_chameleon.t_sources, sch_chameleon.t_log_events) IS
'Applies a MySQL DDL statement''s translation in its place in the stream, or quarantines its table';

-- The decoder. A batch is cut at its DDL events (fn_apply_ddl runs each in
-- its place); between them, each table's
-- events are applied with one set-based statement (their net effect per
-- primary key). A statement that fails is replayed event by event under
-- savepoints to pin the row at fault; then the table is excluded
-- (on_error_replay = continue) or the whole call fails and nothing of the
-- batch is applied (exit).
CREATE OR REPLACE FUNCTION sch_chameleon.fn_replay_batch(p_batch_id bigint, OUT applied bigint, OUT skipped bigint)
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_src      sch_chameleon.t_sources;
    v_tbl      sch_chameleon.t_tables;
    v_t        record;
    v_ev       record;
    v_key      text;
    v_stmts    jsonb := '{}';
    v_s        jsonb;
    v_lo       integer := 0;
    v_hi       integer;
    v_ddl_seq  integer;
    v_run_lo   integer;
    v_run_hi   integer;
    v_state    text;
    v_msg      text;
    v_stmt     text;
    v_done     bigint;
    v_ddl      sch_chameleon.t_log_events;
    v_batch    sch_chameleon.t_batches;
    v_described boolean;
    v_before   bigint;
    v_found    boolean;
BEGIN
    applied := 0;
    skipped := 0;
    SELECT s.* INTO v_src FROM sch_chameleon.t_sources s
    JOIN sch_chameleon.t_batches b ON b.source_id = s.source_id WHERE b.batch_id = p_batch_id;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'batch % does not exist', p_batch_id USING ERRCODE = 'undefined_object';
    END IF;
    SELECT b.* INTO v_batch FROM sch_chameleon.t_batches b WHERE b.batch_id = p_batch_id;
    -- The reader describes a batch's tables as it writes it: without DDL to
    -- cut the batch at, the tables and their event counts are taken from
    -- there instead of from a pass over every log row of the batch (a fifth
    -- of the replay's time). An applied batch replayed again holds only the
    -- events retained for tables being copied (fn_replay_retained): counted.
    v_described := v_batch.applied_at IS NULL AND coalesce(jsonb_typeof(v_batch.tables) = 'array', false)
        AND NOT EXISTS (SELECT 1 FROM jsonb_array_elements(v_batch.tables) e(t) WHERE (e.t ->> 'ddl')::integer > 0);

    LOOP
        v_ddl_seq := NULL;
        IF NOT v_described THEN
            SELECT min(l.event_seq) INTO v_ddl_seq FROM sch_chameleon.t_log_events l
            WHERE l.batch_id = p_batch_id AND l.kind = 'ddl' AND l.event_seq >= v_lo;
        END IF;
        v_hi := coalesce(v_ddl_seq - 1, 2147483647);

        FOR v_t IN
            SELECT e.n::integer AS table_no, e.t ->> 'schema' AS mysql_schema, e.t ->> 'table' AS mysql_table,
                   (e.t ->> 'events')::bigint AS events, NULL::bigint AS before_copy, e.n AS first_seq
            FROM jsonb_array_elements(v_batch.tables) WITH ORDINALITY AS e(t, n)
            WHERE v_described AND (e.t ->> 'events')::bigint > 0
            UNION ALL
            SELECT l.table_no, l.mysql_schema, l.mysql_table, count(*) AS events,
                   count(*) FILTER (WHERE t.copy_file IS NOT NULL AND (l.tx_file, l.tx_pos) <= (t.copy_file, t.copy_pos)) AS before_copy,
                   min(l.event_seq) AS first_seq
            FROM sch_chameleon.t_log_events l
            LEFT JOIN sch_chameleon.t_tables t
                   ON t.source_id = v_src.source_id AND t.mysql_schema = l.mysql_schema AND t.mysql_table = l.mysql_table
            WHERE NOT v_described AND l.batch_id = p_batch_id AND l.event_seq BETWEEN v_lo AND v_hi AND l.kind <> 'ddl'
            GROUP BY l.table_no, l.mysql_schema, l.mysql_table
            ORDER BY first_seq
        LOOP
            SELECT * INTO v_tbl FROM sch_chameleon.t_tables t
            WHERE t.source_id = v_src.source_id AND t.mysql_schema = v_t.mysql_schema AND t.mysql_table = v_t.mysql_table;
            -- a table being copied again, or quarantined at a DDL statement: its events
            -- wait in the log (fn_replay_next keeps them) and are applied when the copy
            -- is swapped in or the statement resolved
            CONTINUE WHEN FOUND AND v_tbl.state IN ('copying', 'quarantined');
            IF NOT FOUND OR v_tbl.state NOT IN ('copied', 'replicating') THEN
                skipped := skipped + v_t.events;
                CONTINUE;
            END IF;
            -- soft init: the events of transactions the table's copy already holds
            v_before := v_t.before_copy;
            IF v_before IS NULL THEN
                v_before := 0;
                -- binlog order is event order: when the table's first event of the batch
                -- is past the copy, so are the others, and none needs counting
                IF v_tbl.copy_file IS NOT NULL AND EXISTS (
                    SELECT 1 FROM (SELECT l.tx_file, l.tx_pos FROM sch_chameleon.t_log_events l
                                   WHERE l.batch_id = p_batch_id AND l.table_no = v_t.table_no
                                   ORDER BY l.event_seq LIMIT 1) f
                    WHERE (f.tx_file, f.tx_pos) <= (v_tbl.copy_file, v_tbl.copy_pos)) THEN
                    SELECT count(*) INTO v_before FROM sch_chameleon.t_log_events l
                    WHERE l.batch_id = p_batch_id AND l.table_no = v_t.table_no AND l.kind <> 'ddl'
                      AND (l.tx_file, l.tx_pos) <= (v_tbl.copy_file, v_tbl.copy_pos);
                END IF;
            END IF;
            skipped := skipped + v_before;
            CONTINUE WHEN v_t.events = v_before;

            v_key := format('%I.%I', v_tbl.pg_schema, v_tbl.pg_table);
            v_s := coalesce(v_stmts -> v_key, v_tbl.decoder_statements);
            BEGIN
                IF v_s IS NULL THEN
                    v_s := sch_chameleon.fn_decoder_statements(v_tbl.pg_schema, v_tbl.pg_table, v_tbl.pk_columns);
                    UPDATE sch_chameleon.t_tables t SET decoder_statements = v_s
                    WHERE t.source_id = v_src.source_id AND t.mysql_schema = v_t.mysql_schema AND t.mysql_table = v_t.mysql_table;
                END IF;
                v_stmts := v_stmts || jsonb_build_object(v_key, v_s);
                IF v_s ? 'net' THEN
                    EXECUTE v_s ->> 'net'
                        USING p_batch_id, v_lo, v_hi, v_t.table_no, v_tbl.copy_file, v_tbl.copy_pos;
                ELSE
                    -- no key: runs of inserts in one statement, updates and deletes one by one
                    v_run_lo := NULL;
                    FOR v_ev IN
                        SELECT l.event_seq, l.kind FROM sch_chameleon.t_log_events l
                        WHERE l.batch_id = p_batch_id AND l.table_no = v_t.table_no
                          AND l.event_seq BETWEEN v_lo AND v_hi
                        ORDER BY l.event_seq
                    LOOP
                        IF v_ev.kind = 'insert' THEN
                            v_run_lo := coalesce(v_run_lo, v_ev.event_seq);
                            v_run_hi := v_ev.event_seq;
                            CONTINUE;
                        END IF;
                        IF v_run_lo IS NOT NULL THEN
                            EXECUTE v_s ->> 'insert_run'
                                USING p_batch_id, v_run_lo, v_run_hi, v_t.table_no, v_tbl.copy_file, v_tbl.copy_pos;
                            v_run_lo := NULL;
                        END IF;
                        PERFORM sch_chameleon.fn_replay_event(v_s, v_ev.kind, p_batch_id, v_ev.event_seq,
                            v_t.table_no, v_tbl.copy_file, v_tbl.copy_pos);
                    END LOOP;
                    IF v_run_lo IS NOT NULL THEN
                        EXECUTE v_s ->> 'insert_run'
                            USING p_batch_id, v_run_lo, v_run_hi, v_t.table_no, v_tbl.copy_file, v_tbl.copy_pos;
                    END IF;
                END IF;
                applied := applied + v_t.events - v_before;
            EXCEPTION WHEN others THEN
                -- rolled back to the savepoint: replay the table's events one by one to find the row at fault,
                -- with statements built afresh (the target may have been altered since they were cached)
                v_done := 0;
                BEGIN
                    v_s := sch_chameleon.fn_decoder_statements(v_tbl.pg_schema, v_tbl.pg_table, v_tbl.pk_columns);
                    UPDATE sch_chameleon.t_tables t SET decoder_statements = v_s
                    WHERE t.source_id = v_src.source_id AND t.mysql_schema = v_t.mysql_schema AND t.mysql_table = v_t.mysql_table;
                EXCEPTION WHEN others THEN
                    NULL;  -- the table is gone: every event below fails and is reported
                END;
                FOR v_ev IN
                    SELECT l.event_seq, l.kind FROM sch_chameleon.t_log_events l
                    WHERE l.batch_id = p_batch_id AND l.table_no = v_t.table_no
                      AND l.event_seq BETWEEN v_lo AND v_hi
                    ORDER BY l.event_seq
                LOOP
                    BEGIN
                        PERFORM sch_chameleon.fn_replay_event(v_s, v_ev.kind, p_batch_id, v_ev.event_seq,
                            v_t.table_no, v_tbl.copy_file, v_tbl.copy_pos);
                        v_done := v_done + 1;
                    EXCEPTION WHEN others THEN
                        GET STACKED DIAGNOSTICS v_state = RETURNED_SQLSTATE, v_msg = MESSAGE_TEXT;
                        v_stmt := CASE WHEN v_s IS NULL THEN NULL
                                       WHEN v_s ? 'delete_one' THEN concat_ws('; ',
                                            CASE WHEN v_ev.kind <> 'insert' THEN v_s ->> 'delete_one' END,
                                            CASE WHEN v_ev.kind <> 'delete' THEN v_s ->> 'insert_one' END)
                                       WHEN v_ev.kind = 'insert' THEN v_s ->> 'insert_one'
                                       WHEN v_ev.kind = 'delete' THEN v_s ->> 'delete_row'
                                       ELSE v_s ->> 'update_row' END;
                        IF v_src.options ->> 'on_error_replay' = 'exit' THEN
                            RAISE EXCEPTION 'replay of %.% failed at batch % event %: %', v_t.mysql_schema, v_t.mysql_table, p_batch_id, v_ev.event_seq, v_msg
                                USING ERRCODE = v_state,
                                      DETAIL = (SELECT format('row: %s; statement: %s', coalesce(l.row_after, l.row_before), v_stmt)
                                                FROM sch_chameleon.t_log_events l
                                                WHERE l.batch_id = p_batch_id AND l.table_no = v_t.table_no AND l.event_seq = v_ev.event_seq);
                        END IF;
                        INSERT INTO sch_chameleon.t_errors (source_id, mysql_schema, mysql_table, batch_id, event_seq,
                                                            binlog_file, binlog_pos, statement, row_image, sqlstate, message)
                        SELECT v_src.source_id, l.mysql_schema, l.mysql_table, p_batch_id, l.event_seq, l.tx_file, l.tx_pos,
                               v_stmt, coalesce(l.row_after, l.row_before), v_state, v_msg
                        FROM sch_chameleon.t_log_events l
                        WHERE l.batch_id = p_batch_id AND l.table_no = v_t.table_no AND l.event_seq = v_ev.event_seq;
                        UPDATE sch_chameleon.t_tables t
                        SET state = 'excluded', reason = format('replay failed at %s:%s: %s', v_t.mysql_schema, v_t.mysql_table, v_msg),
                            updated_at = now()
                        WHERE t.source_id = v_src.source_id AND t.mysql_schema = v_t.mysql_schema AND t.mysql_table = v_t.mysql_table;
                        PERFORM pg_notify('chameleon_alerts', json_build_object(
                            'source', v_src.source_name, 'table', v_t.mysql_schema || '.' || v_t.mysql_table,
                            'error', v_msg, 'excluded', true)::text);
                        EXIT;
                    END;
                END LOOP;
                applied := applied + v_done;
                skipped := skipped + greatest(v_t.events - v_before - v_done, 0);
            END;
            UPDATE sch_chameleon.t_tables t SET events_applied = t.events_applied + v_t.events - v_before
            WHERE t.source_id = v_src.source_id AND t.mysql_schema = v_t.mysql_schema AND t.mysql_table = v_t.mysql_table
              AND t.state <> 'excluded';
        END LOOP;

        EXIT WHEN v_ddl_seq IS NULL;
        -- A MySQL DDL statement, in its place between the row events around it.
        SELECT l.* INTO v_ddl FROM sch_chameleon.t_log_events l WHERE l.batch_id = p_batch_id AND l.event_seq = v_ddl_seq;
        SELECT t.* INTO v_tbl FROM sch_chameleon.t_tables t
        WHERE t.source_id = v_src.source_id AND t.mysql_schema = v_ddl.mysql_schema AND t.mysql_table = v_ddl.mysql_table;
        v_found := FOUND;
        IF v_found AND v_tbl.state IN ('copying', 'quarantined') THEN
            -- kept with the table's other events, applied after its copy or its resolve_ddl;
            -- a rename of it: the events under the new name wait too, until the rename is applied
            IF v_ddl.ddl_plan ? 'to' THEN
                INSERT INTO sch_chameleon.t_tables (source_id, mysql_schema, mysql_table, pg_schema, pg_table, state, copy_file, copy_pos, reason)
                VALUES (v_src.source_id, v_ddl.ddl_plan #>> '{to,mysql_schema}', v_ddl.ddl_plan #>> '{to,mysql_table}',
                        v_ddl.ddl_plan #>> '{to,pg_schema}', v_ddl.ddl_plan #>> '{to,pg_table}', 'quarantined', v_ddl.tx_file, v_ddl.tx_pos,
                        format('the new name of %s.%s, which is %s: its events wait for it', v_ddl.mysql_schema, v_ddl.mysql_table,
                               CASE v_tbl.state WHEN 'copying' THEN 'being copied' ELSE 'quarantined' END))
                ON CONFLICT (source_id, mysql_schema, mysql_table) DO NOTHING;
            END IF;
        ELSIF v_found AND (v_tbl.state NOT IN ('copied', 'replicating')
                           OR (v_tbl.copy_file IS NOT NULL AND (v_ddl.tx_file, v_ddl.tx_pos) <= (v_tbl.copy_file, v_tbl.copy_pos))
                           OR coalesce((v_ddl.ddl_plan ->> 'if_not_exists')::boolean, false)) THEN
            -- an excluded or failed table (its next copy has the change), a copy that
            -- already holds it, or CREATE TABLE IF NOT EXISTS of a table there already
            skipped := skipped + 1;
        ELSIF NOT v_found AND coalesce(v_ddl.ddl_plan ->> 'action', '') NOT IN ('create', 'quarantine') THEN
            -- a table the replica does not hold
            skipped := skipped + 1;
        ELSIF sch_chameleon.fn_apply_ddl(v_src, v_ddl) = 'applied' THEN
            applied := applied + 1;
        ELSE
            skipped := skipped + 1;
        END IF;
        v_stmts := '{}';
        v_lo := v_ddl_seq + 1;
    END LOOP;
END
$$;
COMMENT ON FUNCTION sch_chameleon.fn_replay_batch(bigint) IS
'The set-based decoder: applies one logged batch to the target tables';

-- Applies the oldest unapplied batches of a source, at least one and up to
-- replay_max_rows events, and moves the replay position, all in the caller's
-- transaction: data and position commit together.
CREATE OR REPLACE FUNCTION sch_chameleon.fn_replay_next(p_source_id bigint, p_agent_id text,
    OUT batches integer, OUT events bigint, OUT applied bigint, OUT skipped bigint)
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_max   bigint;
    v_batch sch_chameleon.t_batches;
    v_last  sch_chameleon.t_batches;
    v_res   record;
BEGIN
    batches := 0; events := 0; applied := 0; skipped := 0;
    -- resolve_ddl takes this lock exclusively: a replay call never runs beside
    -- a table's return from quarantine (it would keep that table's events back
    -- after the table replicates again)
    PERFORM pg_advisory_xact_lock_shared(hashtext('sch_chameleon.replay'), p_source_id::integer);
    -- fencing: an agent that lost its lease must not apply anything
    PERFORM 1 FROM sch_chameleon.t_source_leases l
    WHERE l.source_id = p_source_id AND l.agent_id = p_agent_id FOR KEY SHARE;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'agent % does not own source %', p_agent_id, p_source_id
            USING ERRCODE = 'lock_not_available', HINT = 'Another agent took the source over, or it was dropped.';
    END IF;
    SELECT (s.options ->> 'replay_max_rows')::bigint INTO v_max FROM sch_chameleon.t_sources s WHERE s.source_id = p_source_id;
    LOOP
        SELECT * INTO v_batch FROM sch_chameleon.t_batches b
        WHERE b.source_id = p_source_id AND b.applied_at IS NULL
        ORDER BY b.batch_id LIMIT 1
        FOR UPDATE;
        EXIT WHEN NOT FOUND;
        v_res := sch_chameleon.fn_replay_batch(v_batch.batch_id);
        UPDATE sch_chameleon.t_batches b SET applied_at = clock_timestamp() WHERE b.batch_id = v_batch.batch_id;
        IF EXISTS (SELECT 1 FROM sch_chameleon.t_tables t WHERE t.source_id = p_source_id AND t.state IN ('copying', 'quarantined')) THEN
            -- the events of tables being copied again, or quarantined at a DDL
            -- statement, stay, for fn_replay_retained to apply once their copy is
            -- in place or the statement is resolved; the other tables go on meanwhile
            DELETE FROM sch_chameleon.t_log_events l
            WHERE l.batch_id = v_batch.batch_id
              AND NOT EXISTS (SELECT 1 FROM sch_chameleon.t_tables t
                              WHERE t.source_id = p_source_id AND t.state IN ('copying', 'quarantined')
                                AND t.mysql_schema = l.mysql_schema AND t.mysql_table = l.mysql_table);
        ELSE
            DELETE FROM sch_chameleon.t_log_events l WHERE l.batch_id = v_batch.batch_id;
        END IF;
        v_last := v_batch;
        batches := batches + 1;
        events := events + v_batch.events;
        applied := applied + v_res.applied;
        skipped := skipped + v_res.skipped;
        EXIT WHEN events >= coalesce(v_max, 25000);
    END LOOP;
    IF batches > 0 THEN
        -- last, and once: the row stays locked until the commit. The reader's
        -- position lives in its batch rows; applied batches may be pruned, so
        -- the read position is carried forward here as they are applied.
        UPDATE sch_chameleon.t_sources s
        SET read_file = CASE WHEN sch_chameleon.fn_position_reached(s.read_file, s.read_pos, v_last.end_file, v_last.end_pos)
                             THEN s.read_file ELSE v_last.end_file END,
            read_pos = CASE WHEN sch_chameleon.fn_position_reached(s.read_file, s.read_pos, v_last.end_file, v_last.end_pos)
                            THEN s.read_pos ELSE v_last.end_pos END,
            read_gtid = CASE WHEN sch_chameleon.fn_position_reached(s.read_file, s.read_pos, v_last.end_file, v_last.end_pos)
                             THEN s.read_gtid ELSE coalesce(v_last.end_gtid, s.read_gtid) END,
            events_read = s.events_read + events,
            replay_file = v_last.end_file, replay_pos = v_last.end_pos,
            replay_gtid = coalesce(v_last.end_gtid, s.replay_gtid),
            last_replay_event_at = coalesce(v_last.last_event_at, s.last_replay_event_at),
            last_replayed_at = clock_timestamp(),
            events_applied = s.events_applied + applied,
            events_skipped = s.events_skipped + skipped
        WHERE s.source_id = p_source_id;
    END IF;
END
$$;
COMMENT ON FUNCTION sch_chameleon.fn_replay_next(bigint, text) IS
'Replays the next batches of a source (up to replay_max_rows events) and moves its replay position';

-- A table copied again while its source replicates, or quarantined at a DDL
-- statement: the decoder kept its events of the batches it applied meanwhile
-- (fn_replay_next). Called in the transaction that puts the new copy in
-- place, or that resolves the statement, with the replay held: applies
-- those events in binlog order (the decoder's soft init leaves out what the
-- copy already holds) and removes them, so that the table's next events,
-- in batches not applied yet, find it up to date.
CREATE OR REPLACE FUNCTION sch_chameleon.fn_replay_retained(p_source_id bigint, p_mysql_schema text, p_mysql_table text,
    OUT batches integer, OUT applied bigint, OUT skipped bigint)
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_batch bigint;
    v_res   record;
    v_next  record;
BEGIN
    batches := 0; applied := 0; skipped := 0;
    FOR v_batch IN
        SELECT DISTINCT l.batch_id
        FROM sch_chameleon.t_log_events l
        JOIN sch_chameleon.t_batches b ON b.batch_id = l.batch_id
        WHERE b.source_id = p_source_id AND b.applied_at IS NOT NULL
          AND l.mysql_schema = p_mysql_schema AND l.mysql_table = p_mysql_table
        ORDER BY l.batch_id
    LOOP
        -- an applied batch holds only the events of tables that were being
        -- copied: this one, and others still copying, which the decoder skips
        v_res := sch_chameleon.fn_replay_batch(v_batch);
        -- every event of the batch the decoder did not keep back is done (this table's, and
        -- those of its new name once a rename among them is applied); a DDL statement among
        -- them that quarantined the table again keeps its events from there on
        DELETE FROM sch_chameleon.t_log_events l
        WHERE l.batch_id = v_batch
          AND NOT EXISTS (SELECT 1 FROM sch_chameleon.t_tables t
                          WHERE t.source_id = p_source_id AND t.mysql_schema = l.mysql_schema
                            AND t.mysql_table = l.mysql_table AND t.state IN ('copying', 'quarantined'));
        batches := batches + 1;
        applied := applied + v_res.applied;
        skipped := skipped + v_res.skipped;
    END LOOP;
    IF batches > 0 THEN
        UPDATE sch_chameleon.t_sources s
        SET events_applied = s.events_applied + applied, events_skipped = s.events_skipped + skipped
        WHERE s.source_id = p_source_id;
    END IF;
    -- a table renamed among those events: its events under the new name, in batches this
    -- table had none in, are kept for it still (fn_replay_batch held them for the rename);
    -- each call counts its own on the source
    FOR v_next IN
        SELECT DISTINCT l.mysql_schema, l.mysql_table
        FROM sch_chameleon.t_log_events l
        JOIN sch_chameleon.t_batches b ON b.batch_id = l.batch_id
        JOIN sch_chameleon.t_tables t ON t.source_id = b.source_id AND t.mysql_schema = l.mysql_schema AND t.mysql_table = l.mysql_table
        WHERE b.source_id = p_source_id AND b.applied_at IS NOT NULL AND t.state IN ('copied', 'replicating')
    LOOP
        SELECT * INTO v_res FROM sch_chameleon.fn_replay_retained(p_source_id, v_next.mysql_schema, v_next.mysql_table);
        batches := batches + v_res.batches;
        applied := applied + v_res.applied;
        skipped := skipped + v_res.skipped;
    END LOOP;
END
$$;
COMMENT ON FUNCTION sch_chameleon.fn_replay_retained(bigint, text, text) IS
'Applies the events the decoder kept for a table while it was copied again, once the new copy is in place';

-- The other half of resolve_ddl(), run as the catalogue's owner once the
-- operator's statement (if any) ran in the caller's session: the
-- quarantined statement is marked resolved, its table replicates again,
-- and the events kept back since the statement are applied, all in the
-- caller's transaction. Holds the source's replay off meanwhile (see
-- fn_replay_next). Returns the command row that records the resolution.
CREATE FUNCTION sch_chameleon.fn_resume_quarantined(p_ddl_id bigint, p_sql text)
RETURNS bigint
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_ev  sch_chameleon.t_ddl_events;
    v_src sch_chameleon.t_sources;
    v_tbl sch_chameleon.t_tables;
    v_res record;
    v_id  bigint;
BEGIN
    SELECT e.* INTO v_ev FROM sch_chameleon.t_ddl_events e WHERE e.ddl_id = p_ddl_id FOR UPDATE;
    PERFORM sch_chameleon.fn_check_quarantined(v_ev, p_ddl_id);
    PERFORM pg_advisory_xact_lock(hashtext('sch_chameleon.replay'), v_ev.source_id::integer);
    SELECT s.* INTO v_src FROM sch_chameleon.t_sources s WHERE s.source_id = v_ev.source_id;
    SELECT t.* INTO v_tbl FROM sch_chameleon.t_tables t
    WHERE t.source_id = v_ev.source_id AND t.mysql_schema = v_ev.mysql_schema AND t.mysql_table = v_ev.mysql_table
    FOR UPDATE;
    UPDATE sch_chameleon.t_ddl_events e
    SET state = 'resolved', resolved_sql = p_sql, resolved_by = session_user, resolved_at = now()
    WHERE e.ddl_id = p_ddl_id;
    IF to_regclass(format('%I.%I', v_tbl.pg_schema, v_tbl.pg_table)) IS NULL THEN
        -- the statement dropped the table, or it never existed here (a CREATE resolved with nothing)
        DELETE FROM sch_chameleon.t_tables t
        WHERE t.source_id = v_tbl.source_id AND t.mysql_schema = v_tbl.mysql_schema AND t.mysql_table = v_tbl.mysql_table;
        DELETE FROM sch_chameleon.t_log_events l
        USING sch_chameleon.t_batches b
        WHERE b.batch_id = l.batch_id AND b.source_id = v_tbl.source_id AND b.applied_at IS NOT NULL
          AND l.mysql_schema = v_tbl.mysql_schema AND l.mysql_table = v_tbl.mysql_table;
        v_res := ROW(0, 0::bigint, 0::bigint);
    ELSE
        UPDATE sch_chameleon.t_tables t
        SET state = 'replicating', reason = NULL, decoder_statements = NULL, updated_at = now(),
            pk_columns = sch_chameleon.fn_target_primary_key(t.pg_schema, t.pg_table)
        WHERE t.source_id = v_tbl.source_id AND t.mysql_schema = v_tbl.mysql_schema AND t.mysql_table = v_tbl.mysql_table;
        SELECT * INTO v_res FROM sch_chameleon.fn_replay_retained(v_tbl.source_id, v_tbl.mysql_schema, v_tbl.mysql_table);
    END IF;
    INSERT INTO sch_chameleon.t_commands (source_id, source_name, command, args, state, progress, started_at, finished_at)
    VALUES (v_src.source_id, v_src.source_name, 'resolve_ddl', jsonb_build_object('ddl_id', p_ddl_id, 'postgres_sql', p_sql), 'done',
            jsonb_build_object('table', v_tbl.mysql_schema || '.' || v_tbl.mysql_table, 'batches', v_res.batches,
                               'applied', v_res.applied, 'skipped', v_res.skipped,
                               'state', (SELECT t.state FROM sch_chameleon.t_tables t
                                          WHERE t.source_id = v_tbl.source_id AND t.mysql_schema = v_tbl.mysql_schema
                                            AND t.mysql_table = v_tbl.mysql_table)),
            now(), now())
    RETURNING command_id INTO v_id;
    RETURN v_id;
END
$$;
COMMENT ON FUNCTION sch_chameleon.fn_resume_quarantined(bigint, text) IS
'resolve_ddl''s catalogue part: marks the statement resolved and applies the events its table kept back';

-- Raises unless the DDL event exists and still holds its table in quarantine.
CREATE FUNCTION sch_chameleon.fn_check_quarantined(p_ev sch_chameleon.t_ddl_events, p_ddl_id bigint)
RETURNS void
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF p_ev.ddl_id IS NULL THEN
        RAISE EXCEPTION 'DDL event % does not exist', p_ddl_id
            USING ERRCODE = 'undefined_object', HINT = 'show_ddl() lists the DDL statements the replica met, quarantined ones first.';
    END IF;
    IF p_ev.state <> 'quarantined' THEN
        RAISE EXCEPTION 'DDL event % is %, not quarantined', p_ddl_id, p_ev.state
            USING ERRCODE = 'object_not_in_prerequisite_state';
    END IF;
    IF NOT EXISTS (SELECT 1 FROM sch_chameleon.t_tables t
                   WHERE t.source_id = p_ev.source_id AND t.mysql_schema = p_ev.mysql_schema AND t.mysql_table = p_ev.mysql_table
                     AND t.state = 'quarantined' AND (t.copy_file, t.copy_pos) = (p_ev.binlog_file, p_ev.binlog_pos)) THEN
        RAISE EXCEPTION 'DDL event % no longer holds %.%: the table was copied again or dropped since', p_ddl_id, p_ev.mysql_schema, p_ev.mysql_table
            USING ERRCODE = 'object_not_in_prerequisite_state';
    END IF;
END
$$;
COMMENT ON FUNCTION sch_chameleon.fn_check_quarantined(sch_chameleon.t_ddl_events, bigint) IS 'Raises unless a DDL event holds its table in quarantine';

-- The validation of resolve_ddl, as the catalogue's owner (the caller cannot read the catalogue).
CREATE FUNCTION sch_chameleon.fn_require_quarantined(p_ddl_id bigint)
RETURNS void
LANGUAGE plpgsql STABLE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_ev sch_chameleon.t_ddl_events;
BEGIN
    SELECT e.* INTO v_ev FROM sch_chameleon.t_ddl_events e WHERE e.ddl_id = p_ddl_id;
    PERFORM sch_chameleon.fn_check_quarantined(v_ev, p_ddl_id);
END
$$;
COMMENT ON FUNCTION sch_chameleon.fn_require_quarantined(bigint) IS 'resolve_ddl''s argument check: raises unless the DDL event is quarantined';

-- Not SECURITY DEFINER, on purpose: the operator's statement runs with the
-- caller's own privileges (and this function's fixed search_path, so its
-- names must be schema-qualified), in the caller's transaction together
-- with the table's return to the replica. If it fails, nothing changes and
-- the table stays quarantined. Transaction control cannot run inside it.
CREATE FUNCTION sch_chameleon.resolve_ddl(id bigint, postgres_sql text)
RETURNS bigint
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_msg    text;
    v_state  text;
BEGIN
    IF id IS NULL THEN
        RAISE EXCEPTION 'id must not be NULL' USING ERRCODE = 'null_value_not_allowed',
            HINT = 'Pass the ddl_id of a quarantined statement from show_ddl().';
    END IF;
    IF postgres_sql IS NULL THEN
        RAISE EXCEPTION 'postgres_sql must not be NULL' USING ERRCODE = 'null_value_not_allowed',
            HINT = 'Pass the PostgreSQL statement that does what the MySQL one did, or '''' when PostgreSQL needs no change.';
    END IF;
    PERFORM sch_chameleon.fn_require_quarantined(id);
    IF btrim(postgres_sql) <> '' THEN
        BEGIN
            EXECUTE postgres_sql;
        EXCEPTION WHEN others THEN
            GET STACKED DIAGNOSTICS v_state = RETURNED_SQLSTATE, v_msg = MESSAGE_TEXT;
            RAISE EXCEPTION 'resolve_ddl(%): the statement failed: %', id, v_msg
                USING ERRCODE = v_state,
                      HINT = 'Nothing was changed and the table stays quarantined. Names must be schema-qualified; the statement runs as you.';
        END;
    END IF;
    RETURN sch_chameleon.fn_resume_quarantined(id, postgres_sql);
END
$$;
COMMENT ON FUNCTION sch_chameleon.resolve_ddl(bigint, text) IS
'Runs an operator''s PostgreSQL statement in place of a quarantined MySQL DDL statement (show_ddl()), then lets its table replicate again with the events kept since; '''' resumes without a statement. Returns the id of the command row that records it.';

CREATE FUNCTION sch_chameleon.show_ddl(source text DEFAULT NULL)
RETURNS TABLE (ddl_id bigint, source text, mysql_schema text, mysql_table text, binlog_position text, state text,
               mysql_ddl text, postgres_sql text, notes jsonb, error text, resolved_sql text, resolved_by name,
               created_at timestamptz, resolved_at timestamptz)
LANGUAGE sql STABLE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT e.ddl_id, s.source_name, e.mysql_schema, e.mysql_table,
           sch_chameleon.fn_position_text(e.binlog_file, e.binlog_pos, NULL), e.state, e.mysql_ddl,
           (SELECT string_agg(CASE WHEN jsonb_typeof(st) = 'string' THEN st #>> '{}' ELSE 'drop the primary key' END, E';\n')
              FROM jsonb_array_elements(e.plan -> 'steps') st),
           e.plan -> 'notes', e.error, e.resolved_sql, e.resolved_by, e.created_at, e.resolved_at
    -- a source named is one that exists: a typo is an error, not an empty list
    FROM (SELECT CASE WHEN show_ddl.source IS NULL THEN NULL
                      ELSE (sch_chameleon.fn_source(show_ddl.source, false)).source_id END AS id) f
    JOIN sch_chameleon.t_ddl_events e ON f.id IS NULL OR e.source_id = f.id
    JOIN sch_chameleon.t_sources s ON s.source_id = e.source_id
    ORDER BY e.state <> 'quarantined', e.ddl_id
$$;
COMMENT ON FUNCTION sch_chameleon.show_ddl(text) IS
'The MySQL DDL statements the replica met, quarantined ones first: the translation it ran (format() templates), notes, and errors.';

REVOKE ALL ON TABLE sch_chameleon.t_ddl_events FROM PUBLIC;
REVOKE ALL ON SEQUENCE sch_chameleon.t_ddl_events_ddl_id_seq FROM PUBLIC;
REVOKE ALL ON FUNCTION sch_chameleon.fn_target_primary_key(text, text) FROM PUBLIC;
REVOKE ALL ON FUNCTION sch_chameleon.fn_apply_ddl(sch_chameleon.t_sources, sch_chameleon.t_log_events) FROM PUBLIC;
REVOKE ALL ON FUNCTION sch_chameleon.fn_resume_quarantined(bigint, text) FROM PUBLIC;
REVOKE ALL ON FUNCTION sch_chameleon.fn_check_quarantined(sch_chameleon.t_ddl_events, bigint) FROM PUBLIC;
REVOKE ALL ON FUNCTION sch_chameleon.fn_require_quarantined(bigint) FROM PUBLIC;
REVOKE ALL ON FUNCTION sch_chameleon.resolve_ddl(bigint, text) FROM PUBLIC;
REVOKE ALL ON FUNCTION sch_chameleon.show_ddl(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION sch_chameleon.show_ddl(text) TO chameleon_monitor;
GRANT EXECUTE ON FUNCTION sch_chameleon.resolve_ddl(bigint, text), sch_chameleon.fn_require_quarantined(bigint),
    sch_chameleon.fn_resume_quarantined(bigint, text) TO chameleon_admin;

-- verify() / repair() / show_verify(): online comparison chunk by chunk, and
-- a new copy of only the ranges that differ.

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

-- The "db.table" names of a source's replicated tables among p_tables
-- (all of them when null), or an error naming the first that is not one.
CREATE FUNCTION sch_chameleon.fn_replicated_tables(p_src sch_chameleon.t_sources, p_tables text[])
RETURNS text[]
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_name  text;
    v_known text[];
    v_out   text[] := '{}';
BEGIN
    SELECT coalesce(array_agg(t.mysql_schema || '.' || t.mysql_table ORDER BY t.mysql_schema, t.mysql_table), '{}') INTO v_known
    FROM sch_chameleon.t_tables t
    WHERE t.source_id = p_src.source_id AND t.state IN ('copied', 'replicating');
    IF p_tables IS NULL THEN
        RETURN v_known;
    END IF;
    IF cardinality(p_tables) = 0 THEN
        RAISE EXCEPTION 'tables must name at least one table, or be NULL for all of them'
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    FOREACH v_name IN ARRAY p_tables LOOP
        IF v_name IS NULL OR NOT v_name = ANY (v_known) THEN
            RAISE EXCEPTION 'tables: % is not a replicated table of source "%"', coalesce(quote_literal(v_name), 'NULL'), p_src.source_name
                USING ERRCODE = 'invalid_parameter_value',
                      HINT = 'Name tables as "mysql_db.table"; show_tables(source) lists them (state copied or replicating).';
        END IF;
        IF NOT v_name = ANY (v_out) THEN
            v_out := v_out || v_name;
        END IF;
    END LOOP;
    RETURN v_out;
END
$$;
COMMENT ON FUNCTION sch_chameleon.fn_replicated_tables(sch_chameleon.t_sources, text[]) IS
'The replicated tables of a source among the names given (all when null); raises on a name that is not one';

CREATE FUNCTION sch_chameleon.verify(source text, tables text[] DEFAULT NULL)
RETURNS bigint
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_src    sch_chameleon.t_sources := sch_chameleon.fn_source(source, true);
    v_tables text[];
BEGIN
    PERFORM sch_chameleon.fn_require_initialised(v_src);
    v_tables := sch_chameleon.fn_replicated_tables(v_src, tables);
    IF cardinality(v_tables) = 0 THEN
        RAISE EXCEPTION 'source "%" has no replicated table to verify', source
            USING ERRCODE = 'object_not_in_prerequisite_state', HINT = 'Wait for its init_replica to finish.';
    END IF;
    RETURN sch_chameleon.fn_enqueue(v_src, 'verify', jsonb_build_object('tables', to_jsonb(v_tables)));
END
$$;
COMMENT ON FUNCTION sch_chameleon.verify(text, text[]) IS
'Queues an online comparison of MySQL and PostgreSQL, chunk by chunk of each table (all replicated tables when tables is null) while the replica runs; results in show_verify(source). Returns the command id.';

CREATE FUNCTION sch_chameleon.repair(source text, "table" text)
RETURNS bigint
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_src  sch_chameleon.t_sources := sch_chameleon.fn_source(source, true);
    v_name text;
    v_tbl  sch_chameleon.t_tables;
BEGIN
    PERFORM sch_chameleon.fn_require_initialised(v_src);
    v_name := (sch_chameleon.fn_replicated_tables(v_src, ARRAY["table"]))[1];
    SELECT t.* INTO v_tbl FROM sch_chameleon.t_tables t
    WHERE t.source_id = v_src.source_id AND t.mysql_schema || '.' || t.mysql_table = v_name;
    IF cardinality(v_tbl.pk_columns) = 0 THEN
        RAISE EXCEPTION 'table % has no primary key: a range of it cannot be repaired in place', v_name
            USING ERRCODE = 'object_not_in_prerequisite_state',
                  HINT = 'sync_tables(source, ARRAY[table]) copies it again whole.';
    END IF;
    IF NOT EXISTS (
        SELECT 1 FROM sch_chameleon.t_verify_chunks c
        WHERE c.source_id = v_src.source_id AND c.mysql_schema = v_tbl.mysql_schema AND c.mysql_table = v_tbl.mysql_table
          AND c.state = 'differs'
          AND c.command_id = (SELECT max(x.command_id) FROM sch_chameleon.t_verify_chunks x
                              WHERE x.source_id = c.source_id AND x.mysql_schema = c.mysql_schema AND x.mysql_table = c.mysql_table)) THEN
        RAISE EXCEPTION 'table % has no differing range to repair', v_name
            USING ERRCODE = 'object_not_in_prerequisite_state',
                  HINT = 'repair() copies the ranges the last verify() of the table found different: run verify(source, ARRAY[table]) first.';
    END IF;
    RETURN sch_chameleon.fn_enqueue(v_src, 'repair', jsonb_build_object('table', v_name));
END
$$;
COMMENT ON FUNCTION sch_chameleon.repair(text, text) IS
'Queues a new copy of only the ranges of a table that its last verify() found different, while the replica runs; then compares them again. Returns the command id.';

CREATE FUNCTION sch_chameleon.show_verify(source text)
RETURNS TABLE (mysql_schema text, mysql_table text, command_id bigint, command text, state text,
               chunks integer, chunks_differing integer, mysql_rows bigint, pg_rows bigint, rows_differing bigint,
               differing_ranges jsonb, checked_at timestamptz)
LANGUAGE plpgsql STABLE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_src sch_chameleon.t_sources := sch_chameleon.fn_source(source, false);
BEGIN
    RETURN QUERY
    WITH latest AS (
        SELECT c.mysql_schema, c.mysql_table, max(c.command_id) AS command_id
        FROM sch_chameleon.t_verify_chunks c WHERE c.source_id = v_src.source_id
        GROUP BY c.mysql_schema, c.mysql_table
    )
    SELECT l.mysql_schema::text, l.mysql_table::text, l.command_id, cmd.command,
           CASE WHEN bool_or(c.state = 'error') THEN 'error'
                WHEN bool_or(c.state = 'differs') THEN 'differs'
                WHEN bool_or(c.state = 'repaired') THEN 'repaired'
                ELSE 'same' END,
           count(*)::integer, (count(*) FILTER (WHERE c.state IN ('differs', 'error')))::integer,
           sum(c.mysql_rows)::bigint, sum(c.pg_rows)::bigint, sum(c.differing)::bigint,
           coalesce(jsonb_agg(jsonb_build_object('chunk', c.chunk_no, 'key', c.key_column, 'from', c.range_from, 'to', c.range_to,
                                                 'differing', c.differing, 'keys', c.differing_keys, 'state', c.state, 'error', c.error)
                              ORDER BY c.chunk_no) FILTER (WHERE c.state <> 'same'), '[]'),
           max(c.checked_at)
    FROM latest l
    JOIN sch_chameleon.t_verify_chunks c
      ON c.command_id = l.command_id AND c.mysql_schema = l.mysql_schema AND c.mysql_table = l.mysql_table
    LEFT JOIN sch_chameleon.t_commands cmd ON cmd.command_id = l.command_id
    GROUP BY l.mysql_schema, l.mysql_table, l.command_id, cmd.command
    ORDER BY l.mysql_schema, l.mysql_table;
END
$$;
COMMENT ON FUNCTION sch_chameleon.show_verify(text) IS
'Per table of a source, the last verify() or repair(): chunks compared, rows on each side, the ranges that differ with their first differing keys.';

REVOKE ALL ON TABLE sch_chameleon.t_verify_chunks FROM PUBLIC;
REVOKE ALL ON FUNCTION sch_chameleon.fn_replicated_tables(sch_chameleon.t_sources, text[]) FROM PUBLIC;
REVOKE ALL ON FUNCTION sch_chameleon.verify(text, text[]) FROM PUBLIC;
REVOKE ALL ON FUNCTION sch_chameleon.repair(text, text) FROM PUBLIC;
REVOKE ALL ON FUNCTION sch_chameleon.show_verify(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION sch_chameleon.show_verify(text) TO chameleon_monitor;
GRANT EXECUTE ON FUNCTION sch_chameleon.verify(text, text[]), sch_chameleon.repair(text, text) TO chameleon_admin;

-- show_status(): tables quarantined at DDL count as excluded; the time of the last maintenance
DROP FUNCTION sch_chameleon.show_status();
CREATE FUNCTION sch_chameleon.show_status()
RETURNS TABLE (source text, status text, consistent boolean, owner text,
               read_lag interval, replay_lag interval,
               read_position text, replay_position text,
               last_received timestamptz, last_replayed timestamptz,
               pending_batches bigint, tables_replicated bigint, tables_excluded bigint,
               events_read bigint, events_applied bigint, events_skipped bigint, last_error text, warning text,
               last_maintenance timestamptz)
LANGUAGE sql STABLE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT s.source_name, s.status,
           -- consistent once the replay has passed every copied table's coordinates
           s.replay_file IS NOT NULL AND NOT EXISTS (
               SELECT 1 FROM sch_chameleon.t_tables t
               WHERE t.source_id = s.source_id AND t.copy_file IS NOT NULL AND t.state <> 'excluded'
                 AND NOT sch_chameleon.fn_position_reached(s.replay_file, s.replay_pos, t.copy_file, t.copy_pos)),
           sch_chameleon.fn_live_owner(s.source_id),
           r.read_lag,
           CASE WHEN b.pending = 0 THEN r.read_lag ELSE now() - b.oldest_event END,
           (SELECT sch_chameleon.fn_position_text(rp.file, rp.pos, rp.gtid) FROM sch_chameleon.fn_read_position(s.source_id) rp),
           sch_chameleon.fn_position_text(s.replay_file, s.replay_pos, s.replay_gtid),
           rs.read_at, s.last_replayed_at,
           b.pending,
           (SELECT count(*) FROM sch_chameleon.t_tables t WHERE t.source_id = s.source_id AND t.state IN ('copied', 'replicating')),
           -- quarantined at a DDL statement too: not replicating until resolve_ddl or sync_tables
           (SELECT count(*) FROM sch_chameleon.t_tables t WHERE t.source_id = s.source_id AND t.state IN ('excluded', 'failed', 'quarantined')),
           s.events_read + b.pending_events, s.events_applied, s.events_skipped, s.last_error, s.warning,
           s.last_maintenance_at
    FROM sch_chameleon.t_sources s
    -- the newest batch: the reader's last write
    LEFT JOIN LATERAL (
        SELECT x.created_at, x.last_event_at
        FROM sch_chameleon.t_batches x WHERE x.source_id = s.source_id
        ORDER BY x.batch_id DESC LIMIT 1) lb ON true
    -- when the reader last wrote a batch or, idle, stamped the source
    CROSS JOIN LATERAL (
        SELECT greatest(s.last_read_at, lb.created_at) AS read_at,
               CASE WHEN lb.created_at IS NOT NULL AND (s.last_read_at IS NULL OR lb.created_at >= s.last_read_at)
                    THEN coalesce(lb.last_event_at, lb.created_at) ELSE s.last_read_event_at END AS read_event_at) rs
    -- the reader stamps last_read_at on every batch and, when the binlog is
    -- idle, every sleep_loop: a fresh stamp means caught up, so an idle
    -- source shows no lag; a stale one (reader stuck or gone) makes it grow
    CROSS JOIN LATERAL (
        SELECT CASE
                 WHEN rs.read_at IS NULL OR NOT s.replica_enabled THEN NULL
                 WHEN now() - rs.read_at <= greatest(interval '5 seconds',
                          make_interval(secs => 2 * coalesce((s.options ->> 'sleep_loop')::float8, 1)))
                   THEN greatest(rs.read_at - coalesce(rs.read_event_at, rs.read_at), interval '0')
                 ELSE now() - coalesce(rs.read_event_at, rs.read_at)
               END AS read_lag) r
    CROSS JOIN LATERAL (
        SELECT count(*) AS pending, coalesce(sum(x.events), 0) AS pending_events,
               min(coalesce(x.first_event_at, x.created_at)) AS oldest_event
        FROM sch_chameleon.t_batches x
        WHERE x.source_id = s.source_id AND x.applied_at IS NULL) b
    ORDER BY s.source_name
$$;
COMMENT ON FUNCTION sch_chameleon.show_status() IS
'One row per source: status, consistency, owner agent, read and replay lag, positions, counters and the last error.';
REVOKE ALL ON FUNCTION sch_chameleon.show_status() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION sch_chameleon.show_status() TO chameleon_monitor;
