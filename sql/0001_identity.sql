-- Tenants (work accounts), their users and roles, and the audit log.
-- Ids are UUIDs (version 7, time-ordered) in ASCII so that primary keys
-- stay compact and increase with time.

CREATE TABLE tenants (
  id            CHAR(36) CHARACTER SET ascii NOT NULL,
  domain        VARCHAR(253) CHARACTER SET ascii NOT NULL,
  display_name  VARCHAR(200) NOT NULL,
  is_platform   TINYINT(1) NOT NULL DEFAULT 0,
  created_at    DATETIME(6) NOT NULL,
  version       INT UNSIGNED NOT NULL DEFAULT 1,
  PRIMARY KEY (id),
  UNIQUE KEY uq_tenants_domain (domain)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE users (
  id             CHAR(36) CHARACTER SET ascii NOT NULL,
  tenant_id      CHAR(36) CHARACTER SET ascii NOT NULL,
  -- the sign-in name; unique across tenants so that sign-in needs no tenant
  email          VARCHAR(254) NOT NULL,
  password_hash  VARCHAR(255) CHARACTER SET ascii NOT NULL,
  first_name     VARCHAR(100) NOT NULL,
  last_name      VARCHAR(100) NOT NULL,
  disabled       TINYINT(1) NOT NULL DEFAULT 0,
  created_at     DATETIME(6) NOT NULL,
  updated_at     DATETIME(6) NOT NULL,
  version        INT UNSIGNED NOT NULL DEFAULT 1,
  PRIMARY KEY (id),
  UNIQUE KEY uq_users_email (email),
  KEY ix_users_tenant (tenant_id, id),
  CONSTRAINT fk_users_tenant FOREIGN KEY (tenant_id) REFERENCES tenants (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE user_roles (
  user_id  CHAR(36) CHARACTER SET ascii NOT NULL,
  role     ENUM('global_admin', 'admin_agent', 'sales_agent', 'helpdesk_agent',
                'billing_admin', 'operator') NOT NULL,
  PRIMARY KEY (user_id, role),
  CONSTRAINT fk_user_roles_user FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- Written in the same transaction as the change it records (SPEC §6).
CREATE TABLE audit_events (
  id           CHAR(36) CHARACTER SET ascii NOT NULL,
  tenant_id    CHAR(36) CHARACTER SET ascii NOT NULL,
  actor_type   ENUM('user', 'token', 'system', 'anonymous') NOT NULL,
  actor_id     CHAR(36) CHARACTER SET ascii NULL,
  action       VARCHAR(64) CHARACTER SET ascii NOT NULL,
  target_type  VARCHAR(64) CHARACTER SET ascii NOT NULL,
  target_id    CHAR(36) CHARACTER SET ascii NOT NULL,
  request_id   VARCHAR(64) CHARACTER SET ascii NOT NULL,
  client_addr  VARCHAR(45) CHARACTER SET ascii NOT NULL,
  created_at   DATETIME(6) NOT NULL,
  PRIMARY KEY (id),
  KEY ix_audit_tenant (tenant_id, id),
  CONSTRAINT fk_audit_tenant FOREIGN KEY (tenant_id) REFERENCES tenants (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
