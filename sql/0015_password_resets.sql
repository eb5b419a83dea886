-- Password resets (issue 18): a mailed single-use link, kept as the hash of
-- its token, short-lived; counted per account and per client address so
-- that neither an account's owner nor anyone else is flooded with mail.  A
-- request for an address that is no account's is a row too (no user, no
-- token), counted for its client address like any other: the answers do
-- not tell which addresses are accounts.
CREATE TABLE password_resets (
  id           CHAR(36) CHARACTER SET ascii NOT NULL,
  user_id      CHAR(36) CHARACTER SET ascii NULL,
  token_hash   CHAR(64) CHARACTER SET ascii COLLATE ascii_bin NULL,
  client_addr  VARCHAR(45) CHARACTER SET ascii NOT NULL,
  created_at   DATETIME(6) NOT NULL,
  expires_at   DATETIME(6) NOT NULL,
  used_at      DATETIME(6) NULL,
  PRIMARY KEY (id),
  UNIQUE KEY uq_password_resets_token (token_hash),
  KEY ix_password_resets_user (user_id, created_at),
  KEY ix_password_resets_addr (client_addr, created_at),
  KEY ix_password_resets_expiry (expires_at),
  CONSTRAINT fk_password_resets_user FOREIGN KEY (user_id) REFERENCES users (id)
    ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
