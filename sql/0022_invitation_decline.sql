-- A reseller declines a provider's invitation (issue 21, and the
-- relationship.declined event of issue 20): the invitation ends as
-- 'declined', with the reason the reseller gave (mailed to the provider).
ALTER TABLE relationship_invitations
  MODIFY state ENUM('pending', 'accepted', 'withdrawn', 'declined') NOT NULL DEFAULT 'pending',
  ADD COLUMN decline_reason VARCHAR(1000) NULL;
