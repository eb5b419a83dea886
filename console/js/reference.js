// Names of the programme's reference data in the person's language: roles,
// scopes, regions, countries (from GET /v1/regions, named by the browser).
import { t, has, countryName, language } from './i18n.js';
import { call } from './api.js';

export const ROLES = ['global_admin', 'admin_agent', 'sales_agent', 'helpdesk_agent', 'billing_admin'];
export const DELEGABLE = ['admin_agent', 'sales_agent', 'helpdesk_agent', 'billing_admin'];
export const SCOPES = ['profiles:read', 'relationships:read', 'relationships:write', 'customers:read', 'customers:write', 'agreements:read', 'orders:read', 'orders:write'];

export function roleList(roles) {
  return (roles || []).map((r) => (has(`roles.${r}`) ? t(`roles.${r}`) : r)).join(', ');
}

export function regionName(code) {
  if (!code) return '';
  return has(`regions.${code}`) ? t(`regions.${code}`) : code;
}

let regions = null;
export async function allRegions() {
  if (!regions) regions = (await call('GET', '/v1/regions', { anonymous: true })).data.items;
  return regions;
}

// [{value, label}] of the countries of REGION (a code), or of every region, by name.
export async function countryOptions(region) {
  const items = await allRegions();
  const codes = items.filter((r) => !region || r.code === region).flatMap((r) => r.countries.map((c) => c.code));
  const collator = new Intl.Collator(language());
  return codes.map((code) => ({ value: code, label: countryName(code) })).sort((a, b) => collator.compare(a.label, b.label));
}
