-- Webhooks (issue 20): an endpoint whose deliveries have failed since
-- failing_since (its first failed attempt after its last success) is
-- disabled once that is WEBHOOK_FAILING_DAYS ago (lib/domain/webhook.h),
-- and its owner mailed; disabled_reason says why it stopped ('failing'),
-- NULL when an agent disabled it or while it is enabled.
ALTER TABLE webhooks
  ADD COLUMN failing_since   DATETIME(6) NULL,
  ADD COLUMN disabled_reason VARCHAR(16) CHARACTER SET ascii NULL;

-- the purge of expired previous secrets finds them by their end
ALTER TABLE webhooks ADD KEY ix_webhooks_previous_secret (previous_secret_until);
