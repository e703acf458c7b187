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
-- Data subject requests, their history and their execution steps.
CREATE TABLE IF NOT EXISTS requests (
  id text PRIMARY KEY,
  status_token_hash bytea NOT NULL,
  channel text NOT NULL,
  type text NOT NULL,
  status text NOT NULL,
  email text NOT NULL,
  app_user_id text NOT NULL,
  facebook_user_id text NOT NULL,
  subject_key text NOT NULL,
  account_id text NOT NULL,
  law text NOT NULL,
  due_at timestamptz,
  extension_reason text NOT NULL,
  email_confirmed_at timestamptz,
  confirm_hash bytea,
  confirmation_code text NOT NULL,
  question text NOT NULL,
  answer text NOT NULL,
  reject_reason text NOT NULL,
  assignee text NOT NULL,
  grace_until timestamptz,
  export_path text NOT NULL,
  export_expires_at timestamptz,
  receipt text NOT NULL,
  created_at timestamptz NOT NULL,
  updated_at timestamptz NOT NULL,
  status_at timestamptz NOT NULL,
  version bigint NOT NULL
);
-- One live request per subject and type: a second is a duplicate.
CREATE UNIQUE INDEX IF NOT EXISTS requests_one_live ON requests (subject_key, type) WHERE status <> 'rejected';
CREATE INDEX IF NOT EXISTS requests_status ON requests (status, status_at);
CREATE INDEX IF NOT EXISTS requests_created ON requests (created_at);
CREATE INDEX IF NOT EXISTS requests_email ON requests (email text_pattern_ops);
CREATE TABLE IF NOT EXISTS request_events (
  id bigserial PRIMARY KEY,
  request_id text NOT NULL REFERENCES requests(id),
  at timestamptz NOT NULL,
  actor text NOT NULL,
  from_status text NOT NULL,
  to_status text NOT NULL,
  note text NOT NULL
);
CREATE INDEX IF NOT EXISTS request_events_request ON request_events (request_id, id);
CREATE TABLE IF NOT EXISTS request_steps (
  request_id text NOT NULL REFERENCES requests(id),
  connector text NOT NULL,
  phase text NOT NULL,
  status text NOT NULL,
  count bigint NOT NULL,
  detail text NOT NULL,
  error text NOT NULL,
  attempts int NOT NULL,
  started_at timestamptz,
  finished_at timestamptz,
  PRIMARY KEY (request_id, connector, phase)
);
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
-- Local accounts, browser sessions and failed sign-ins (see
-- store.Accounts). E-mails are stored lower-cased, so the plain UNIQUE
-- is case-insensitive; disabled_at is null while the account may sign in.
CREATE TABLE IF NOT EXISTS users (
  id text PRIMARY KEY,
  email text NOT NULL UNIQUE,
  role text NOT NULL,
  password_hash text NOT NULL,
  created_at timestamptz NOT NULL,
  disabled_at timestamptz
);
-- user_id is a local user's id or a directory login, so no foreign key.
CREATE TABLE IF NOT EXISTS sessions (
  id text PRIMARY KEY,
  secret_hash bytea NOT NULL UNIQUE,
  user_id text NOT NULL,
  name text NOT NULL,
  role text NOT NULL,
  method text NOT NULL,
  created_at timestamptz NOT NULL,
  expires_at timestamptz NOT NULL,
  csrf_secret bytea NOT NULL
);
CREATE INDEX IF NOT EXISTS sessions_user ON sessions (user_id);
CREATE INDEX IF NOT EXISTS sessions_expires ON sessions (expires_at);
CREATE TABLE IF NOT EXISTS login_failures (
  key text NOT NULL,
  at timestamptz NOT NULL
);
CREATE INDEX IF NOT EXISTS login_failures_key_at ON login_failures (key, at);
CREATE INDEX IF NOT EXISTS login_failures_at ON login_failures (at);
