-- A row's provider is never its reseller: a tenant can be both kinds of
-- partner, but not on both sides of one relationship (relationship.c
-- refuses a consent to oneself).  The lists of a partner's own orders and
-- subscriptions (lib/domain/order.c) count the rows it provides and the
-- rows it resells as two disjoint ranges; this makes them so.
ALTER TABLE orders
  ADD CONSTRAINT ck_orders_two_partners CHECK (provider_tenant_id <> reseller_tenant_id);
ALTER TABLE subscriptions
  ADD CONSTRAINT ck_subscriptions_two_partners CHECK (provider_tenant_id <> reseller_tenant_id);
