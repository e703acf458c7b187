-- A Glean deletion-request's client id (channel glean): the identifier
-- steward's own events are erased by; never sent to another system.
ALTER TABLE requests ADD COLUMN glean_client_id TEXT NOT NULL DEFAULT '';
