-- The suppression list of erased subject keys (store.ErasedSubjects): the
-- key, the request and the times, never the identifier. A row hides its
-- key's events from every read until purged_at is set; collection refuses
-- the key from deactivation until suppress_erased after purged_at.
CREATE TABLE erased_subjects (
  subject_key text NOT NULL,
  request_id text NOT NULL,
  deactivated_at timestamptz NOT NULL,
  purged_at timestamptz,
  seq bigint NOT NULL,
  PRIMARY KEY (subject_key, request_id)
);
CREATE INDEX erased_subjects_seq ON erased_subjects (seq);
CREATE INDEX erased_subjects_request ON erased_subjects (request_id);
-- The number of the last change to erased_subjects. Every change takes its
-- row lock and the next number, so numbers are committed in order across
-- nodes, and deleted rows do not give theirs back: a node polling for rows
-- after the last number it read misses none.
CREATE TABLE erased_subjects_head (
  id int PRIMARY KEY CHECK (id = 1),
  seq bigint NOT NULL
);
INSERT INTO erased_subjects_head (id, seq) VALUES (1, 0);
