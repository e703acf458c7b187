-- A queued message's secrets (links carrying a request's status token or
-- a confirmation code) are kept out of its body: the body holds
-- placeholders, and this column their values, encrypted under a key
-- derived from the hashing key, which is not in the database. The worker
-- drops the column's value once the message is sent or given up (see
-- docs/notify.md).
ALTER TABLE outbox ADD COLUMN secrets BLOB;
-- Messages sent or given up before this migration kept the status token
-- (43 hex digits) and the confirmation code (39 letters and digits) in
-- their links: remove them, keeping the rest of the text. Messages still
-- waiting keep theirs until the worker claims them and seals them. SQLite
-- has no regular expressions, so each value is found after its "?token="
-- or "&code=" and checked for its exact form before it is replaced.
UPDATE outbox SET body = replace(body, substr(body, instr(body, '?token=') + 7, 43), '(removed after sending)')
WHERE (sent_at <> 0 OR failed_at <> 0) AND instr(body, '?token=') > 0
  AND length(substr(body, instr(body, '?token=') + 7, 43)) = 43
  AND substr(body, instr(body, '?token=') + 7, 43) NOT GLOB '*[^0-9a-f]*'
  AND substr(body, instr(body, '?token=') + 50, 1) NOT GLOB '[0-9A-Za-z]';
UPDATE outbox SET body = replace(body, substr(body, instr(body, '&code=') + 6, 39), '(removed after sending)')
WHERE (sent_at <> 0 OR failed_at <> 0) AND instr(body, '&code=') > 0
  AND length(substr(body, instr(body, '&code=') + 6, 39)) = 39
  AND substr(body, instr(body, '&code=') + 6, 39) NOT GLOB '*[^a-z2-9]*'
  AND substr(body, instr(body, '&code=') + 45, 1) NOT GLOB '[0-9A-Za-z]';
