-- The schema.sql every steward applied before migrations were versioned,
-- kept as it was so the upgrade test can make such a database. Never edit.
CREATE TABLE IF NOT EXISTS events (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  dataset TEXT NOT NULL,
  received_at INTEGER NOT NULL,
  event_id TEXT NOT NULL DEFAULT '',
  subject_key TEXT NOT NULL DEFAULT '',
  data TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS events_dataset_seq ON events(dataset, seq);
CREATE INDEX IF NOT EXISTS events_dataset_received ON events(dataset, received_at);
CREATE INDEX IF NOT EXISTS events_subject ON events(subject_key) WHERE subject_key <> '';
CREATE TABLE IF NOT EXISTS event_ids (
  dataset TEXT NOT NULL,
  event_id TEXT NOT NULL,
  received_at INTEGER NOT NULL,
  PRIMARY KEY (dataset, event_id)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS tokens (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL,
  role TEXT NOT NULL,
  secret_hash BLOB NOT NULL UNIQUE,
  created_at INTEGER NOT NULL,
  expires_at INTEGER NOT NULL DEFAULT 0,
  last_used_at INTEGER NOT NULL DEFAULT 0,
  revoked_at INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS sweeps (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  dataset TEXT NOT NULL,
  cutoff INTEGER NOT NULL,
  deleted INTEGER NOT NULL,
  started_at INTEGER NOT NULL,
  finished_at INTEGER NOT NULL,
  error TEXT NOT NULL DEFAULT ''
);
CREATE TABLE IF NOT EXISTS settings (key TEXT PRIMARY KEY, value TEXT NOT NULL);
-- The access log: append-only, hash-chained (see docs/access-log.md).
-- Subject keys are kept inline so verifying is one table scan, and again
-- in access_log_subjects so "who touched this subject" is an index lookup.
CREATE TABLE IF NOT EXISTS access_log (
  seq INTEGER PRIMARY KEY,
  at INTEGER NOT NULL,
  actor TEXT NOT NULL,
  auth_method TEXT NOT NULL,
  credential_id TEXT NOT NULL,
  role TEXT NOT NULL,
  purpose TEXT NOT NULL,
  dataset TEXT NOT NULL,
  query TEXT NOT NULL,
  records INTEGER NOT NULL,
  subjects INTEGER NOT NULL,
  subject_keys TEXT NOT NULL,
  client_net TEXT NOT NULL,
  decision TEXT NOT NULL,
  reason TEXT NOT NULL,
  prev_hash BLOB NOT NULL UNIQUE,
  hash BLOB NOT NULL UNIQUE
);
CREATE INDEX IF NOT EXISTS access_log_actor ON access_log (actor, seq);
CREATE INDEX IF NOT EXISTS access_log_dataset ON access_log (dataset, seq);
CREATE INDEX IF NOT EXISTS access_log_at ON access_log (at);
CREATE TABLE IF NOT EXISTS access_log_subjects (
  subject_key TEXT NOT NULL,
  seq INTEGER NOT NULL,
  PRIMARY KEY (subject_key, seq)
) WITHOUT ROWID;
-- The file's owner can always edit the file; these stop steward's own code
-- (and anyone using it through SQL without dropping them) from doing so.
CREATE TRIGGER IF NOT EXISTS access_log_no_update BEFORE UPDATE ON access_log
BEGIN SELECT RAISE(ABORT, 'the access log is append-only'); END;
CREATE TRIGGER IF NOT EXISTS access_log_no_delete BEFORE DELETE ON access_log
BEGIN SELECT RAISE(ABORT, 'the access log is append-only'); END;
CREATE TRIGGER IF NOT EXISTS access_log_subjects_no_update BEFORE UPDATE ON access_log_subjects
BEGIN SELECT RAISE(ABORT, 'the access log is append-only'); END;
CREATE TRIGGER IF NOT EXISTS access_log_subjects_no_delete BEFORE DELETE ON access_log_subjects
BEGIN SELECT RAISE(ABORT, 'the access log is append-only'); END;
-- Data subject requests, their history and their execution steps.
CREATE TABLE IF NOT EXISTS requests (
  id TEXT PRIMARY KEY,
  status_token_hash BLOB NOT NULL,
  channel TEXT NOT NULL,
  type TEXT NOT NULL,
  status TEXT NOT NULL,
  email TEXT NOT NULL,
  app_user_id TEXT NOT NULL,
  facebook_user_id TEXT NOT NULL,
  subject_key TEXT NOT NULL,
  account_id TEXT NOT NULL,
  law TEXT NOT NULL,
  due_at INTEGER NOT NULL,
  extension_reason TEXT NOT NULL,
  email_confirmed_at INTEGER NOT NULL,
  confirm_hash BLOB,
  confirmation_code TEXT NOT NULL,
  question TEXT NOT NULL,
  answer TEXT NOT NULL,
  reject_reason TEXT NOT NULL,
  assignee TEXT NOT NULL,
  grace_until INTEGER NOT NULL,
  export_path TEXT NOT NULL,
  export_expires_at INTEGER NOT NULL,
  receipt TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  status_at INTEGER NOT NULL,
  version INTEGER NOT NULL
);
-- One live request per subject and type: a second is a duplicate.
CREATE UNIQUE INDEX IF NOT EXISTS requests_one_live ON requests (subject_key, type) WHERE status <> 'rejected';
CREATE INDEX IF NOT EXISTS requests_status ON requests (status, status_at);
CREATE INDEX IF NOT EXISTS requests_created ON requests (created_at);
CREATE INDEX IF NOT EXISTS requests_email ON requests (email);
CREATE TABLE IF NOT EXISTS request_events (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  request_id TEXT NOT NULL REFERENCES requests(id),
  at INTEGER NOT NULL,
  actor TEXT NOT NULL,
  from_status TEXT NOT NULL,
  to_status TEXT NOT NULL,
  note TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS request_events_request ON request_events (request_id, id);
CREATE TABLE IF NOT EXISTS request_steps (
  request_id TEXT NOT NULL REFERENCES requests(id),
  connector TEXT NOT NULL,
  phase TEXT NOT NULL,
  status TEXT NOT NULL,
  count INTEGER NOT NULL,
  detail TEXT NOT NULL,
  error TEXT NOT NULL,
  attempts INTEGER NOT NULL,
  started_at INTEGER NOT NULL,
  finished_at INTEGER NOT NULL,
  PRIMARY KEY (request_id, connector, phase)
);
-- Messages steward has promised to send (see docs/notify.md). A row is
-- pending while sent_at = 0 and failed_at = 0; next_attempt_at is both the
-- retry time and, while a worker holds the message, the end of its lease.
CREATE TABLE IF NOT EXISTS outbox (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  kind TEXT NOT NULL,
  recipient TEXT NOT NULL,
  subject TEXT NOT NULL DEFAULT '',
  body TEXT NOT NULL,
  ref TEXT NOT NULL DEFAULT '',
  created_at INTEGER NOT NULL,
  next_attempt_at INTEGER NOT NULL,
  attempts INTEGER NOT NULL DEFAULT 0,
  last_error TEXT NOT NULL DEFAULT '',
  sent_at INTEGER NOT NULL DEFAULT 0,
  failed_at INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS outbox_due ON outbox (next_attempt_at, id) WHERE sent_at = 0 AND failed_at = 0;
CREATE INDEX IF NOT EXISTS outbox_ref ON outbox (ref, id);
-- Local accounts, browser sessions and failed sign-ins (see
-- store.Accounts). E-mails are stored lower-cased, so the plain UNIQUE
-- is case-insensitive; disabled_at = 0 while the account may sign in.
CREATE TABLE IF NOT EXISTS users (
  id TEXT PRIMARY KEY,
  email TEXT NOT NULL UNIQUE,
  role TEXT NOT NULL,
  password_hash TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  disabled_at INTEGER NOT NULL DEFAULT 0
);
-- user_id is a local user's id or a directory login, so no foreign key.
CREATE TABLE IF NOT EXISTS sessions (
  id TEXT PRIMARY KEY,
  secret_hash BLOB NOT NULL UNIQUE,
  user_id TEXT NOT NULL,
  name TEXT NOT NULL,
  role TEXT NOT NULL,
  method TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  expires_at INTEGER NOT NULL,
  csrf_secret BLOB NOT NULL
);
CREATE INDEX IF NOT EXISTS sessions_user ON sessions (user_id);
CREATE INDEX IF NOT EXISTS sessions_expires ON sessions (expires_at);
CREATE TABLE IF NOT EXISTS login_failures (
  key TEXT NOT NULL,
  at INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS login_failures_key_at ON login_failures (key, at);
CREATE INDEX IF NOT EXISTS login_failures_at ON login_failures (at);
