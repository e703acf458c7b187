-- A queued message's secrets (links carrying a request's status token or
-- a confirmation code) are kept out of its body: the body holds
-- placeholders, and this column their values, encrypted under a key
-- derived from the hashing key, which is not in the database. The worker
-- drops the column's value once the message is sent or given up (see
-- docs/notify.md).
ALTER TABLE outbox ADD COLUMN secrets bytea;
-- Messages sent or given up before this migration kept the status token
-- (43 hex digits) and the confirmation code (39 letters and digits) in
-- their links: remove them, keeping the rest of the text. Messages still
-- waiting keep theirs until the worker claims them and seals them.
UPDATE outbox SET body = regexp_replace(regexp_replace(body,
    '(\?token=)[0-9a-f]{43}(?![0-9A-Za-z])', '\1(removed after sending)', 'g'),
    '(&code=)[a-z2-9]{39}(?![0-9A-Za-z])', '\1(removed after sending)', 'g')
WHERE (sent_at IS NOT NULL OR failed_at IS NOT NULL) AND body ~ '(\?token|&code)=';
