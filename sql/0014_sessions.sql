-- Sessions (issue 18): a sign-in starts one; its access tokens carry its id
-- (sid) and stop on the next request once it has ended; its refresh tokens
-- rotate, each used once: a retired one presented again ends the session
-- (its family), as a stolen copy would be.
CREATE TABLE sessions (
  id               CHAR(36) CHARACTER SET ascii NOT NULL,
  user_id          CHAR(36) CHARACTER SET ascii NOT NULL,
  tenant_id        CHAR(36) CHARACTER SET ascii NOT NULL,
  client_addr      VARCHAR(45) CHARACTER SET ascii NOT NULL,
  user_agent       VARCHAR(255) NOT NULL,
  created_at       DATETIME(6) NOT NULL,
  last_used_at     DATETIME(6) NOT NULL,
  -- the idle limit from the last refresh, and the absolute one
  idle_expires_at  DATETIME(6) NOT NULL,
  expires_at       DATETIME(6) NOT NULL,
  ended_at         DATETIME(6) NULL,
  ended_reason     ENUM('sign_out', 'ended', 'refresh_reused') NULL,
  PRIMARY KEY (id),
  KEY ix_sessions_user (user_id, id),
  -- the purge: a session a day past its end goes (ending one brings its
  -- idle limit to its end)
  KEY ix_sessions_idle (idle_expires_at),
  CONSTRAINT fk_sessions_user FOREIGN KEY (user_id) REFERENCES users (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE refresh_tokens (
  -- hex SHA-256 of the token (auth.h link tokens)
  token_hash  CHAR(64) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  session_id  CHAR(36) CHARACTER SET ascii NOT NULL,
  created_at  DATETIME(6) NOT NULL,
  -- set when the next one replaced it
  retired_at  DATETIME(6) NULL,
  PRIMARY KEY (token_hash),
  KEY ix_refresh_tokens_session (session_id),
  CONSTRAINT fk_refresh_tokens_session FOREIGN KEY (session_id) REFERENCES sessions (id)
    ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
