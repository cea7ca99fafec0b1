CREATE FUNCTION sch_chameleon.wait_command(command_id bigint, timeout interval DEFAULT '1 hour')
RETURNS TABLE (id bigint, source text, command text, args jsonb, state text, progress jsonb,
               error text, created_at timestamptz, started_at timestamptz, finished_at timestamptz)
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_deadline timestamptz := clock_timestamp() + timeout;
    v_cmd      sch_chameleon.t_commands;
    v_sleep    double precision := 0.02;
    v_xmin     bigint;
    v_top      bigint;
BEGIN
    IF command_id IS NULL THEN
        RAISE EXCEPTION 'command_id must not be null' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    IF timeout IS NULL OR timeout < interval '0' THEN
        RAISE EXCEPTION 'timeout must be a positive interval' USING ERRCODE = 'invalid_parameter_value';
    END IF;
    -- The agent cannot see a command before the transaction that made it
    -- commits. A row we see whose writer is still in progress is ours, also
    -- when written under a savepoint (psql's ON_ERROR_ROLLBACK, EXCEPTION
    -- blocks), where xmin is a subtransaction's xid, not the top-level one.
    v_top := pg_current_xact_id_if_assigned()::text::bigint;
    IF v_top IS NOT NULL THEN
        SELECT c.xmin::text::bigint INTO v_xmin
        FROM sch_chameleon.t_commands c WHERE c.command_id = wait_command.command_id AND c.state = 'pending';
        IF FOUND THEN
            -- xmin has 32 bits; every live xid is within 2^31 of ours, so the
            -- full one is the value of that residue nearest to ours
            v_xmin := ((v_top >> 32) << 32) + v_xmin;
            IF v_xmin > v_top + 2147483648 THEN
                v_xmin := v_xmin - 4294967296;
            ELSIF v_xmin < v_top - 2147483648 THEN
                v_xmin := v_xmin + 4294967296;
            END IF;
            IF pg_xact_status(v_xmin::text::xid8) = 'in progress' THEN
                RAISE EXCEPTION 'command % was issued in this transaction and cannot run before it commits', command_id
                    USING ERRCODE = 'object_not_in_prerequisite_state',
                          HINT = 'Commit, then call wait_command() in a new transaction.';
            END IF;
        END IF;
    END IF;
    LOOP
        SELECT * INTO v_cmd FROM sch_chameleon.t_commands c WHERE c.command_id = wait_command.command_id;
        IF NOT FOUND THEN
            RAISE EXCEPTION 'unknown command %', command_id
                USING ERRCODE = 'undefined_object', HINT = 'show_commands() lists the commands.';
        END IF;
        EXIT WHEN v_cmd.state IN ('done', 'failed', 'cancelled');
        IF clock_timestamp() >= v_deadline THEN
            RAISE EXCEPTION 'command % (%) still % after %', command_id, v_cmd.command, v_cmd.state, timeout
                USING ERRCODE = 'query_canceled',
                      HINT = CASE WHEN v_cmd.state = 'pending'
                                  THEN 'Is an agent running? Start one with: chameleon agent --pg URL'
                                  ELSE 'It goes on running; call wait_command() again.' END;
        END IF;
        PERFORM pg_sleep(least(v_sleep, greatest(extract(epoch FROM v_deadline - clock_timestamp()), 0)));
        -- a finished command is seen within 0.1 s: a caller chaining commands waits no longer than that
        v_sleep := least(v_sleep * 1.5, 0.1);
    END LOOP;
    IF v_cmd.state = 'failed' THEN
        RAISE EXCEPTION 'command % (%) failed: %', command_id, v_cmd.command, v_cmd.error
            USING ERRCODE = 'external_routine_exception', HINT = 'show_commands() and show_errors() have the details.';
    END IF;
    IF v_cmd.state = 'cancelled' THEN
        RAISE EXCEPTION 'command % (%) was cancelled%', command_id, v_cmd.command, coalesce(': ' || v_cmd.error, '')
            USING ERRCODE = 'query_canceled';
    END IF;
    RETURN QUERY SELECT v_cmd.command_id, v_cmd.source_name, v_cmd.command, v_cmd.args, v_cmd.state, v_cmd.progress,
                        v_cmd.error, v_cmd.created_at, v_cmd.started_at, v_cmd.finished_at;
END
$$;
COMMENT ON FUNCTION sch_chameleon.wait_command(bigint, interval) IS
'Blocks until a command finishes and returns its final row; raises if it failed, was cancelled or timed out.';

CREATE FUNCTION sch_chameleon.cancel_command(command_id bigint)
RETURNS text
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_cmd sch_chameleon.t_commands;
BEGIN
    SELECT * INTO v_cmd FROM sch_chameleon.t_commands c WHERE c.command_id = cancel_command.command_id FOR UPDATE;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'unknown command %', command_id USING ERRCODE = 'undefined_object';
    END IF;
    IF v_cmd.state = 'pending' THEN
        UPDATE sch_chameleon.t_commands c SET state = 'cancelled', finished_at = now(), error = 'cancelled by ' || session_user
        WHERE c.command_id = v_cmd.command_id;
        IF v_cmd.command = 'start_replica' THEN
            UPDATE sch_chameleon.t_sources s SET replica_enabled = false WHERE s.source_id = v_cmd.source_id;
        END IF;
        RETURN 'cancelled';
    ELSIF v_cmd.state = 'running' THEN
        UPDATE sch_chameleon.t_commands c SET cancel_requested = true WHERE c.command_id = v_cmd.command_id;
        PERFORM pg_notify('chameleon_commands', json_build_object('command_id', v_cmd.command_id, 'cancel', true)::text);
        RETURN 'cancel requested';
    END IF;
    RAISE EXCEPTION 'command % has already finished (%)', command_id, v_cmd.state
        USING ERRCODE = 'object_not_in_prerequisite_state';
END
$$;
COMMENT ON FUNCTION sch_chameleon.cancel_command(bigint) IS
'Cancels a pending command at once, or asks the agent to stop a running one at its next step.';
