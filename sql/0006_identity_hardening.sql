-- Identity that an attacker cannot bend (issue 7).

-- One spelling per account: addresses are stored lower-case ASCII (the
-- API refuses anything else) and compared byte for byte, so no other
-- spelling (a trailing blank, an accent, a full-width letter) finds them.
UPDATE users SET email = LOWER(email);
ALTER TABLE users
  MODIFY email VARCHAR(254) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  MODIFY external_subject VARCHAR(255) CHARACTER SET ascii COLLATE ascii_bin NULL;
ALTER TABLE tenants
  MODIFY domain VARCHAR(253) CHARACTER SET ascii COLLATE ascii_bin NOT NULL;

-- "K" and "k" are two keys.
ALTER TABLE idempotency_keys
  MODIFY idem_key VARCHAR(255) CHARACTER SET ascii COLLATE ascii_bin NOT NULL;

-- Sign-in failures are counted per (account, client address): a row's key
-- is now the SHA-256 of both (lib/auth/signin.c), so the counters of the
-- old scheme mean nothing.
DELETE FROM signin_failures;

-- ... and per account across all addresses, to throttle guessing spread
-- over many addresses without locking the owner out.
CREATE TABLE signin_account_failures (
  account_hash  CHAR(64) CHARACTER SET ascii NOT NULL,
  failures      INT UNSIGNED NOT NULL,
  window_start  DATETIME(6) NOT NULL,
  PRIMARY KEY (account_hash),
  KEY ix_signin_account_failures_window (window_start)
) ENGINE=InnoDB;

-- Sign-ups waiting for their admin to follow the mailed link. Nothing is
-- reserved until then: several may name one domain; the first verified
-- wins.
CREATE TABLE pending_signups (
  id             CHAR(36) CHARACTER SET ascii NOT NULL,
  domain         VARCHAR(253) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  display_name   VARCHAR(200) NOT NULL,
  email          VARCHAR(254) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  password_hash  VARCHAR(255) CHARACTER SET ascii NOT NULL,
  first_name     VARCHAR(100) NOT NULL,
  last_name      VARCHAR(100) NOT NULL,
  token_hash     CHAR(64) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  created_at     DATETIME(6) NOT NULL,
  expires_at     DATETIME(6) NOT NULL,
  used_at        DATETIME(6) NULL,
  PRIMARY KEY (id),
  UNIQUE KEY uq_pending_signups_token (token_hash),
  KEY ix_pending_signups_expiry (expires_at)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
