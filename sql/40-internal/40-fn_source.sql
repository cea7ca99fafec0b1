CREATE FUNCTION sch_chameleon.fn_source(source text, for_update boolean DEFAULT false)
RETURNS sch_chameleon.t_sources
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_row sch_chameleon.t_sources;
BEGIN
    IF source IS NULL THEN
        RAISE EXCEPTION 'source must not be null' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    IF for_update THEN
        SELECT * INTO v_row FROM sch_chameleon.t_sources s WHERE s.source_name = source FOR UPDATE;
    ELSE
        SELECT * INTO v_row FROM sch_chameleon.t_sources s WHERE s.source_name = source;
    END IF;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'unknown source "%"', source
            USING ERRCODE = 'undefined_object', HINT = 'show_sources() lists the sources; add_source() adds one.';
    END IF;
    RETURN v_row;
END
$$;
COMMENT ON FUNCTION sch_chameleon.fn_source(text, boolean) IS 'The catalogue row of a source, or an error naming the unknown source';
