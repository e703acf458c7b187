-- Signed checkpoints of the access log's head (docs/access-log.md): a
-- rewrite of the log with every later hash recomputed no longer matches
-- the hash a checkpoint signed. One per seq: nodes signing the same head
-- keep the first.
CREATE TABLE access_checkpoints (
  id INTEGER PRIMARY KEY,
  seq INTEGER NOT NULL UNIQUE,
  hash BLOB NOT NULL,
  signed_at INTEGER NOT NULL,
  signed TEXT NOT NULL
);
CREATE TRIGGER access_checkpoints_no_update BEFORE UPDATE ON access_checkpoints
BEGIN SELECT RAISE(ABORT, 'the access log is append-only'); END;
CREATE TRIGGER access_checkpoints_no_delete BEFORE DELETE ON access_checkpoints
BEGIN SELECT RAISE(ABORT, 'the access log is append-only'); END;
-- log verify reads the subject index span by span in seq order to hold it
-- against the entries; the primary key leads with subject_key. In a
-- WITHOUT ROWID table this index carries subject_key too, so the scan
-- never touches the table.
CREATE INDEX access_log_subjects_seq ON access_log_subjects (seq);
