-- An incident's assessment (internal/incident): the window its blast
-- radius covers and the radius computed for it, the ENISA severity with
-- its adjustments and the Art. 33/34 decision (JSON owned by package
-- incident), and the register's likely consequences and measures taken
-- or proposed (Art. 33(3)(c)-(d), 33(5)).
ALTER TABLE incidents ADD COLUMN window_from timestamptz;
ALTER TABLE incidents ADD COLUMN window_to timestamptz;
ALTER TABLE incidents ADD COLUMN blast text NOT NULL DEFAULT '';
ALTER TABLE incidents ADD COLUMN severity text NOT NULL DEFAULT '';
ALTER TABLE incidents ADD COLUMN consequences text NOT NULL DEFAULT '';
ALTER TABLE incidents ADD COLUMN measures text NOT NULL DEFAULT '';
