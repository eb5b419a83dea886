-- Customers and orders (SPEC §4 last rule, §5, §8; issue 11): a reseller's
-- invitation of a customer, the customer's two relationships (with the
-- reseller and with the provider) made at once, the offers that can be
-- ordered with a price per CSP region, and the orders a provider submits
-- with the subscriptions they make.

-- the two scopes SPEC §2 names for a provider's billing system
ALTER TABLE api_tokens
  MODIFY scopes SET('profiles:read', 'relationships:read', 'relationships:write',
                    'customers:read', 'customers:write', 'agreements:read',
                    'orders:read', 'orders:write') NOT NULL;

-- a delegated change (SPEC §5) is written in both tenants' logs: the
-- relationship that admitted it, the actor's own tenant and the tenant the
-- change was made in
ALTER TABLE audit_events
  ADD COLUMN relationship_id CHAR(36) CHARACTER SET ascii NULL AFTER client_addr,
  ADD COLUMN actor_tenant_id CHAR(36) CHARACTER SET ascii NULL AFTER relationship_id,
  ADD COLUMN subject_tenant_id CHAR(36) CHARACTER SET ascii NULL AFTER actor_tenant_id;

CREATE TABLE customer_invitations (
  id                  CHAR(36) CHARACTER SET ascii NOT NULL,
  relationship_id     CHAR(36) CHARACTER SET ascii NOT NULL,
  reseller_tenant_id  CHAR(36) CHARACTER SET ascii NOT NULL,
  provider_tenant_id  CHAR(36) CHARACTER SET ascii NOT NULL,
  customer_email      VARCHAR(254) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  -- the invitation is the customer's whose work account has this domain
  customer_domain     VARCHAR(253) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  company_name        VARCHAR(200) NOT NULL,
  country             CHAR(2) CHARACTER SET ascii NOT NULL,
  language            CHAR(2) CHARACTER SET ascii NOT NULL,
  token_hash          CHAR(64) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  state               ENUM('pending', 'accepted', 'withdrawn') NOT NULL DEFAULT 'pending',
  expires_at          DATETIME(6) NOT NULL,
  created_by          CHAR(36) CHARACTER SET ascii NOT NULL,
  created_at          DATETIME(6) NOT NULL,
  changed_at          DATETIME(6) NULL,
  customer_tenant_id  CHAR(36) CHARACTER SET ascii NULL,
  PRIMARY KEY (id),
  UNIQUE KEY uq_customer_invitations_token (token_hash),
  KEY ix_customer_invitations_relationship (relationship_id, id),
  KEY ix_customer_invitations_domain (customer_domain, id),
  CONSTRAINT fk_customer_invitations_relationship FOREIGN KEY (relationship_id)
    REFERENCES relationships (id),
  CONSTRAINT fk_customer_invitations_country FOREIGN KEY (country) REFERENCES countries (code)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- a customer's reseller relationship with one partner (a reseller or a
-- provider); company name and country as the invitation named them
CREATE TABLE customer_relationships (
  id                  CHAR(36) CHARACTER SET ascii NOT NULL,
  customer_tenant_id  CHAR(36) CHARACTER SET ascii NOT NULL,
  partner_tenant_id   CHAR(36) CHARACTER SET ascii NOT NULL,
  partner_type        ENUM('indirect_reseller', 'indirect_provider') NOT NULL,
  company_name        VARCHAR(200) NOT NULL,
  country             CHAR(2) CHARACTER SET ascii NOT NULL,
  invitation_id       CHAR(36) CHARACTER SET ascii NOT NULL,
  state               ENUM('active', 'ended') NOT NULL DEFAULT 'active',
  -- 1 while active, NULL once ended: one active relationship a pair
  active              TINYINT(1) NULL DEFAULT 1,
  created_by          CHAR(36) CHARACTER SET ascii NOT NULL,
  created_at          DATETIME(6) NOT NULL,
  ended_at            DATETIME(6) NULL,
  ended_by            CHAR(36) CHARACTER SET ascii NULL,
  version             INT UNSIGNED NOT NULL DEFAULT 1,
  PRIMARY KEY (id),
  UNIQUE KEY uq_customer_relationships_active (customer_tenant_id, partner_tenant_id, active),
  -- a partner's customers, in the order of their ids
  KEY ix_customer_relationships_partner (partner_tenant_id, active, customer_tenant_id),
  CONSTRAINT fk_customer_relationships_customer FOREIGN KEY (customer_tenant_id)
    REFERENCES tenants (id),
  CONSTRAINT fk_customer_relationships_partner FOREIGN KEY (partner_tenant_id)
    REFERENCES tenants (id),
  CONSTRAINT fk_customer_relationships_invitation FOREIGN KEY (invitation_id)
    REFERENCES customer_invitations (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- Reference data: what can be ordered, within which quantities.
CREATE TABLE offers (
  id            CHAR(36) CHARACTER SET ascii NOT NULL,
  name          VARCHAR(200) NOT NULL,
  unit          VARCHAR(32) CHARACTER SET ascii NOT NULL,
  min_quantity  INT UNSIGNED NOT NULL,
  max_quantity  INT UNSIGNED NOT NULL,
  PRIMARY KEY (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- A price per CSP region in each billing currency of the region's
-- countries (shared/data/csp-regions.csv: Europe bills in six).
CREATE TABLE offer_prices (
  offer_id     CHAR(36) CHARACTER SET ascii NOT NULL,
  region_code  VARCHAR(64) CHARACTER SET ascii NOT NULL,
  currency     CHAR(3) CHARACTER SET ascii NOT NULL,
  unit_price   DECIMAL(12, 2) NOT NULL,
  PRIMARY KEY (offer_id, region_code, currency),
  CONSTRAINT fk_offer_prices_offer FOREIGN KEY (offer_id) REFERENCES offers (id),
  CONSTRAINT fk_offer_prices_region FOREIGN KEY (region_code) REFERENCES regions (code)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE subscriptions (
  id                  CHAR(36) CHARACTER SET ascii NOT NULL,
  customer_tenant_id  CHAR(36) CHARACTER SET ascii NOT NULL,
  provider_tenant_id  CHAR(36) CHARACTER SET ascii NOT NULL,
  reseller_tenant_id  CHAR(36) CHARACTER SET ascii NOT NULL,
  offer_id            CHAR(36) CHARACTER SET ascii NOT NULL,
  quantity            INT UNSIGNED NOT NULL,
  status              ENUM('active') NOT NULL DEFAULT 'active',
  currency            CHAR(3) CHARACTER SET ascii NOT NULL,
  unit_price          DECIMAL(12, 2) NOT NULL,
  created_by          CHAR(36) CHARACTER SET ascii NOT NULL,
  created_at          DATETIME(6) NOT NULL,
  changed_at          DATETIME(6) NOT NULL,
  version             INT UNSIGNED NOT NULL DEFAULT 1,
  PRIMARY KEY (id),
  KEY ix_subscriptions_customer (customer_tenant_id, id),
  CONSTRAINT fk_subscriptions_customer FOREIGN KEY (customer_tenant_id) REFERENCES tenants (id),
  CONSTRAINT fk_subscriptions_provider FOREIGN KEY (provider_tenant_id) REFERENCES providers (tenant_id),
  CONSTRAINT fk_subscriptions_reseller FOREIGN KEY (reseller_tenant_id) REFERENCES tenants (id),
  CONSTRAINT fk_subscriptions_offer FOREIGN KEY (offer_id) REFERENCES offers (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- The order history the provider, the reseller and the customer share: a
-- new subscription, or a change of its quantity. Never changed.
CREATE TABLE orders (
  id                  CHAR(36) CHARACTER SET ascii NOT NULL,
  customer_tenant_id  CHAR(36) CHARACTER SET ascii NOT NULL,
  provider_tenant_id  CHAR(36) CHARACTER SET ascii NOT NULL,
  reseller_tenant_id  CHAR(36) CHARACTER SET ascii NOT NULL,
  relationship_id     CHAR(36) CHARACTER SET ascii NOT NULL,
  subscription_id     CHAR(36) CHARACTER SET ascii NOT NULL,
  offer_id            CHAR(36) CHARACTER SET ascii NOT NULL,
  kind                ENUM('new', 'quantity_change') NOT NULL,
  quantity            INT UNSIGNED NOT NULL,
  previous_quantity   INT UNSIGNED NULL,
  currency            CHAR(3) CHARACTER SET ascii NOT NULL,
  unit_price          DECIMAL(12, 2) NOT NULL,
  created_by          CHAR(36) CHARACTER SET ascii NOT NULL,
  created_at          DATETIME(6) NOT NULL,
  PRIMARY KEY (id),
  KEY ix_orders_customer (customer_tenant_id, id),
  CONSTRAINT fk_orders_relationship FOREIGN KEY (relationship_id) REFERENCES relationships (id),
  CONSTRAINT fk_orders_subscription FOREIGN KEY (subscription_id) REFERENCES subscriptions (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

INSERT INTO offers (id, name, unit, min_quantity, max_quantity) VALUES
  ('0193a000-0000-7000-8000-000000000001', 'Business Mail', 'user/month', 1, 300),
  ('0193a000-0000-7000-8000-000000000002', 'Business Suite', 'user/month', 1, 300),
  ('0193a000-0000-7000-8000-000000000003', 'Enterprise Suite', 'user/month', 1, 50000),
  ('0193a000-0000-7000-8000-000000000004', 'Cloud Storage 1 TB', 'terabyte/month', 1, 1000),
  ('0193a000-0000-7000-8000-000000000005', 'Security Add-on', 'user/month', 5, 50000);

-- list prices in USD converted at fixed rates and rounded (whole units for
-- JPY, KRW, INR, RUB, TWD)
INSERT INTO offer_prices (offer_id, region_code, currency, unit_price) VALUES
  ('0193a000-0000-7000-8000-000000000001', 'africa', 'USD', 4.00),
  ('0193a000-0000-7000-8000-000000000001', 'asia-and-pacific', 'USD', 4.00),
  ('0193a000-0000-7000-8000-000000000001', 'australia', 'AUD', 6.00),
  ('0193a000-0000-7000-8000-000000000001', 'brazil', 'USD', 4.00),
  ('0193a000-0000-7000-8000-000000000001', 'canada', 'CAD', 5.40),
  ('0193a000-0000-7000-8000-000000000001', 'europe', 'CHF', 3.52),
  ('0193a000-0000-7000-8000-000000000001', 'europe', 'DKK', 27.60),
  ('0193a000-0000-7000-8000-000000000001', 'europe', 'EUR', 3.68),
  ('0193a000-0000-7000-8000-000000000001', 'europe', 'GBP', 3.16),
  ('0193a000-0000-7000-8000-000000000001', 'europe', 'NOK', 42.00),
  ('0193a000-0000-7000-8000-000000000001', 'europe', 'SEK', 41.60),
  ('0193a000-0000-7000-8000-000000000001', 'india', 'INR', 332.00),
  ('0193a000-0000-7000-8000-000000000001', 'japan', 'JPY', 600.00),
  ('0193a000-0000-7000-8000-000000000001', 'korea', 'KRW', 5320.00),
  ('0193a000-0000-7000-8000-000000000001', 'latin-america-and-the-caribbean', 'USD', 4.00),
  ('0193a000-0000-7000-8000-000000000001', 'middle-east-central-and-eastern-europe', 'USD', 4.00),
  ('0193a000-0000-7000-8000-000000000001', 'new-zealand', 'NZD', 6.60),
  ('0193a000-0000-7000-8000-000000000001', 'russia', 'RUB', 368.00),
  ('0193a000-0000-7000-8000-000000000001', 'taiwan', 'TWD', 128.00),
  ('0193a000-0000-7000-8000-000000000001', 'united-states', 'USD', 4.00),
  ('0193a000-0000-7000-8000-000000000002', 'africa', 'USD', 12.50),
  ('0193a000-0000-7000-8000-000000000002', 'asia-and-pacific', 'USD', 12.50),
  ('0193a000-0000-7000-8000-000000000002', 'australia', 'AUD', 18.75),
  ('0193a000-0000-7000-8000-000000000002', 'brazil', 'USD', 12.50),
  ('0193a000-0000-7000-8000-000000000002', 'canada', 'CAD', 16.88),
  ('0193a000-0000-7000-8000-000000000002', 'europe', 'CHF', 11.00),
  ('0193a000-0000-7000-8000-000000000002', 'europe', 'DKK', 86.25),
  ('0193a000-0000-7000-8000-000000000002', 'europe', 'EUR', 11.50),
  ('0193a000-0000-7000-8000-000000000002', 'europe', 'GBP', 9.88),
  ('0193a000-0000-7000-8000-000000000002', 'europe', 'NOK', 131.25),
  ('0193a000-0000-7000-8000-000000000002', 'europe', 'SEK', 130.00),
  ('0193a000-0000-7000-8000-000000000002', 'india', 'INR', 1038.00),
  ('0193a000-0000-7000-8000-000000000002', 'japan', 'JPY', 1875.00),
  ('0193a000-0000-7000-8000-000000000002', 'korea', 'KRW', 16625.00),
  ('0193a000-0000-7000-8000-000000000002', 'latin-america-and-the-caribbean', 'USD', 12.50),
  ('0193a000-0000-7000-8000-000000000002', 'middle-east-central-and-eastern-europe', 'USD', 12.50),
  ('0193a000-0000-7000-8000-000000000002', 'new-zealand', 'NZD', 20.62),
  ('0193a000-0000-7000-8000-000000000002', 'russia', 'RUB', 1150.00),
  ('0193a000-0000-7000-8000-000000000002', 'taiwan', 'TWD', 400.00),
  ('0193a000-0000-7000-8000-000000000002', 'united-states', 'USD', 12.50),
  ('0193a000-0000-7000-8000-000000000003', 'africa', 'USD', 36.00),
  ('0193a000-0000-7000-8000-000000000003', 'asia-and-pacific', 'USD', 36.00),
  ('0193a000-0000-7000-8000-000000000003', 'australia', 'AUD', 54.00),
  ('0193a000-0000-7000-8000-000000000003', 'brazil', 'USD', 36.00),
  ('0193a000-0000-7000-8000-000000000003', 'canada', 'CAD', 48.60),
  ('0193a000-0000-7000-8000-000000000003', 'europe', 'CHF', 31.68),
  ('0193a000-0000-7000-8000-000000000003', 'europe', 'DKK', 248.40),
  ('0193a000-0000-7000-8000-000000000003', 'europe', 'EUR', 33.12),
  ('0193a000-0000-7000-8000-000000000003', 'europe', 'GBP', 28.44),
  ('0193a000-0000-7000-8000-000000000003', 'europe', 'NOK', 378.00),
  ('0193a000-0000-7000-8000-000000000003', 'europe', 'SEK', 374.40),
  ('0193a000-0000-7000-8000-000000000003', 'india', 'INR', 2988.00),
  ('0193a000-0000-7000-8000-000000000003', 'japan', 'JPY', 5400.00),
  ('0193a000-0000-7000-8000-000000000003', 'korea', 'KRW', 47880.00),
  ('0193a000-0000-7000-8000-000000000003', 'latin-america-and-the-caribbean', 'USD', 36.00),
  ('0193a000-0000-7000-8000-000000000003', 'middle-east-central-and-eastern-europe', 'USD', 36.00),
  ('0193a000-0000-7000-8000-000000000003', 'new-zealand', 'NZD', 59.40),
  ('0193a000-0000-7000-8000-000000000003', 'russia', 'RUB', 3312.00),
  ('0193a000-0000-7000-8000-000000000003', 'taiwan', 'TWD', 1152.00),
  ('0193a000-0000-7000-8000-000000000003', 'united-states', 'USD', 36.00),
  ('0193a000-0000-7000-8000-000000000004', 'africa', 'USD', 20.00),
  ('0193a000-0000-7000-8000-000000000004', 'asia-and-pacific', 'USD', 20.00),
  ('0193a000-0000-7000-8000-000000000004', 'australia', 'AUD', 30.00),
  ('0193a000-0000-7000-8000-000000000004', 'brazil', 'USD', 20.00),
  ('0193a000-0000-7000-8000-000000000004', 'canada', 'CAD', 27.00),
  ('0193a000-0000-7000-8000-000000000004', 'europe', 'CHF', 17.60),
  ('0193a000-0000-7000-8000-000000000004', 'europe', 'DKK', 138.00),
  ('0193a000-0000-7000-8000-000000000004', 'europe', 'EUR', 18.40),
  ('0193a000-0000-7000-8000-000000000004', 'europe', 'GBP', 15.80),
  ('0193a000-0000-7000-8000-000000000004', 'europe', 'NOK', 210.00),
  ('0193a000-0000-7000-8000-000000000004', 'europe', 'SEK', 208.00),
  ('0193a000-0000-7000-8000-000000000004', 'india', 'INR', 1660.00),
  ('0193a000-0000-7000-8000-000000000004', 'japan', 'JPY', 3000.00),
  ('0193a000-0000-7000-8000-000000000004', 'korea', 'KRW', 26600.00),
  ('0193a000-0000-7000-8000-000000000004', 'latin-america-and-the-caribbean', 'USD', 20.00),
  ('0193a000-0000-7000-8000-000000000004', 'middle-east-central-and-eastern-europe', 'USD', 20.00),
  ('0193a000-0000-7000-8000-000000000004', 'new-zealand', 'NZD', 33.00),
  ('0193a000-0000-7000-8000-000000000004', 'russia', 'RUB', 1840.00),
  ('0193a000-0000-7000-8000-000000000004', 'taiwan', 'TWD', 640.00),
  ('0193a000-0000-7000-8000-000000000004', 'united-states', 'USD', 20.00),
  ('0193a000-0000-7000-8000-000000000005', 'africa', 'USD', 5.70),
  ('0193a000-0000-7000-8000-000000000005', 'asia-and-pacific', 'USD', 5.70),
  ('0193a000-0000-7000-8000-000000000005', 'australia', 'AUD', 8.55),
  ('0193a000-0000-7000-8000-000000000005', 'brazil', 'USD', 5.70),
  ('0193a000-0000-7000-8000-000000000005', 'canada', 'CAD', 7.70),
  ('0193a000-0000-7000-8000-000000000005', 'europe', 'CHF', 5.02),
  ('0193a000-0000-7000-8000-000000000005', 'europe', 'DKK', 39.33),
  ('0193a000-0000-7000-8000-000000000005', 'europe', 'EUR', 5.24),
  ('0193a000-0000-7000-8000-000000000005', 'europe', 'GBP', 4.50),
  ('0193a000-0000-7000-8000-000000000005', 'europe', 'NOK', 59.85),
  ('0193a000-0000-7000-8000-000000000005', 'europe', 'SEK', 59.28),
  ('0193a000-0000-7000-8000-000000000005', 'india', 'INR', 473.00),
  ('0193a000-0000-7000-8000-000000000005', 'japan', 'JPY', 855.00),
  ('0193a000-0000-7000-8000-000000000005', 'korea', 'KRW', 7581.00),
  ('0193a000-0000-7000-8000-000000000005', 'latin-america-and-the-caribbean', 'USD', 5.70),
  ('0193a000-0000-7000-8000-000000000005', 'middle-east-central-and-eastern-europe', 'USD', 5.70),
  ('0193a000-0000-7000-8000-000000000005', 'new-zealand', 'NZD', 9.40),
  ('0193a000-0000-7000-8000-000000000005', 'russia', 'RUB', 524.00),
  ('0193a000-0000-7000-8000-000000000005', 'taiwan', 'TWD', 182.00),
  ('0193a000-0000-7000-8000-000000000005', 'united-states', 'USD', 5.70);
