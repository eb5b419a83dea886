-- The second factor (issue 18): a user's TOTP secret, sealed with the
-- key of the configuration (mfa_key) and bound to the user; the last step
-- a code was taken for, so that no code is taken twice; a new secret
-- waiting for its first code. A user who has none has no row.
CREATE TABLE user_mfa (
  user_id             CHAR(36) CHARACTER SET ascii NOT NULL,
  totp_secret         VARCHAR(80) CHARACTER SET ascii COLLATE ascii_bin NULL,
  totp_confirmed_at   DATETIME(6) NULL,
  totp_last_step      BIGINT NOT NULL DEFAULT 0,
  pending_secret      VARCHAR(80) CHARACTER SET ascii COLLATE ascii_bin NULL,
  pending_created_at  DATETIME(6) NULL,
  PRIMARY KEY (user_id),
  CONSTRAINT fk_user_mfa_user FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- Recovery codes, each the hex SHA-256 of the user's id and the code,
-- spent once; a confirmed secret replaces them all.
CREATE TABLE recovery_codes (
  user_id     CHAR(36) CHARACTER SET ascii NOT NULL,
  code_hash   CHAR(64) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  created_at  DATETIME(6) NOT NULL,
  used_at     DATETIME(6) NULL,
  PRIMARY KEY (user_id, code_hash),
  CONSTRAINT fk_recovery_codes_user FOREIGN KEY (user_id) REFERENCES users (id)
    ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- The half-done sign-in of a user with a second factor: the password was
-- right; the challenge (kept as its hash) completes it with a code, within
-- minutes and a few tries.
CREATE TABLE mfa_challenges (
  token_hash  CHAR(64) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  user_id     CHAR(36) CHARACTER SET ascii NOT NULL,
  created_at  DATETIME(6) NOT NULL,
  expires_at  DATETIME(6) NOT NULL,
  failures    INT NOT NULL DEFAULT 0,
  used_at     DATETIME(6) NULL,
  PRIMARY KEY (token_hash),
  KEY ix_mfa_challenges_expiry (expires_at),
  CONSTRAINT fk_mfa_challenges_user FOREIGN KEY (user_id) REFERENCES users (id)
    ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- A tenant's global admin requires the second factor of its global admins
-- and admin agents.
ALTER TABLE tenants ADD COLUMN mfa_required TINYINT(1) NOT NULL DEFAULT 0;
