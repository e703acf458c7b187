-- Data collection reviews (store.Reviews): proposals, their history,
-- sign-offs and written notes, and the expiry notices already sent. A
-- registry version records the proposal that produced it.
CREATE TABLE proposals (
  id bigserial PRIMARY KEY,
  title text NOT NULL,
  owner text NOT NULL,
  links jsonb NOT NULL,
  state text NOT NULL,
  base_version bigint NOT NULL,
  yaml bytea NOT NULL,
  digest text NOT NULL,
  revision int NOT NULL,
  answers jsonb NOT NULL,
  max_category int NOT NULL,
  required text[] NOT NULL,
  override text NOT NULL,
  published bigint NOT NULL,
  created_at timestamptz NOT NULL,
  updated_at timestamptz NOT NULL,
  state_at timestamptz NOT NULL,
  version bigint NOT NULL
);
CREATE INDEX proposals_state ON proposals (state, id);
CREATE TABLE proposal_events (
  id bigserial PRIMARY KEY,
  proposal_id bigint NOT NULL REFERENCES proposals(id),
  at timestamptz NOT NULL,
  actor text NOT NULL,
  action text NOT NULL,
  from_state text NOT NULL,
  to_state text NOT NULL,
  note text NOT NULL
);
CREATE INDEX proposal_events_proposal ON proposal_events (proposal_id, id);
CREATE TABLE proposal_signoffs (
  id bigserial PRIMARY KEY,
  proposal_id bigint NOT NULL REFERENCES proposals(id),
  revision int NOT NULL,
  role text NOT NULL,
  reviewer text NOT NULL,
  decision text NOT NULL,
  checklist jsonb NOT NULL,
  note text NOT NULL,
  mitigations jsonb NOT NULL,
  covered jsonb NOT NULL,
  at timestamptz NOT NULL,
  UNIQUE (proposal_id, revision, reviewer)
);
CREATE TABLE proposal_notes (
  id bigserial PRIMARY KEY,
  proposal_id bigint NOT NULL REFERENCES proposals(id),
  kind text NOT NULL,
  author text NOT NULL,
  role text NOT NULL,
  text text NOT NULL,
  at timestamptz NOT NULL
);
CREATE INDEX proposal_notes_proposal ON proposal_notes (proposal_id, id);
CREATE TABLE expiry_notices (
  key text NOT NULL,
  expires timestamptz NOT NULL,
  sent_at timestamptz NOT NULL,
  PRIMARY KEY (key, expires)
);
ALTER TABLE registry_versions ADD COLUMN proposal bigint NOT NULL DEFAULT 0;
