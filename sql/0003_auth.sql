-- Sign-in, API tokens and the shared conventions of the API (SPEC §2, §6).

-- Users of an external identity provider: its subject maps to a user.
ALTER TABLE users
  ADD COLUMN external_issuer  VARCHAR(255) CHARACTER SET ascii NULL AFTER disabled,
  ADD COLUMN external_subject VARCHAR(255) CHARACTER SET ascii NULL AFTER external_issuer,
  ADD UNIQUE KEY uq_users_external (external_issuer, external_subject);

-- Failed sign-ins by user name (hashed), whether or not the name exists,
-- so that the lock-out never tells which names are real.
CREATE TABLE signin_failures (
  username_hash  CHAR(64) CHARACTER SET ascii NOT NULL,
  failures       INT UNSIGNED NOT NULL,
  window_start   DATETIME(6) NOT NULL,
  locked_until   DATETIME(6) NULL,
  PRIMARY KEY (username_hash)
) ENGINE=InnoDB;

CREATE TABLE api_tokens (
  id            CHAR(36) CHARACTER SET ascii NOT NULL,
  tenant_id     CHAR(36) CHARACTER SET ascii NOT NULL,
  created_by    CHAR(36) CHARACTER SET ascii NOT NULL,
  name          VARCHAR(100) NOT NULL,
  -- SHA-256 of the whole token, hex; the token itself is never stored
  token_hash    CHAR(64) CHARACTER SET ascii NOT NULL,
  scopes        SET('profiles:read', 'relationships:read', 'relationships:write',
                    'customers:read', 'customers:write', 'agreements:read') NOT NULL,
  expires_at    DATETIME(6) NOT NULL,
  last_used_at  DATETIME(6) NULL,
  revoked_at    DATETIME(6) NULL,
  created_at    DATETIME(6) NOT NULL,
  PRIMARY KEY (id),
  UNIQUE KEY uq_api_tokens_hash (token_hash),
  KEY ix_api_tokens_tenant (tenant_id, id),
  CONSTRAINT fk_api_tokens_tenant FOREIGN KEY (tenant_id) REFERENCES tenants (id),
  CONSTRAINT fk_api_tokens_user FOREIGN KEY (created_by) REFERENCES users (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- Idempotency-Key of creating POSTs, per principal, kept 24 hours. A row
-- with status NULL is a request still running.
CREATE TABLE idempotency_keys (
  principal      VARCHAR(80) CHARACTER SET ascii NOT NULL,
  idem_key       VARCHAR(255) CHARACTER SET ascii NOT NULL,
  request_hash   CHAR(64) CHARACTER SET ascii NOT NULL,
  status         SMALLINT UNSIGNED NULL,
  content_type   VARCHAR(64) CHARACTER SET ascii NULL,
  etag           VARCHAR(64) CHARACTER SET ascii NULL,
  location       VARCHAR(255) CHARACTER SET ascii NULL,
  body           MEDIUMTEXT NULL,
  created_at     DATETIME(6) NOT NULL,
  PRIMARY KEY (principal, idem_key),
  KEY ix_idempotency_created (created_at)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
