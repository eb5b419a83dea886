-- Provider-reseller relationships (SPEC §5, issue 10): the invitation a
-- provider mails, the reseller's consent, and the relationship it makes.

CREATE TABLE relationship_invitations (
  id                  CHAR(36) CHARACTER SET ascii NOT NULL,
  provider_tenant_id  CHAR(36) CHARACTER SET ascii NOT NULL,
  reseller_email      VARCHAR(254) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  -- the invitation is the reseller's whose work account has this domain
  reseller_domain     VARCHAR(253) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  message             VARCHAR(1000) NULL,
  -- what consent grants: the roles in the reseller's account, until when
  access_roles        SET('admin_agent', 'sales_agent', 'helpdesk_agent', 'billing_admin')
                      NOT NULL,
  access_ends_at      DATETIME(6) NOT NULL,
  token_hash          CHAR(64) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  state               ENUM('pending', 'accepted', 'withdrawn') NOT NULL DEFAULT 'pending',
  expires_at          DATETIME(6) NOT NULL,
  created_by          CHAR(36) CHARACTER SET ascii NOT NULL,
  created_at          DATETIME(6) NOT NULL,
  changed_at          DATETIME(6) NULL,
  relationship_id     CHAR(36) CHARACTER SET ascii NULL,
  PRIMARY KEY (id),
  UNIQUE KEY uq_relationship_invitations_token (token_hash),
  KEY ix_invitations_provider (provider_tenant_id, id),
  KEY ix_invitations_domain (reseller_domain, id),
  CONSTRAINT fk_invitations_provider FOREIGN KEY (provider_tenant_id) REFERENCES providers (tenant_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE relationships (
  id                  CHAR(36) CHARACTER SET ascii NOT NULL,
  provider_tenant_id  CHAR(36) CHARACTER SET ascii NOT NULL,
  reseller_tenant_id  CHAR(36) CHARACTER SET ascii NOT NULL,
  state               ENUM('active', 'ended') NOT NULL DEFAULT 'active',
  admin_access        ENUM('granted', 'removed') NOT NULL DEFAULT 'granted',
  access_roles        SET('admin_agent', 'sales_agent', 'helpdesk_agent', 'billing_admin')
                      NOT NULL,
  access_ends_at      DATETIME(6) NOT NULL,
  invitation_id       CHAR(36) CHARACTER SET ascii NOT NULL,
  created_by          CHAR(36) CHARACTER SET ascii NOT NULL,
  created_at          DATETIME(6) NOT NULL,
  access_changed_at   DATETIME(6) NOT NULL,
  access_changed_by   CHAR(36) CHARACTER SET ascii NOT NULL,
  ended_at            DATETIME(6) NULL,
  ended_by            CHAR(36) CHARACTER SET ascii NULL,
  version             INT UNSIGNED NOT NULL DEFAULT 1,
  -- 1 while active, NULL once ended: with the pair, unique, so a provider
  -- and a reseller have at most one active relationship (NULLs never collide)
  active              TINYINT(1) NULL DEFAULT 1,
  PRIMARY KEY (id),
  UNIQUE KEY uq_relationships_active_pair (provider_tenant_id, reseller_tenant_id, active),
  KEY ix_relationships_provider (provider_tenant_id, id),
  KEY ix_relationships_reseller (reseller_tenant_id, id),
  CONSTRAINT fk_relationships_provider FOREIGN KEY (provider_tenant_id) REFERENCES providers (tenant_id),
  CONSTRAINT fk_relationships_reseller FOREIGN KEY (reseller_tenant_id) REFERENCES tenants (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
