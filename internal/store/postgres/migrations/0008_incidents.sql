-- Breach incidents (store.Incidents): incidents, their history, the
-- offending access-log entries each owns (one incident per entry), the
-- deadline notices already sent, and where the breach monitor stands in
-- the access log with the lease that lets one node run it.
CREATE TABLE incidents (
  id bigserial PRIMARY KEY,
  title text NOT NULL,
  source text NOT NULL,
  group_key text NOT NULL,
  state text NOT NULL,
  credential text NOT NULL,
  dataset text NOT NULL,
  summary text NOT NULL,
  leak_at timestamptz,
  aware_at timestamptz,
  owner_notified_at timestamptz,
  authority_notified_at timestamptz,
  subjects_notified_at timestamptz,
  high_risk_at timestamptz,
  reasoning text NOT NULL,
  accesses bigint NOT NULL,
  opened_by text NOT NULL,
  created_at timestamptz NOT NULL,
  updated_at timestamptz NOT NULL,
  state_at timestamptz NOT NULL,
  version bigint NOT NULL
);
CREATE INDEX incidents_state ON incidents (state, id);
CREATE INDEX incidents_group ON incidents (group_key, id);
CREATE TABLE incident_events (
  id bigserial PRIMARY KEY,
  incident_id bigint NOT NULL REFERENCES incidents(id),
  at timestamptz NOT NULL,
  actor text NOT NULL,
  action text NOT NULL,
  from_state text NOT NULL,
  to_state text NOT NULL,
  note text NOT NULL
);
CREATE INDEX incident_events_incident ON incident_events (incident_id, id);
CREATE TABLE incident_accesses (
  seq bigint PRIMARY KEY,
  incident_id bigint NOT NULL REFERENCES incidents(id),
  at timestamptz NOT NULL,
  reason text NOT NULL
);
CREATE INDEX incident_accesses_incident ON incident_accesses (incident_id, seq);
CREATE TABLE incident_notices (
  incident_id bigint NOT NULL REFERENCES incidents(id),
  key text NOT NULL,
  at timestamptz NOT NULL,
  PRIMARY KEY (incident_id, key)
);
CREATE TABLE monitor_positions (
  name text PRIMARY KEY,
  seq bigint NOT NULL,
  hash bytea,
  checked bigint NOT NULL,
  state bytea,
  updated_at timestamptz NOT NULL
);
CREATE TABLE leases (
  name text PRIMARY KEY,
  holder text NOT NULL,
  expires_at timestamptz NOT NULL
);
