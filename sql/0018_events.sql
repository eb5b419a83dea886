-- Events (issue 20): one row for every change a partner may care about,
-- written in the transaction of the change (the outbox's guarantee), with
-- the resource as the API renders it. seq is the order of the feed: given
-- by the sequencer (the outbox thread) to committed events only, under the
-- lock of event_sequence's one row, so that a reader that has read up to
-- seq N never later finds an event below N.
CREATE TABLE events (
  id                CHAR(36) CHARACTER SET ascii NOT NULL,
  type              VARCHAR(64) CHARACTER SET ascii NOT NULL,
  version           SMALLINT UNSIGNED NOT NULL,
  actor_type        VARCHAR(16) CHARACTER SET ascii NOT NULL,
  actor_id          CHAR(36) CHARACTER SET ascii NULL,
  actor_tenant_id   CHAR(36) CHARACTER SET ascii NULL,
  -- a provider acting for a reseller: the relationship that admitted it
  delegation_id     CHAR(36) CHARACTER SET ascii NULL,
  occurred_at       DATETIME(6) NOT NULL,
  data              MEDIUMTEXT NOT NULL,
  seq               BIGINT UNSIGNED NULL,
  PRIMARY KEY (id),
  UNIQUE KEY uq_events_seq (seq)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- The tenants an event concerns: each reads it in its feed.
CREATE TABLE event_tenants (
  tenant_id   CHAR(36) CHARACTER SET ascii NOT NULL,
  event_id    CHAR(36) CHARACTER SET ascii NOT NULL,
  -- the type's bit (lib/domain/event.h): the feed's filter
  type_bit    INT UNSIGNED NOT NULL,
  seq         BIGINT UNSIGNED NULL,
  PRIMARY KEY (tenant_id, event_id),
  KEY ix_event_tenants_feed (tenant_id, seq),
  KEY ix_event_tenants_event (event_id),
  CONSTRAINT fk_event_tenants_event FOREIGN KEY (event_id) REFERENCES events (id)
    ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE event_sequence (
  id        TINYINT UNSIGNED NOT NULL,
  next_seq  BIGINT UNSIGNED NOT NULL,
  PRIMARY KEY (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
INSERT INTO event_sequence (id, next_seq) VALUES (1, 1);

-- a token of a partner's system reads the feed
ALTER TABLE api_tokens
  MODIFY scopes SET('profiles:read', 'relationships:read', 'relationships:write',
                    'customers:read', 'customers:write', 'agreements:read',
                    'orders:read', 'orders:write', 'events:read') NOT NULL;
