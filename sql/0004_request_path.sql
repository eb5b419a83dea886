-- The principal of every request in one primary-key read (issue "ready the
-- house"): a user's roles live on its row as a SET, so that authenticating
-- a request needs no join, no subquery and no temporary table. The SET
-- lists the role names in the order of enum auth_role (lib/auth/auth.h).
ALTER TABLE users
  ADD COLUMN roles SET('global_admin', 'admin_agent', 'sales_agent', 'helpdesk_agent',
                       'billing_admin', 'operator') NOT NULL DEFAULT '' AFTER disabled;

UPDATE users u
   SET u.roles = (SELECT IFNULL(GROUP_CONCAT(r.role), '') FROM user_roles r WHERE r.user_id = u.id);

DROP TABLE user_roles;

-- The periodic purge (lib/domain/purge.c) finds expired sign-in failure
-- counters through this index, oldest first.
ALTER TABLE signin_failures ADD KEY ix_signin_failures_window (window_start);
