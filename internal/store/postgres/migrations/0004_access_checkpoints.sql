-- Signed checkpoints of the access log's head (docs/access-log.md): a
-- rewrite of the log with every later hash recomputed no longer matches
-- the hash a checkpoint signed. One per seq: nodes signing the same head
-- keep the first.
CREATE TABLE access_checkpoints (
  id bigserial PRIMARY KEY,
  seq bigint NOT NULL UNIQUE,
  hash bytea NOT NULL,
  signed_at timestamptz NOT NULL,
  signed text NOT NULL
);
-- Append-only like the log itself (steward_access_log_append_only is in
-- 0001_initial).
CREATE TRIGGER access_checkpoints_append_only BEFORE UPDATE OR DELETE ON access_checkpoints
  FOR EACH ROW EXECUTE FUNCTION steward_access_log_append_only();
CREATE TRIGGER access_checkpoints_no_truncate BEFORE TRUNCATE ON access_checkpoints
  FOR EACH STATEMENT EXECUTE FUNCTION steward_access_log_append_only();
-- log verify reads the subject index span by span in seq order to hold it
-- against the entries; the primary key leads with subject_key. With
-- subject_key in it the scan can be index-only. Building it blocks appends
-- to the log for as long as it takes (seconds per million rows), once.
CREATE INDEX access_log_subjects_seq ON access_log_subjects (seq, subject_key);
