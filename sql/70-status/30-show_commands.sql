CREATE FUNCTION sch_chameleon.show_commands()
RETURNS TABLE (id bigint, source text, command text, args jsonb, state text, progress jsonb, error text,
               created_at timestamptz, started_at timestamptz, finished_at timestamptz,
               agent text, attempts integer, created_by name)
LANGUAGE sql STABLE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT c.command_id, c.source_name, c.command, c.args, c.state, c.progress, c.error,
           c.created_at, c.started_at, c.finished_at, c.agent_id, c.attempts, c.created_by
    FROM sch_chameleon.t_commands c
    ORDER BY c.command_id
$$;
COMMENT ON FUNCTION sch_chameleon.show_commands() IS 'The command queue and its history: state, progress and error of every command.';
