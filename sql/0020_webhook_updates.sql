-- Webhooks (issue 20): an endpoint changed under If-Match (its version,
-- the ETag's), and its secret rotated with the one it replaces still
-- signing beside it until previous_secret_until (a grace period), so that
-- a receiver can change keys without missing a delivery.
ALTER TABLE webhooks
  ADD COLUMN version               INT UNSIGNED NOT NULL DEFAULT 1,
  ADD COLUMN previous_secret       VARCHAR(80) CHARACTER SET ascii COLLATE ascii_bin NULL,
  ADD COLUMN previous_secret_until DATETIME(6) NULL;
