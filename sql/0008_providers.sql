-- Indirect providers (SPEC §5): tenants the operator authorizes in CSP
-- regions.

CREATE TABLE providers (
  tenant_id   CHAR(36) CHARACTER SET ascii NOT NULL,
  created_by  CHAR(36) CHARACTER SET ascii NOT NULL,
  created_at  DATETIME(6) NOT NULL,
  updated_at  DATETIME(6) NOT NULL,
  version     INT UNSIGNED NOT NULL DEFAULT 1,
  PRIMARY KEY (tenant_id),
  CONSTRAINT fk_providers_tenant FOREIGN KEY (tenant_id) REFERENCES tenants (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- The regions a provider is authorized in; "find a provider" reads them by
-- region.
CREATE TABLE provider_regions (
  tenant_id    CHAR(36) CHARACTER SET ascii NOT NULL,
  region_code  VARCHAR(64) CHARACTER SET ascii NOT NULL,
  PRIMARY KEY (tenant_id, region_code),
  KEY ix_provider_regions_region (region_code, tenant_id),
  CONSTRAINT fk_provider_regions_provider FOREIGN KEY (tenant_id) REFERENCES providers (tenant_id),
  CONSTRAINT fk_provider_regions_region FOREIGN KEY (region_code) REFERENCES regions (code)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
