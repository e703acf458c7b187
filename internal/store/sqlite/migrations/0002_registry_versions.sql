-- The approved registry's history: the newest version is what every node
-- collects under (registry.Source polls the head).
CREATE TABLE registry_versions (
  version INTEGER PRIMARY KEY,
  yaml BLOB NOT NULL,
  digest TEXT NOT NULL,
  fingerprints TEXT NOT NULL,
  approved_by TEXT NOT NULL,
  note TEXT NOT NULL,
  created_at INTEGER NOT NULL
);
