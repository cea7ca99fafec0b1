CREATE FUNCTION sch_chameleon.sync_tables(source text, tables text[])
RETURNS bigint
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_src    sch_chameleon.t_sources := sch_chameleon.fn_source(source, true);
    v_name   text;
    v_db     text;
    v_tables text[] := '{}';
BEGIN
    IF tables IS NULL OR cardinality(tables) = 0 THEN
        RAISE EXCEPTION 'tables must name at least one table'
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'Pass ARRAY[''db.table'', ...], or ARRAY[''disabled''] for every excluded or failed table.';
    END IF;
    IF 'disabled' = ANY (tables) THEN
        IF cardinality(tables) > 1 THEN
            RAISE EXCEPTION '"disabled" must be the only element of tables'
                USING ERRCODE = 'invalid_parameter_value',
                      HINT = 'ARRAY[''disabled''] re-copies every excluded or failed table; name other tables in a second call.';
        END IF;
        v_tables := ARRAY['disabled'];
    ELSE
        FOREACH v_name IN ARRAY tables LOOP
            IF v_name IS NULL OR v_name !~ '^.+\..+$' THEN
                RAISE EXCEPTION 'tables: % is not a "db.table" name', coalesce(quote_literal(v_name), 'NULL')
                    USING ERRCODE = 'invalid_parameter_value';
            END IF;
            -- MySQL names may hold dots: the database is the longest mapped name the entry starts with
            SELECT k INTO v_db FROM jsonb_object_keys(v_src.schema_mappings) k
            WHERE length(v_name) > length(k) + 1 AND left(v_name, length(k) + 1) = k || '.'
            ORDER BY length(k) DESC LIMIT 1;
            IF v_db IS NULL THEN
                RAISE EXCEPTION 'tables: the database of "%" is not mapped by source "%"', v_name, source
                    USING ERRCODE = 'invalid_parameter_value',
                          DETAIL = 'Mapped databases: ' || (SELECT string_agg(quote_ident(k), ', ' ORDER BY k)
                                                             FROM jsonb_object_keys(v_src.schema_mappings) k) || '.',
                          HINT = 'Name tables as "mysql_db.table" with a mapped database.';
            END IF;
            IF NOT v_name = ANY (v_tables) THEN
                v_tables := v_tables || v_name;
            END IF;
        END LOOP;
    END IF;
    PERFORM sch_chameleon.fn_require_initialised(v_src);
    RETURN sch_chameleon.fn_enqueue(v_src, 'sync_tables', jsonb_build_object('tables', to_jsonb(v_tables)));
END
$$;
COMMENT ON FUNCTION sch_chameleon.sync_tables(text, text[]) IS
'Queues a new copy of the named "db.table"s (ARRAY[''disabled'']: every excluded or failed table), while the replica keeps running. Returns the command id.';
