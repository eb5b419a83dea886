-- An order names a reseller that the customer accepted together with the
-- ordering provider (issue 21, F4): the customer's accepted invitations,
-- read by the customer.
ALTER TABLE customer_invitations
  ADD KEY ix_customer_invitations_customer (customer_tenant_id, state);
