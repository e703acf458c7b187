-- Breach incidents (store.Incidents): incidents, their history, the
-- offending access-log entries each owns (one incident per entry), the
-- deadline notices already sent, and where the breach monitor stands in
-- the access log with the lease that lets one node run it.
CREATE TABLE incidents (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  title TEXT NOT NULL,
  source TEXT NOT NULL,
  group_key TEXT NOT NULL,
  state TEXT NOT NULL,
  credential TEXT NOT NULL,
  dataset TEXT NOT NULL,
  summary TEXT NOT NULL,
  leak_at INTEGER NOT NULL,
  aware_at INTEGER NOT NULL,
  owner_notified_at INTEGER NOT NULL,
  authority_notified_at INTEGER NOT NULL,
  subjects_notified_at INTEGER NOT NULL,
  high_risk_at INTEGER NOT NULL,
  reasoning TEXT NOT NULL,
  accesses INTEGER NOT NULL,
  opened_by TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  state_at INTEGER NOT NULL,
  version INTEGER NOT NULL
);
CREATE INDEX incidents_state ON incidents (state, id);
CREATE INDEX incidents_group ON incidents (group_key, id);
CREATE TABLE incident_events (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  incident_id INTEGER NOT NULL REFERENCES incidents(id),
  at INTEGER NOT NULL,
  actor TEXT NOT NULL,
  action TEXT NOT NULL,
  from_state TEXT NOT NULL,
  to_state TEXT NOT NULL,
  note TEXT NOT NULL
);
CREATE INDEX incident_events_incident ON incident_events (incident_id, id);
CREATE TABLE incident_accesses (
  seq INTEGER PRIMARY KEY,
  incident_id INTEGER NOT NULL REFERENCES incidents(id),
  at INTEGER NOT NULL,
  reason TEXT NOT NULL
);
CREATE INDEX incident_accesses_incident ON incident_accesses (incident_id, seq);
CREATE TABLE incident_notices (
  incident_id INTEGER NOT NULL REFERENCES incidents(id),
  key TEXT NOT NULL,
  at INTEGER NOT NULL,
  PRIMARY KEY (incident_id, key)
) WITHOUT ROWID;
CREATE TABLE monitor_positions (
  name TEXT PRIMARY KEY,
  seq INTEGER NOT NULL,
  hash BLOB,
  checked INTEGER NOT NULL,
  state BLOB,
  updated_at INTEGER NOT NULL
);
CREATE TABLE leases (
  name TEXT PRIMARY KEY,
  holder TEXT NOT NULL,
  expires_at INTEGER NOT NULL
);
