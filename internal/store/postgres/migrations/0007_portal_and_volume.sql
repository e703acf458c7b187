-- The portal's request list pages newest first, filtered by status, type,
-- channel or deadline: its page is found in this one index, in order and
-- without reading a row, however deep the page; only the 25 rows shown
-- are read (BenchmarkRequestList). It replaces the index on created_at.
CREATE INDEX requests_list ON requests (created_at, id) INCLUDE (status, type, channel, due_at);
DROP INDEX requests_created;
-- The list's summary counts the open requests by deadline.
CREATE INDEX requests_status_due ON requests (status, due_at);
-- Collection volume per dataset and day (store.CollectionVolume): events
-- accepted and dropped by reason, requests refused by reason. Each node
-- counts in memory and adds its counts here every few seconds. Counts
-- only: no event, key or address.
CREATE TABLE collection_days (
  day date NOT NULL,
  dataset text NOT NULL,
  outcome text NOT NULL,
  reason text NOT NULL,
  count bigint NOT NULL,
  PRIMARY KEY (day, dataset, outcome, reason)
);
