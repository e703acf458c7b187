-- The blast radius of a credential (internal/incident) reads its entries
-- over a time window: one range per way the breach monitor names a
-- credential, by credential id or, for entries without one, by actor.
CREATE INDEX access_log_credential_at ON access_log (credential_id, at);
CREATE INDEX access_log_actor_at ON access_log (actor, at);
