-- The blast radius of a credential (internal/incident) reads its entries
-- over a time window: one range per way the breach monitor names a
-- credential, by credential id or, for entries without one, by actor.
-- The columns it reads follow (and the rowid is the seq), so it never
-- reads the table: one credential's entries lie on as many pages as it
-- has entries.
CREATE INDEX access_log_credential_at ON access_log (credential_id, at, auth_method, decision, dataset, records);
CREATE INDEX access_log_actor_at ON access_log (actor, at, credential_id, auth_method, decision, dataset, records);
