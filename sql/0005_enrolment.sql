-- Enrolment as an indirect reseller (SPEC §3) and the mail outbox (§6).

-- The CSP country: the legal country of an enrolled tenant. Its region is
-- the country's (countries.region_code), never stored twice.
ALTER TABLE tenants
  ADD COLUMN csp_country CHAR(2) CHARACTER SET ascii NULL AFTER is_platform,
  ADD CONSTRAINT fk_tenants_csp_country FOREIGN KEY (csp_country) REFERENCES countries (code);

-- One enrolment a tenant (the unique key makes a second one a conflict).
CREATE TABLE enrollments (
  id                  CHAR(36) CHARACTER SET ascii NOT NULL,
  tenant_id           CHAR(36) CHARACTER SET ascii NOT NULL,
  status              ENUM('pending_email_verification', 'in_review', 'more_info_requested',
                           'approved', 'rejected') NOT NULL,
  contact_first_name  VARCHAR(100) NOT NULL,
  contact_last_name   VARCHAR(100) NOT NULL,
  -- compared byte for byte: the verification mail goes to exactly this
  contact_email       VARCHAR(254) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  contact_phone       VARCHAR(32) CHARACTER SET ascii NOT NULL,
  contact_language    CHAR(2) CHARACTER SET ascii NOT NULL DEFAULT 'en',
  email_verified_at   DATETIME(6) NULL,
  created_by          CHAR(36) CHARACTER SET ascii NOT NULL,
  created_at          DATETIME(6) NOT NULL,
  updated_at          DATETIME(6) NOT NULL,
  PRIMARY KEY (id),
  UNIQUE KEY uq_enrollments_tenant (tenant_id),
  KEY ix_enrollments_status (status, id),
  CONSTRAINT fk_enrollments_tenant FOREIGN KEY (tenant_id) REFERENCES tenants (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- Every change of status: who, when, from, to and why.
CREATE TABLE enrollment_transitions (
  id             CHAR(36) CHARACTER SET ascii NOT NULL,
  enrollment_id  CHAR(36) CHARACTER SET ascii NOT NULL,
  from_status    VARCHAR(32) CHARACTER SET ascii NULL,
  to_status      VARCHAR(32) CHARACTER SET ascii NOT NULL,
  actor_type     ENUM('user', 'token', 'system', 'anonymous') NOT NULL,
  actor_id       CHAR(36) CHARACTER SET ascii NULL,
  reason         VARCHAR(2000) NULL,
  request_id     VARCHAR(64) CHARACTER SET ascii NOT NULL,
  created_at     DATETIME(6) NOT NULL,
  PRIMARY KEY (id),
  KEY ix_transitions_enrollment (enrollment_id, id),
  CONSTRAINT fk_transitions_enrollment FOREIGN KEY (enrollment_id) REFERENCES enrollments (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE legal_profiles (
  tenant_id      CHAR(36) CHARACTER SET ascii NOT NULL,
  company_name   VARCHAR(200) NOT NULL,
  address_line1  VARCHAR(200) NOT NULL,
  address_line2  VARCHAR(200) NULL,
  city           VARCHAR(100) NOT NULL,
  state          VARCHAR(100) NULL,
  postal_code    VARCHAR(20) NOT NULL,
  country        CHAR(2) CHARACTER SET ascii NOT NULL,
  phone_number   VARCHAR(32) CHARACTER SET ascii NOT NULL,
  updated_at     DATETIME(6) NOT NULL,
  version        INT UNSIGNED NOT NULL DEFAULT 1,
  PRIMARY KEY (tenant_id),
  CONSTRAINT fk_legal_tenant FOREIGN KEY (tenant_id) REFERENCES tenants (id),
  CONSTRAINT fk_legal_country FOREIGN KEY (country) REFERENCES countries (code)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE support_profiles (
  tenant_id   CHAR(36) CHARACTER SET ascii NOT NULL,
  email       VARCHAR(254) CHARACTER SET ascii NOT NULL,
  telephone   VARCHAR(32) CHARACTER SET ascii NOT NULL,
  website     VARCHAR(2000) CHARACTER SET ascii NOT NULL,
  updated_at  DATETIME(6) NOT NULL,
  version     INT UNSIGNED NOT NULL DEFAULT 1,
  PRIMARY KEY (tenant_id),
  CONSTRAINT fk_support_tenant FOREIGN KEY (tenant_id) REFERENCES tenants (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- Primary-contact verification links: only the SHA-256 of the token is
-- kept. A resend replaces the live token (replaced_at) and counts against
-- the daily limit (is_resend).
CREATE TABLE email_verifications (
  id             CHAR(36) CHARACTER SET ascii NOT NULL,
  enrollment_id  CHAR(36) CHARACTER SET ascii NOT NULL,
  token_hash     CHAR(64) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  is_resend      TINYINT(1) NOT NULL DEFAULT 0,
  created_at     DATETIME(6) NOT NULL,
  expires_at     DATETIME(6) NOT NULL,
  used_at        DATETIME(6) NULL,
  replaced_at    DATETIME(6) NULL,
  PRIMARY KEY (id),
  UNIQUE KEY uq_email_verifications_hash (token_hash),
  KEY ix_email_verifications_enrollment (enrollment_id, created_at),
  CONSTRAINT fk_email_verifications_enrollment FOREIGN KEY (enrollment_id)
    REFERENCES enrollments (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE mpn_identifiers (
  tenant_id      CHAR(36) CHARACTER SET ascii NOT NULL,
  mpn_id         VARCHAR(7) CHARACTER SET ascii NOT NULL,
  country        CHAR(2) CHARACTER SET ascii NOT NULL,
  location_name  VARCHAR(200) NOT NULL,
  created_at     DATETIME(6) NOT NULL,
  PRIMARY KEY (tenant_id, mpn_id),
  CONSTRAINT fk_mpn_tenant FOREIGN KEY (tenant_id) REFERENCES tenants (id),
  CONSTRAINT fk_mpn_country FOREIGN KEY (country) REFERENCES countries (code)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- One associated MPN ID a tenant (primary key), and one tenant an MPN ID
-- (unique key).
CREATE TABLE mpn_associations (
  tenant_id      CHAR(36) CHARACTER SET ascii NOT NULL,
  mpn_id         VARCHAR(7) CHARACTER SET ascii NOT NULL,
  associated_at  DATETIME(6) NOT NULL,
  PRIMARY KEY (tenant_id),
  UNIQUE KEY uq_mpn_associations_mpn (mpn_id),
  CONSTRAINT fk_mpn_association_identifier FOREIGN KEY (tenant_id, mpn_id)
    REFERENCES mpn_identifiers (tenant_id, mpn_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- The outbox (SPEC §6): written in the transaction of the change that
-- causes the mail, delivered after commit by the sender (lib/mail). A
-- sender claims due rows with FOR UPDATE SKIP LOCKED and marks them
-- 'sending' with a lease (next_attempt_at); a row whose lease ran out is
-- claimed again, so a sender that died mid-send loses no mail.
CREATE TABLE mail_outbox (
  id               CHAR(36) CHARACTER SET ascii NOT NULL,
  tenant_id        CHAR(36) CHARACTER SET ascii NULL,
  template         VARCHAR(64) CHARACTER SET ascii NOT NULL,
  language         CHAR(2) CHARACTER SET ascii NOT NULL,
  recipient        VARCHAR(254) CHARACTER SET ascii NOT NULL,
  subject          VARCHAR(998) NOT NULL,
  body             MEDIUMTEXT NOT NULL,
  status           ENUM('pending', 'sending', 'sent', 'failed') NOT NULL DEFAULT 'pending',
  attempts         INT UNSIGNED NOT NULL DEFAULT 0,
  next_attempt_at  DATETIME(6) NOT NULL,
  claimed_by       VARCHAR(64) CHARACTER SET ascii NULL,
  last_error       VARCHAR(255) NULL,
  created_at       DATETIME(6) NOT NULL,
  sent_at          DATETIME(6) NULL,
  version          INT UNSIGNED NOT NULL DEFAULT 1,
  PRIMARY KEY (id),
  KEY ix_outbox_due (status, next_attempt_at),
  KEY ix_outbox_status (status, id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
