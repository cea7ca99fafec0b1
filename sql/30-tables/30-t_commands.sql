CREATE TABLE sch_chameleon.t_commands (
    command_id   bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    source_id    bigint      REFERENCES sch_chameleon.t_sources ON DELETE SET NULL,
    -- kept so the audit trail still names a dropped source
    source_name  text,
    command      text        NOT NULL,
    args         jsonb       NOT NULL DEFAULT '{}',
    state        text        NOT NULL DEFAULT 'pending'
                 CHECK (state IN ('pending', 'running', 'done', 'failed', 'cancelled')),
    progress     jsonb,
    error        text,
    -- set by cancel_command on a running command; the agent stops at its next step
    cancel_requested boolean NOT NULL DEFAULT false,
    agent_id     text,
    attempts     integer     NOT NULL DEFAULT 0,
    created_by   name        NOT NULL DEFAULT session_user,
    created_at   timestamptz NOT NULL DEFAULT pg_catalog.now(),
    started_at   timestamptz,
    finished_at  timestamptz
);
CREATE INDEX t_commands_pending ON sch_chameleon.t_commands (command_id) WHERE state IN ('pending', 'running');
COMMENT ON TABLE sch_chameleon.t_commands IS 'The command queue: one row per control call; NOTIFY only wakes the agent';
