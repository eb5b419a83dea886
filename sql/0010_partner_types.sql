-- The tenant's memberships of the programme on its own row, so that the
-- principal of every request (lib/auth/auth.c) is read by primary keys
-- alone: an approved enrolment makes it an indirect reseller, a provider
-- record an indirect provider. The domain sets them in the transaction of
-- the change; neither is ever taken back (an approval is final, a provider
-- record is never removed).
ALTER TABLE tenants
  ADD COLUMN partner_types SET('indirect_reseller', 'indirect_provider') NOT NULL DEFAULT ''
  AFTER csp_country;

UPDATE tenants t SET t.partner_types = CONCAT_WS(',',
  IF(EXISTS (SELECT 1 FROM enrollments e WHERE e.tenant_id = t.id AND e.status = 'approved'),
     'indirect_reseller', NULL),
  IF(EXISTS (SELECT 1 FROM providers p WHERE p.tenant_id = t.id), 'indirect_provider', NULL));
