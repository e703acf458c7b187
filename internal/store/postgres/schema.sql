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
-- The access log: append-only, hash-chained (see docs/access-log.md).
CREATE TABLE IF NOT EXISTS access_log (
  seq bigint PRIMARY KEY,
  at timestamptz NOT NULL,
  actor text NOT NULL,
  auth_method text NOT NULL,
  credential_id text NOT NULL,
  role text NOT NULL,
  purpose text NOT NULL,
  dataset text NOT NULL,
  query text NOT NULL,
  records bigint NOT NULL,
  subjects bigint NOT NULL,
  subject_keys text NOT NULL,
  client_net text NOT NULL,
  decision text NOT NULL,
  reason text NOT NULL,
  prev_hash bytea NOT NULL UNIQUE,
  hash bytea NOT NULL UNIQUE
);
CREATE INDEX IF NOT EXISTS access_log_actor ON access_log (actor, seq);
CREATE INDEX IF NOT EXISTS access_log_dataset ON access_log (dataset, seq);
CREATE INDEX IF NOT EXISTS access_log_at ON access_log (at);
CREATE TABLE IF NOT EXISTS access_log_subjects (
  subject_key text NOT NULL,
  seq bigint NOT NULL,
  PRIMARY KEY (subject_key, seq)
);
-- steward's database role can insert and read entries, never change or
-- remove them: every UPDATE, DELETE or TRUNCATE is refused here. Only a
-- superuser or the table owner disabling the trigger gets past it, and the
-- hash chain then names the entry that was touched.
CREATE OR REPLACE FUNCTION steward_access_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'the access log is append-only: % on % refused', TG_OP, TG_TABLE_NAME
    USING ERRCODE = 'insufficient_privilege';
END $$;
CREATE OR REPLACE TRIGGER access_log_append_only BEFORE UPDATE OR DELETE ON access_log
  FOR EACH ROW EXECUTE FUNCTION steward_access_log_append_only();
CREATE OR REPLACE TRIGGER access_log_no_truncate BEFORE TRUNCATE ON access_log
  FOR EACH STATEMENT EXECUTE FUNCTION steward_access_log_append_only();
CREATE OR REPLACE TRIGGER access_log_subjects_append_only BEFORE UPDATE OR DELETE ON access_log_subjects
  FOR EACH ROW EXECUTE FUNCTION steward_access_log_append_only();
CREATE OR REPLACE TRIGGER access_log_subjects_no_truncate BEFORE TRUNCATE ON access_log_subjects
  FOR EACH STATEMENT EXECUTE FUNCTION steward_access_log_append_only();
-- Messages steward has promised to send (see docs/notify.md). A row is
-- pending while sent_at and failed_at are null; next_attempt_at is both the
-- retry time and, while a worker holds the message, the end of its lease.
CREATE TABLE IF NOT EXISTS outbox (
  id bigserial PRIMARY KEY,
  kind text NOT NULL,
  recipient text NOT NULL,
  subject text NOT NULL DEFAULT '',
  body text NOT NULL,
  ref text NOT NULL DEFAULT '',
  created_at timestamptz NOT NULL,
  next_attempt_at timestamptz NOT NULL,
  attempts integer NOT NULL DEFAULT 0,
  last_error text NOT NULL DEFAULT '',
  sent_at timestamptz,
  failed_at timestamptz
);
CREATE INDEX IF NOT EXISTS outbox_due ON outbox (next_attempt_at, id) WHERE sent_at IS NULL AND failed_at IS NULL;
CREATE INDEX IF NOT EXISTS outbox_ref ON outbox (ref text_pattern_ops);
