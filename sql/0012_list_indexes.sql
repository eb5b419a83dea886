-- Every list reads an index from its cursor on, so that a page costs the
-- same whatever the length of the list (SPEC §6): the ranges that had none.

-- the customer's partners (GET /v1/customer-relationships)
ALTER TABLE customer_relationships
  ADD KEY ix_customer_relationships_customer (customer_tenant_id, id);

-- a partner's own of a customer's orders and subscriptions: those it
-- provides, and those placed for it as the reseller
ALTER TABLE orders
  ADD KEY ix_orders_customer_provider (customer_tenant_id, provider_tenant_id, id),
  ADD KEY ix_orders_customer_reseller (customer_tenant_id, reseller_tenant_id, id);
ALTER TABLE subscriptions
  ADD KEY ix_subscriptions_customer_provider (customer_tenant_id, provider_tenant_id, id),
  ADD KEY ix_subscriptions_customer_reseller (customer_tenant_id, reseller_tenant_id, id);
