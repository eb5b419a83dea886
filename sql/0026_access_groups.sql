-- Access for chosen staff (issue 21, deliverable 3): a provider gathers
-- its users in groups, and assigns a relationship's admin access to some
-- of them; then only their members act for the reseller. A relationship
-- with no assignment is acted in by every admin agent of the provider, as
-- before.

CREATE TABLE access_groups (
  id          CHAR(36) CHARACTER SET ascii NOT NULL,
  tenant_id   CHAR(36) CHARACTER SET ascii NOT NULL,
  name        VARCHAR(100) NOT NULL,
  version     INT UNSIGNED NOT NULL DEFAULT 1,
  created_by  CHAR(36) CHARACTER SET ascii NOT NULL,
  created_at  DATETIME(6) NOT NULL,
  changed_at  DATETIME(6) NULL,
  PRIMARY KEY (id),
  -- a name once a work account, letter case aside (the collation's)
  UNIQUE KEY uq_access_groups_name (tenant_id, name),
  KEY ix_access_groups_tenant (tenant_id, id),
  CONSTRAINT fk_access_groups_tenant FOREIGN KEY (tenant_id) REFERENCES tenants (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE access_group_members (
  group_id  CHAR(36) CHARACTER SET ascii NOT NULL,
  user_id   CHAR(36) CHARACTER SET ascii NOT NULL,
  added_at  DATETIME(6) NOT NULL,
  PRIMARY KEY (group_id, user_id),
  -- the delegation check: is this user in one of these groups
  KEY ix_access_group_members_user (user_id, group_id),
  CONSTRAINT fk_access_group_members_group FOREIGN KEY (group_id) REFERENCES access_groups (id),
  CONSTRAINT fk_access_group_members_user FOREIGN KEY (user_id) REFERENCES users (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE relationship_access_assignments (
  relationship_id  CHAR(36) CHARACTER SET ascii NOT NULL,
  group_id         CHAR(36) CHARACTER SET ascii NOT NULL,
  assigned_by      CHAR(36) CHARACTER SET ascii NOT NULL,
  assigned_at      DATETIME(6) NOT NULL,
  PRIMARY KEY (relationship_id, group_id),
  -- a group assigned anywhere is not deleted
  KEY ix_access_assignments_group (group_id),
  CONSTRAINT fk_access_assignments_relationship FOREIGN KEY (relationship_id)
    REFERENCES relationships (id),
  CONSTRAINT fk_access_assignments_group FOREIGN KEY (group_id) REFERENCES access_groups (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
