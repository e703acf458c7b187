-- The suppression list of erased subject keys (store.ErasedSubjects): the
-- key, the request and the times, never the identifier. A row hides its
-- key's events from every read until purged_at is set; collection refuses
-- the key from deactivation until suppress_erased after purged_at.
CREATE TABLE erased_subjects (
  subject_key TEXT NOT NULL,
  request_id TEXT NOT NULL,
  deactivated_at INTEGER NOT NULL,
  purged_at INTEGER NOT NULL DEFAULT 0,
  seq INTEGER NOT NULL,
  PRIMARY KEY (subject_key, request_id)
) WITHOUT ROWID;
CREATE INDEX erased_subjects_seq ON erased_subjects (seq);
CREATE INDEX erased_subjects_request ON erased_subjects (request_id);
-- The number of the last change to erased_subjects. It only grows (deleted
-- rows do not give their numbers back), so a node polling for rows after
-- the last number it read misses none.
CREATE TABLE erased_subjects_head (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  seq INTEGER NOT NULL
);
INSERT INTO erased_subjects_head (id, seq) VALUES (1, 0);
