-- The blast radius of a credential (internal/incident) reads its entries
-- over a time window: one range per way the breach monitor names a
-- credential, by credential id or, for entries without one, by actor.
-- The columns it reads are included, so it is an index-only scan: one
-- credential's entries lie on as many heap pages as it has entries.
CREATE INDEX access_log_credential_at ON access_log (credential_id, at) INCLUDE (auth_method, decision, dataset, records, seq);
CREATE INDEX access_log_actor_at ON access_log (actor, at) INCLUDE (credential_id, auth_method, decision, dataset, records, seq);
