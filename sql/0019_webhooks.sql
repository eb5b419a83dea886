-- Webhooks (issue 20): a tenant's endpoints, and one delivery of each event
-- to each endpoint subscribed to its type, made when the event is numbered
-- (the sequencer), so that an endpoint's deliveries keep the order of the
-- feed (seq): a delivery leaves only when none before it waits.
CREATE TABLE webhooks (
  id          CHAR(36) CHARACTER SET ascii NOT NULL,
  tenant_id   CHAR(36) CHARACTER SET ascii NOT NULL,
  url         VARCHAR(2048) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  -- the event types' bits (lib/domain/event.h)
  types       INT UNSIGNED NOT NULL,
  enabled     TINYINT(1) NOT NULL DEFAULT 1,
  -- whsec_ + base64: the key of the deliveries' HMAC, shown once
  secret      VARCHAR(80) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  created_by  CHAR(36) CHARACTER SET ascii NOT NULL,
  created_at  DATETIME(6) NOT NULL,
  PRIMARY KEY (id),
  KEY ix_webhooks_tenant (tenant_id, id),
  CONSTRAINT fk_webhooks_tenant FOREIGN KEY (tenant_id) REFERENCES tenants (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE webhook_deliveries (
  webhook_id       CHAR(36) CHARACTER SET ascii NOT NULL,
  event_id         CHAR(36) CHARACTER SET ascii NOT NULL,
  seq              BIGINT UNSIGNED NOT NULL,
  status           ENUM('pending', 'sending', 'succeeded', 'failed') NOT NULL DEFAULT 'pending',
  attempts         INT UNSIGNED NOT NULL DEFAULT 0,
  next_attempt_at  DATETIME(6) NOT NULL,
  claimed_by       VARCHAR(64) NULL,
  response_status  INT NULL,
  duration_ms      INT UNSIGNED NULL,
  last_error       VARCHAR(255) NULL,
  created_at       DATETIME(6) NOT NULL,
  delivered_at     DATETIME(6) NULL,
  PRIMARY KEY (webhook_id, event_id),
  KEY ix_deliveries_order (webhook_id, seq),
  KEY ix_deliveries_due (status, next_attempt_at),
  CONSTRAINT fk_deliveries_webhook FOREIGN KEY (webhook_id) REFERENCES webhooks (id)
    ON DELETE CASCADE,
  CONSTRAINT fk_deliveries_event FOREIGN KEY (event_id) REFERENCES events (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

ALTER TABLE api_tokens
  MODIFY scopes SET('profiles:read', 'relationships:read', 'relationships:write',
                    'customers:read', 'customers:write', 'agreements:read',
                    'orders:read', 'orders:write', 'events:read', 'webhooks:write') NOT NULL;
