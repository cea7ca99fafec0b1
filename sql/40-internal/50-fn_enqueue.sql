-- Commands are rows: one issued inside a transaction exists only if it commits,
-- and the NOTIFY is delivered only then too.
CREATE FUNCTION sch_chameleon.fn_enqueue(p_source sch_chameleon.t_sources, p_command text, p_args jsonb DEFAULT '{}')
RETURNS bigint
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_id bigint;
BEGIN
    INSERT INTO sch_chameleon.t_commands (source_id, source_name, command, args)
    VALUES (p_source.source_id, p_source.source_name, p_command, coalesce(p_args, '{}'))
    RETURNING command_id INTO v_id;
    PERFORM pg_notify('chameleon_commands', json_build_object('command_id', v_id, 'source', p_source.source_name)::text);
    RETURN v_id;
END
$$;
COMMENT ON FUNCTION sch_chameleon.fn_enqueue(sch_chameleon.t_sources, text, jsonb) IS 'Queues a command for the agent and wakes it';

CREATE FUNCTION sch_chameleon.fn_mask_url(url text)
RETURNS text
LANGUAGE sql IMMUTABLE
SET search_path = pg_catalog, pg_temp
AS $$
    -- as a URL parser reads it: the password runs to the last @ before the
    -- path, so an unencoded @ in it must not leave its tail visible
    SELECT regexp_replace(url, '^([a-z0-9+]+://[^:/?#]*):[^/?#]*@', '\1:********@', 'i')
$$;
COMMENT ON FUNCTION sch_chameleon.fn_mask_url(text) IS 'A connection URL with its password hidden';

CREATE FUNCTION sch_chameleon.fn_position_text(p_file text, p_pos bigint, p_gtid text)
RETURNS text
LANGUAGE sql IMMUTABLE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT CASE WHEN p_file IS NULL THEN NULL
                ELSE p_file || ':' || p_pos || coalesce(' (' || p_gtid || ')', '') END
$$;
COMMENT ON FUNCTION sch_chameleon.fn_position_text(text, bigint, text) IS 'A binlog position as file:position (gtid)';
