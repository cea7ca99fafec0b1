CREATE TABLE sch_chameleon.t_agents (
    agent_id     text        PRIMARY KEY,
    hostname     text        NOT NULL,
    pid          integer     NOT NULL,
    version      text        NOT NULL,
    started_at   timestamptz NOT NULL DEFAULT pg_catalog.now(),
    heartbeat_at timestamptz NOT NULL DEFAULT pg_catalog.now(),
    stopped_at   timestamptz
);
COMMENT ON TABLE sch_chameleon.t_agents IS 'Agents that have run against this database and their last heartbeat';

CREATE TABLE sch_chameleon.t_source_leases (
    source_id    bigint      PRIMARY KEY REFERENCES sch_chameleon.t_sources ON DELETE CASCADE,
    agent_id     text        NOT NULL,
    acquired_at  timestamptz NOT NULL DEFAULT pg_catalog.now(),
    expires_at   timestamptz NOT NULL
);
-- Makes agent_id a key column: a takeover (agent_id changes) then waits for
-- the KEY SHARE fence of the owner's batch and replay transactions, while a
-- renewal (only expires_at changes) does not, so heartbeats never queue up
-- the replica behind them.
CREATE UNIQUE INDEX t_source_leases_owner ON sch_chameleon.t_source_leases (source_id, agent_id);
COMMENT ON TABLE sch_chameleon.t_source_leases IS 'Which agent owns a source; an expired lease may be taken over';
