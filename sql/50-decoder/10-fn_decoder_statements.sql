-- Builds, once per table and replay call, the statements the decoder runs.
-- Every statement reads the log rows of one table in a range of one batch:
--   $1 batch, $2/$3 first and last event, $4/$5 MySQL schema and table,
--   $6/$7 the table's copy coordinates (events of transactions committed at
--   or before them are already in the copy and are left out).
CREATE FUNCTION sch_chameleon.fn_decoder_statements(p_schema text, p_table text, p_pk text[])
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
    v_excluded text;
    v_keys     text;
    v_pkmatch  text;
    v_nkeys    bigint;
    v_kbcols   text;
    v_kacols   text;
    v_kbs      text;
    v_kas      text;
    v_kbask    text;
    v_ks       text;
    v_delmatch text;
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
               string_agg(format('(l.row_before ->> %L)::%s AS kb%s', k.name, format_type(a.atttypid, a.atttypmod), k.n), ', ' ORDER BY k.n),
               string_agg(format('(l.row_after ->> %L)::%s AS ka%s', k.name, format_type(a.atttypid, a.atttypmod), k.n), ', ' ORDER BY k.n),
               string_agg(format('kb%s', k.n), ', ' ORDER BY k.n),
               string_agg(format('ka%s', k.n), ', ' ORDER BY k.n),
               string_agg(format('kb%s AS k%s', k.n, k.n), ', ' ORDER BY k.n),
               string_agg(format('k%s', k.n), ', ' ORDER BY k.n),
               string_agg(format('t.%I = f.k%s', k.name, k.n), ' AND ' ORDER BY k.n)
        INTO v_nkeys, v_kbcols, v_kacols, v_kbs, v_kas, v_kbask, v_ks, v_delmatch
        FROM unnest(p_pk) WITH ORDINALITY AS k(name, n)
        LEFT JOIN pg_attribute a ON a.attrelid = v_rel AND a.attname = k.name AND a.attnum > 0 AND NOT a.attisdropped;
        IF v_nkeys <> cardinality(p_pk) THEN
            RAISE EXCEPTION 'target table %.% lacks a key column of %', p_schema, p_table, p_pk USING ERRCODE = 'undefined_column';
        END IF;
        SELECT string_agg(format('%I = EXCLUDED.%I', c, c), ', ') INTO v_excluded
        FROM unnest(v_cols) c WHERE c <> ALL (p_pk);
        v_result := v_result || jsonb_build_object(
            'delete_one', format(
                'DELETE FROM %s t USING (SELECT %s FROM sch_chameleon.t_log_events l'
                ' CROSS JOIN LATERAL jsonb_populate_record(NULL::%s, l.row_before) r'
                ' WHERE %s AND l.kind IN (''update'', ''delete'')) s WHERE %s',
                v_target, v_keys, v_target, v_filter, v_pkmatch),
            -- The net effect of a range: every key ends deleted or holding the
            -- after image of its last event; the events of a batch commit
            -- together, so only that final state is ever visible. One
            -- statement per table and batch, however the events interleave.
            'net', format(
                'WITH ev AS (SELECT l.event_seq, l.kind, l.row_after, %s, %s'
                '              FROM sch_chameleon.t_log_events l WHERE %s),'
                ' assign AS (SELECT event_seq, 0 AS sub, %s, NULL::jsonb AS img FROM ev'
                '             WHERE kind = ''delete'' OR (kind = ''update'' AND (%s) IS DISTINCT FROM (%s))'
                '            UNION ALL'
                '            SELECT event_seq, 1, %s, row_after FROM ev WHERE kind IN (''insert'', ''update'')),'
                ' final AS (SELECT DISTINCT ON (%s) %s, img FROM assign ORDER BY %s, event_seq DESC, sub DESC),'
                ' del AS (DELETE FROM %s t USING final f WHERE f.img IS NULL AND %s RETURNING 1)'
                ' INSERT INTO %s AS t (%s) OVERRIDING SYSTEM VALUE SELECT %s'
                ' FROM final f CROSS JOIN LATERAL jsonb_populate_record(NULL::%s, f.img) r WHERE f.img IS NOT NULL'
                ' ON CONFLICT (%s) DO %s',
                v_kbcols, v_kacols, v_filter,
                v_kbask, v_kbs, v_kas,
                v_kas,
                v_ks, v_ks, v_ks,
                v_target, v_delmatch,
                v_target, v_list, v_rlist, v_target,
                (SELECT string_agg(format('%I', k), ', ') FROM unnest(p_pk) k),
                CASE WHEN v_excluded IS NULL THEN 'NOTHING' ELSE 'UPDATE SET ' || v_excluded END));
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
