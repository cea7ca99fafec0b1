CREATE FUNCTION sch_chameleon.fn_validate_mappings(schema_mappings jsonb, p_source_id bigint DEFAULT NULL)
RETURNS jsonb
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_mysql text;
    v_pg    jsonb;
    v_other text;
BEGIN
    IF schema_mappings IS NULL OR jsonb_typeof(schema_mappings) <> 'object' OR schema_mappings = '{}'::jsonb THEN
        RAISE EXCEPTION 'schema_mappings must be a non-empty json object {"mysql_db": "pg_schema", ...}'
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    FOR v_mysql, v_pg IN SELECT key, value FROM jsonb_each(schema_mappings) LOOP
        IF v_mysql = '' OR length(v_mysql) > 64 THEN
            RAISE EXCEPTION 'schema_mappings: "%" is not a MySQL database name', v_mysql
                USING ERRCODE = 'invalid_parameter_value';
        END IF;
        IF jsonb_typeof(v_pg) <> 'string' OR (v_pg #>> '{}') = '' OR length(v_pg #>> '{}') > 63 THEN
            RAISE EXCEPTION 'schema_mappings: the target of "%" must be a PostgreSQL schema name (1 to 63 characters), got %', v_mysql, v_pg
                USING ERRCODE = 'invalid_parameter_value';
        END IF;
        IF (v_pg #>> '{}') IN ('sch_chameleon', 'pg_catalog', 'information_schema') OR (v_pg #>> '{}') LIKE 'pg\_%' THEN
            RAISE EXCEPTION 'schema_mappings: "%" cannot be a target schema', v_pg #>> '{}'
                USING ERRCODE = 'invalid_parameter_value';
        END IF;
        IF (SELECT count(*) FROM jsonb_each_text(schema_mappings) WHERE value = v_pg #>> '{}') > 1 THEN
            RAISE EXCEPTION 'schema_mappings: schema "%" is the target of more than one MySQL database', v_pg #>> '{}'
                USING ERRCODE = 'invalid_parameter_value';
        END IF;
        SELECT s.source_name INTO v_other
        FROM sch_chameleon.t_sources s, jsonb_each_text(s.schema_mappings) m
        WHERE m.value = v_pg #>> '{}' AND s.source_id IS DISTINCT FROM p_source_id
        LIMIT 1;
        IF FOUND THEN
            RAISE EXCEPTION 'schema_mappings: schema "%" is already the target of source "%"', v_pg #>> '{}', v_other
                USING ERRCODE = 'duplicate_object';
        END IF;
    END LOOP;
    RETURN schema_mappings;
END
$$;
COMMENT ON FUNCTION sch_chameleon.fn_validate_mappings(jsonb, bigint) IS 'Checks a schema mapping: names valid, targets unique across all sources';
