-- One event applied alone: for tables without a key, and for finding the row
-- at fault after a set-based statement failed.
CREATE FUNCTION sch_chameleon.fn_replay_event(p_stmts jsonb, p_kind text, p_batch_id bigint, p_seq integer,
                                              p_table_no integer, p_copy_file text, p_copy_pos bigint)
RETURNS bigint
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_n bigint := 0;
BEGIN
    IF p_stmts ? 'delete_one' THEN
        -- keyed table: an update is the delete of the old key and the insert of the new row
        IF p_kind IN ('update', 'delete') THEN
            EXECUTE p_stmts ->> 'delete_one' USING p_batch_id, p_seq, p_seq, p_table_no, p_copy_file, p_copy_pos;
            GET DIAGNOSTICS v_n = ROW_COUNT;
        END IF;
        IF p_kind IN ('insert', 'update') THEN
            EXECUTE p_stmts ->> 'insert_one' USING p_batch_id, p_seq, p_seq, p_table_no, p_copy_file, p_copy_pos;
            GET DIAGNOSTICS v_n = ROW_COUNT;
        END IF;
    ELSIF p_kind = 'insert' THEN
        EXECUTE p_stmts ->> 'insert_one' USING p_batch_id, p_seq, p_seq, p_table_no, p_copy_file, p_copy_pos;
        GET DIAGNOSTICS v_n = ROW_COUNT;
    ELSIF p_kind = 'delete' THEN
        EXECUTE p_stmts ->> 'delete_row' USING p_batch_id, p_seq, p_seq, p_table_no, p_copy_file, p_copy_pos;
        GET DIAGNOSTICS v_n = ROW_COUNT;
    ELSE
        EXECUTE p_stmts ->> 'update_row' USING p_batch_id, p_seq, p_seq, p_table_no, p_copy_file, p_copy_pos;
        GET DIAGNOSTICS v_n = ROW_COUNT;
    END IF;
    RETURN v_n;
END
$$;
COMMENT ON FUNCTION sch_chameleon.fn_replay_event(jsonb, text, bigint, integer, integer, text, bigint) IS
'Applies a single logged event with the statements of its table';
