-- Data collection reviews (store.Reviews): proposals, their history,
-- sign-offs and written notes, and the expiry notices already sent. A
-- registry version records the proposal that produced it.
CREATE TABLE proposals (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  title TEXT NOT NULL,
  owner TEXT NOT NULL,
  links TEXT NOT NULL,
  state TEXT NOT NULL,
  base_version INTEGER NOT NULL,
  yaml BLOB NOT NULL,
  digest TEXT NOT NULL,
  revision INTEGER NOT NULL,
  answers TEXT NOT NULL,
  max_category INTEGER NOT NULL,
  required TEXT NOT NULL,
  override TEXT NOT NULL,
  published INTEGER NOT NULL,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  state_at INTEGER NOT NULL,
  version INTEGER NOT NULL
);
CREATE INDEX proposals_state ON proposals (state, id);
CREATE TABLE proposal_events (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  proposal_id INTEGER NOT NULL REFERENCES proposals(id),
  at INTEGER NOT NULL,
  actor TEXT NOT NULL,
  action TEXT NOT NULL,
  from_state TEXT NOT NULL,
  to_state TEXT NOT NULL,
  note TEXT NOT NULL
);
CREATE INDEX proposal_events_proposal ON proposal_events (proposal_id, id);
CREATE TABLE proposal_signoffs (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  proposal_id INTEGER NOT NULL REFERENCES proposals(id),
  revision INTEGER NOT NULL,
  role TEXT NOT NULL,
  reviewer TEXT NOT NULL,
  decision TEXT NOT NULL,
  checklist TEXT NOT NULL,
  note TEXT NOT NULL,
  mitigations TEXT NOT NULL,
  covered TEXT NOT NULL,
  at INTEGER NOT NULL,
  UNIQUE (proposal_id, revision, reviewer)
);
CREATE TABLE proposal_notes (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  proposal_id INTEGER NOT NULL REFERENCES proposals(id),
  kind TEXT NOT NULL,
  author TEXT NOT NULL,
  role TEXT NOT NULL,
  text TEXT NOT NULL,
  at INTEGER NOT NULL
);
CREATE INDEX proposal_notes_proposal ON proposal_notes (proposal_id, id);
CREATE TABLE expiry_notices (
  key TEXT NOT NULL,
  expires INTEGER NOT NULL,
  sent_at INTEGER NOT NULL,
  PRIMARY KEY (key, expires)
) WITHOUT ROWID;
ALTER TABLE registry_versions ADD COLUMN proposal INTEGER NOT NULL DEFAULT 0;
