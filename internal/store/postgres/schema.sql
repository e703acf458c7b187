CREATE SEQUENCE IF NOT EXISTS events_seq;
CREATE TABLE IF NOT EXISTS events (
  seq bigint NOT NULL DEFAULT nextval('events_seq'),
  dataset text NOT NULL,
  received_at timestamptz NOT NULL,
  event_id text NOT NULL DEFAULT '',
  subject_key text NOT NULL DEFAULT '',
  data json NOT NULL,
  PRIMARY KEY (dataset, received_at, seq)
) PARTITION BY RANGE (dataset, received_at);
CREATE INDEX IF NOT EXISTS events_dataset_seq ON events (dataset, seq);
CREATE INDEX IF NOT EXISTS events_subject ON events (subject_key) WHERE subject_key <> '';
CREATE TABLE IF NOT EXISTS event_partitions (
  name text PRIMARY KEY,
  dataset text NOT NULL,
  day_start timestamptz NOT NULL,
  day_end timestamptz NOT NULL
);
CREATE TABLE IF NOT EXISTS event_ids (
  dataset text NOT NULL,
  event_id text NOT NULL,
  received_at timestamptz NOT NULL,
  PRIMARY KEY (dataset, event_id)
);
CREATE INDEX IF NOT EXISTS event_ids_received ON event_ids (dataset, received_at);
CREATE TABLE IF NOT EXISTS tokens (
  id text PRIMARY KEY,
  name text NOT NULL,
  role text NOT NULL,
  secret_hash bytea NOT NULL UNIQUE,
  created_at timestamptz NOT NULL,
  expires_at timestamptz,
  last_used_at timestamptz,
  revoked_at timestamptz
);
CREATE TABLE IF NOT EXISTS sweeps (
  id bigserial PRIMARY KEY,
  dataset text NOT NULL,
  cutoff timestamptz NOT NULL,
  deleted bigint NOT NULL,
  started_at timestamptz NOT NULL,
  finished_at timestamptz NOT NULL,
  error text NOT NULL DEFAULT ''
);
CREATE TABLE IF NOT EXISTS settings (key text PRIMARY KEY, value text NOT NULL);
