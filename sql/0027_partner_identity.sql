-- Partner identity (issue 21, F2 and F7).
--
-- F2: a tenant's association of an MPN ID is a claim until the operator
-- verifies it in the review queue. The claim has an id of its own (the
-- operator decides on that claim, not on whatever the tenant claims by the
-- time the decision arrives), a status, and the decision (who, when, why).
-- An MPN ID is verified for one tenant at most: the unique key holds among
-- verified associations only (verified_mpn_id is NULL for any other), so a
-- squatter's unverified claim no longer blocks the real holder.
--
-- Associations made before this migration were accepted under the old
-- rules, unique already: they stay associated, as verified, with no
-- operator named (decided_by NULL) and their association time as the
-- decision's.
ALTER TABLE mpn_associations
  ADD COLUMN id CHAR(36) CHARACTER SET ascii NULL FIRST,
  ADD COLUMN status ENUM('pending_verification', 'verified', 'rejected') NOT NULL
    DEFAULT 'pending_verification' AFTER mpn_id,
  ADD COLUMN decided_by CHAR(36) CHARACTER SET ascii NULL,
  ADD COLUMN decided_at DATETIME(6) NULL,
  ADD COLUMN reason VARCHAR(2000) NULL;

UPDATE mpn_associations
  SET id = UUID(), status = 'verified', decided_at = associated_at;

ALTER TABLE mpn_associations
  MODIFY id CHAR(36) CHARACTER SET ascii NOT NULL,
  ADD COLUMN verified_mpn_id VARCHAR(7) CHARACTER SET ascii
    AS (IF(status = 'verified', mpn_id, NULL)) PERSISTENT,
  DROP KEY uq_mpn_associations_mpn,
  ADD UNIQUE KEY uq_mpn_associations_id (id),
  ADD UNIQUE KEY uq_mpn_associations_verified (verified_mpn_id),
  -- every claim of one ID (a verification releases the others')
  ADD KEY ix_mpn_associations_mpn (mpn_id, status),
  -- the operator's queue: one status in id order
  ADD KEY ix_mpn_associations_status (status, id);

-- Every MPN ID a tenant has claimed, a row to lock: a claim of an ID and a
-- verification of one of its claims lock (and write) it first, so they
-- happen one after the other, on one server as across a Galera cluster (a
-- late claim sees the verification and is refused; a verification sees the
-- claims made before it and releases them).
CREATE TABLE mpn_id_locks (
  mpn_id     VARCHAR(7) CHARACTER SET ascii NOT NULL,
  locked_at  DATETIME(6) NOT NULL,
  PRIMARY KEY (mpn_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- F7: domains the operator has verified for a tenant, besides its work
-- account's own: the primary contact may be at one of them (or below it).
-- A domain is verified for one tenant at most (the primary key).
CREATE TABLE tenant_verified_domains (
  domain       VARCHAR(253) CHARACTER SET ascii NOT NULL,
  tenant_id    CHAR(36) CHARACTER SET ascii NOT NULL,
  verified_by  CHAR(36) CHARACTER SET ascii NOT NULL,
  verified_at  DATETIME(6) NOT NULL,
  PRIMARY KEY (domain),
  KEY ix_tenant_verified_domains_tenant (tenant_id, domain),
  CONSTRAINT fk_tenant_verified_domain_tenant FOREIGN KEY (tenant_id) REFERENCES tenants (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
