-- The approved registry's history: the newest version is what every node
-- collects under (registry.Source polls the head).
CREATE TABLE registry_versions (
  version bigint PRIMARY KEY,
  yaml bytea NOT NULL,
  digest text NOT NULL,
  fingerprints jsonb NOT NULL,
  approved_by text NOT NULL,
  note text NOT NULL,
  created_at timestamptz NOT NULL
);
