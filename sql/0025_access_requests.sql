-- Admin access has a lifecycle (issue 21, deliverable 1): on an active
-- relationship, the provider asks the reseller for new or more access or a
-- later end (an access request, mailed to the reseller's primary contact
-- with a single-use link); the reseller's global admin consents (the
-- relationship's access becomes the request's) or declines it. Access
-- granted with auto_extend lengthens itself by 180 days at its end.

CREATE TABLE relationship_access_requests (
  id                  CHAR(36) CHARACTER SET ascii NOT NULL,
  relationship_id     CHAR(36) CHARACTER SET ascii NOT NULL,
  provider_tenant_id  CHAR(36) CHARACTER SET ascii NOT NULL,
  reseller_tenant_id  CHAR(36) CHARACTER SET ascii NOT NULL,
  -- what consent grants: the roles in the reseller's account, until when
  access_roles        SET('admin_agent', 'sales_agent', 'helpdesk_agent', 'billing_admin')
                      NOT NULL,
  access_ends_at      DATETIME(6) NOT NULL,
  auto_extend         TINYINT(1) NOT NULL DEFAULT 0,
  message             VARCHAR(1000) NULL,
  token_hash          CHAR(64) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  state               ENUM('pending', 'accepted', 'declined', 'withdrawn') NOT NULL
                      DEFAULT 'pending',
  decline_reason      VARCHAR(1000) NULL,
  expires_at          DATETIME(6) NOT NULL,
  created_by          CHAR(36) CHARACTER SET ascii NOT NULL,
  created_at          DATETIME(6) NOT NULL,
  changed_at          DATETIME(6) NULL,
  PRIMARY KEY (id),
  UNIQUE KEY uq_access_requests_token (token_hash),
  -- the list of a relationship, by id; and its pending request
  KEY ix_access_requests_relationship (relationship_id, id),
  KEY ix_access_requests_pending (relationship_id, state),
  CONSTRAINT fk_access_requests_relationship FOREIGN KEY (relationship_id)
    REFERENCES relationships (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- the access extends itself by 180 days each time it reaches its end
ALTER TABLE relationships
  ADD COLUMN auto_extend TINYINT(1) NOT NULL DEFAULT 0;
