-- The partner agreement (SPEC §4): versions the operator publishes, and the
-- acceptances of resellers' global admins.

-- A version of one type of agreement. The current version of a type is
-- the newest whose effective date has come: computed on every read, so a
-- version dated in the future becomes current on its day by itself.
CREATE TABLE agreement_templates (
  id               CHAR(36) CHARACTER SET ascii NOT NULL,
  type             VARCHAR(64) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  version          VARCHAR(32) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  document_url     VARCHAR(2000) CHARACTER SET ascii NOT NULL,
  document_sha256  CHAR(64) CHARACTER SET ascii NOT NULL,
  effective_date   DATE NOT NULL,
  created_by       CHAR(36) CHARACTER SET ascii NOT NULL,
  created_at       DATETIME(6) NOT NULL,
  PRIMARY KEY (id),
  UNIQUE KEY uq_agreement_templates_version (type, version),
  -- the current version of a type: the first row of this index at or
  -- before today
  KEY ix_agreement_templates_current (type, effective_date, created_at)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- An acceptance: who, when, which version, the signer, from where. Never
-- changed or deleted (no statement of the service does either). One a
-- version and tenant (the unique key makes a second one a conflict).
CREATE TABLE agreement_acceptances (
  id                 CHAR(36) CHARACTER SET ascii NOT NULL,
  tenant_id          CHAR(36) CHARACTER SET ascii NOT NULL,
  template_id        CHAR(36) CHARACTER SET ascii NOT NULL,
  user_id            CHAR(36) CHARACTER SET ascii NOT NULL,
  signer_first_name  VARCHAR(100) NOT NULL,
  signer_last_name   VARCHAR(100) NOT NULL,
  signer_email       VARCHAR(254) CHARACTER SET ascii NOT NULL,
  signer_phone       VARCHAR(32) CHARACTER SET ascii NOT NULL,
  client_addr        VARCHAR(45) CHARACTER SET ascii NOT NULL,
  request_id         VARCHAR(64) CHARACTER SET ascii NOT NULL,
  accepted_at        DATETIME(6) NOT NULL,
  PRIMARY KEY (id),
  UNIQUE KEY uq_agreement_acceptances (tenant_id, template_id),
  KEY ix_agreement_acceptances_tenant (tenant_id, id),
  CONSTRAINT fk_acceptances_tenant FOREIGN KEY (tenant_id) REFERENCES tenants (id),
  CONSTRAINT fk_acceptances_template FOREIGN KEY (template_id) REFERENCES agreement_templates (id),
  CONSTRAINT fk_acceptances_user FOREIGN KEY (user_id) REFERENCES users (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
