import type { ColumnType, Generated } from 'kysely';


type Timestamp = ColumnType<Date, Date | string, Date | string>;
type Json = ColumnType<unknown, string, string>;
type BigIntCol = ColumnType<string, string | number | bigint, string | number | bigint>;
type GeneratedBigInt = ColumnType<string, string | number | bigint | undefined, string | number | bigint>;
type GeneratedTimestamp = ColumnType<Date, Date | string | undefined, Date | string>;

/** Types of the sch_chameleon tables, as kysely sees them. Keep in step with sql/30-tables. */
export interface SourcesTable {
  source_id: GeneratedBigInt;
  source_name: string;
  mysql_url: string;
  schema_mappings: Json;
  options: Json;
  status: 'ready' | 'initialising' | 'initialised' | 'starting' | 'running' | 'stopped' | 'error' | 'detached';
  replica_enabled: boolean;
  read_file: string | null;
  read_pos: BigIntCol | null;
  read_gtid: string | null;
  replay_file: string | null;
  replay_pos: BigIntCol | null;
  replay_gtid: string | null;
  last_read_event_at: Timestamp | null;
  last_read_at: Timestamp | null;
  last_replay_event_at: Timestamp | null;
  last_replayed_at: Timestamp | null;
  events_read: BigIntCol;
  events_applied: BigIntCol;
  events_skipped: BigIntCol;
  last_maintenance_at: Timestamp | null;
  last_error: string | null;
  warning: string | null;
  created_at: GeneratedTimestamp;
  updated_at: GeneratedTimestamp;
}

export interface TablesTable {
  source_id: BigIntCol;
  mysql_schema: string;
  mysql_table: string;
  pg_schema: string;
  pg_table: string;
  pk_columns: ColumnType<string[], string[], string[]>;
  state: 'pending' | 'copying' | 'copied' | 'replicating' | 'excluded' | 'failed' | 'quarantined';
  copy_file: string | null;
  copy_pos: BigIntCol | null;
  copy_gtid: string | null;
  rows_copied: BigIntCol;
  rows_estimate: BigIntCol | null;
  bytes_copied: BigIntCol;
  copy_started_at: Timestamp | null;
  copy_finished_at: Timestamp | null;
  copy_command: BigIntCol | null;
  copy_ranges: Generated<number>;
  events_applied: BigIntCol;
  reason: string | null;
  decoder_statements: Json | null;
  updated_at: GeneratedTimestamp;
}

export interface CommandsTable {
  command_id: GeneratedBigInt;
  source_id: BigIntCol | null;
  source_name: string | null;
  command: string;
  args: Json;
  state: 'pending' | 'running' | 'done' | 'failed' | 'cancelled';
  progress: Json | null;
  error: string | null;
  cancel_requested: Generated<boolean>;
  agent_id: string | null;
  attempts: Generated<number>;
  created_by: Generated<string>;
  created_at: GeneratedTimestamp;
  started_at: Timestamp | null;
  finished_at: Timestamp | null;
}

export interface AgentsTable {
  agent_id: string;
  hostname: string;
  pid: number;
  version: string;
  started_at: GeneratedTimestamp;
  heartbeat_at: GeneratedTimestamp;
  stopped_at: Timestamp | null;
}

export interface SourceLeasesTable {
  source_id: BigIntCol;
  agent_id: string;
  acquired_at: GeneratedTimestamp;
  expires_at: Timestamp;
}

export interface BatchesTable {
  batch_id: GeneratedBigInt;
  source_id: BigIntCol;
  end_file: string;
  end_pos: BigIntCol;
  end_gtid: string | null;
  events: number;
  transactions: number;
  bytes: BigIntCol;
  first_event_at: Timestamp | null;
  last_event_at: Timestamp | null;
  tables: Json | null;
  created_at: GeneratedTimestamp;
  applied_at: Timestamp | null;
}

export interface ErrorsTable {
  error_id: GeneratedBigInt;
  source_id: BigIntCol | null;
  mysql_schema: string | null;
  mysql_table: string | null;
  batch_id: BigIntCol | null;
  event_seq: number | null;
  binlog_file: string | null;
  binlog_pos: BigIntCol | null;
  statement: string | null;
  row_image: Json | null;
  sqlstate: string | null;
  message: string;
  created_at: GeneratedTimestamp;
}

export interface DiscardedRowsTable {
  discarded_id: GeneratedBigInt;
  source_id: BigIntCol | null;
  mysql_schema: string;
  mysql_table: string;
  origin: 'snapshot' | 'replica';
  row_image: Json | null;
  reason: string;
  created_at: GeneratedTimestamp;
}

export interface DdlEventsTable {
  ddl_id: GeneratedBigInt;
  source_id: BigIntCol;
  mysql_schema: string;
  mysql_table: string;
  binlog_file: string | null;
  binlog_pos: BigIntCol | null;
  mysql_ddl: string;
  plan: Json | null;
  state: 'applied' | 'quarantined' | 'resolved' | 'recopied';
  error: string | null;
  resolved_sql: string | null;
  resolved_by: string | null;
  created_at: GeneratedTimestamp;
  resolved_at: Timestamp | null;
}

export interface VersionTable {
  version: string;
  installed_at: GeneratedTimestamp;
}

export interface CatalogDatabase {
  'sch_chameleon.t_sources': SourcesTable;
  'sch_chameleon.t_tables': TablesTable;
  'sch_chameleon.t_commands': CommandsTable;
  'sch_chameleon.t_agents': AgentsTable;
  'sch_chameleon.t_source_leases': SourceLeasesTable;
  'sch_chameleon.t_batches': BatchesTable;
  'sch_chameleon.t_errors': ErrorsTable;
  'sch_chameleon.t_discarded_rows': DiscardedRowsTable;
  'sch_chameleon.t_ddl_events': DdlEventsTable;
  'sch_chameleon.t_version': VersionTable;
}
