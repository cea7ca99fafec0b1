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
