CREATE FUNCTION sch_chameleon.add_source(source text, mysql_url text, schema_mappings jsonb, options jsonb DEFAULT '{}')
RETURNS bigint
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_id      bigint;
    v_options jsonb;
BEGIN
    IF source IS NULL OR source !~ '^[A-Za-z_][A-Za-z0-9_]{0,62}$' THEN
        RAISE EXCEPTION 'invalid source name %', coalesce(quote_literal(source), 'NULL')
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'A source name starts with a letter or underscore and holds letters, digits and underscores (at most 63).';
    END IF;
    IF EXISTS (SELECT 1 FROM sch_chameleon.t_sources s WHERE s.source_name = source) THEN
        RAISE EXCEPTION 'source "%" already exists', source
            USING ERRCODE = 'duplicate_object', HINT = 'Use alter_source() to change it or drop_source() first.';
    END IF;
    IF mysql_url IS NULL OR mysql_url !~* '^(mysql|mariadb)://[^/?#]+(/[^?#]*)?(\?.*)?$' THEN
        -- never echo the URL: it may hold a password
        RAISE EXCEPTION 'mysql_url is not a MySQL connection URL'
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'Use mysql://user:password@host:port (the password percent-encoded).';
    END IF;
    PERFORM sch_chameleon.fn_validate_mappings(schema_mappings);
    v_options := sch_chameleon.fn_validate_options(coalesce(options, '{}'::jsonb));

    INSERT INTO sch_chameleon.t_sources (source_name, mysql_url, schema_mappings, options)
    VALUES (source, mysql_url, schema_mappings, v_options)
    RETURNING source_id INTO v_id;
    PERFORM sch_chameleon.fn_record_command(v_id, source, 'add_source',
        jsonb_build_object('schema_mappings', schema_mappings, 'options', coalesce(options, '{}'::jsonb)));
    RETURN v_id;
END
$$;
COMMENT ON FUNCTION sch_chameleon.add_source(text, text, jsonb, jsonb) IS
'Registers a MySQL source: add_source(source, mysql_url, {"mysql_db": "pg_schema"}, options). Returns the source id.';
