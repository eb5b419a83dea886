-- Admin access about to end (issue 20): the provider and the reseller are
-- mailed 30, 7 and 1 day before a relationship's admin access ends. One row
-- a (relationship, threshold) mailed: the key makes it one mail per
-- threshold, ever, however many hosts look at once.
CREATE TABLE relationship_access_notices (
  relationship_id  CHAR(36) CHARACTER SET ascii NOT NULL,
  threshold_days   SMALLINT UNSIGNED NOT NULL,
  sent_at          DATETIME(6) NOT NULL,
  PRIMARY KEY (relationship_id, threshold_days),
  CONSTRAINT fk_access_notices_relationship FOREIGN KEY (relationship_id)
    REFERENCES relationships (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- the periodic look for access ending within 30 days
ALTER TABLE relationships ADD KEY ix_relationships_access_end (state, admin_access, access_ends_at);
