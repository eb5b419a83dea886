// The programme's worlds, built through the API as tests/integration/world.py
// builds them, for the journeys' steps that happen before the page under test:
// an approved reseller, a provider, an invitation, a signed agreement.
import { accessToken, api, mailedLink, operator, unique, workAccount } from './stack.js';

export function enrollmentBody(domain, country = 'DE') {
  return {
    legalBusinessProfile: {
      companyName: `Contoso ${domain}`,
      address: { addressLine1: 'Hauptstr. 1', city: 'Berlin', postalCode: '10115', country },
      phoneNumber: '+49 30 1234567',
    },
    primaryContact: { firstName: 'Pia', lastName: 'Contact', email: `pia@${domain}`, phoneNumber: '+49 30 7654321' },
    supportProfile: { email: `support@${domain}`, telephone: '+49 30 1111111', website: `https://${domain}` },
  };
}

function ok(r, status, what) {
  if (r.status !== status) throw new Error(`${what}: ${r.status} ${JSON.stringify(r.body)}`);
  return r.body;
}

// A work account with its token and tenant id.
export async function account(opts) {
  const acct = await workAccount(opts);
  acct.token = await accessToken(acct.email, acct.password);
  acct.id = ok(await api('GET', '/v1/me', { token: acct.token }), 200, 'me').tenantId;
  return acct;
}

// A work account that has enrolled and whose contact confirmed: in review.
export async function enrolled(country = 'DE') {
  const acct = await account();
  acct.enrollment = ok(await api('POST', '/v1/enrollments', { token: acct.token, body: enrollmentBody(acct.domain, country) }), 201, 'enrolment');
  const link = await mailedLink(`pia@${acct.domain}`, '/verify-email');
  ok(await api('POST', '/v1/email-verifications', { body: { token: new URL(link).searchParams.get('token') } }), 200, 'verification');
  return acct;
}

export async function approved(country = 'DE') {
  const acct = await enrolled(country);
  ok(await api('POST', `/v1/operator/enrollments/${acct.enrollment.id}/decisions`, { token: await operator(), body: { decision: 'approve' } }), 201, 'approval');
  return acct;
}

// The current partner agreement, published if there is none.
export async function agreement() {
  const op = await operator();
  const cur = await api('GET', '/v1/agreement-templates?type=partner_agreement', { token: op });
  if (cur.body.items.length) return cur.body.items[0];
  return ok(
    await api('POST', '/v1/operator/agreement-templates', {
      token: op,
      body: { type: 'partner_agreement', version: unique('v'), documentUrl: 'https://partners.example.com/mpa.pdf', documentSha256: 'ab'.repeat(32), effectiveDate: new Date().toISOString().slice(0, 10) },
    }),
    201,
    'publication',
  );
}

export async function signs(acct) {
  await agreement();
  ok(
    await api('POST', '/v1/agreements', {
      token: acct.token,
      body: { type: 'partner_agreement', signer: { firstName: 'Ada', lastName: 'Lovelace', email: acct.email, phoneNumber: '+49 30 5555555' } },
    }),
    201,
    'agreement',
  );
}

export async function provider(regions = ['europe'], name) {
  const acct = await account();
  if (name) acct.displayName = name;
  ok(await api('POST', '/v1/operator/providers', { token: await operator(), body: { tenantId: acct.id, regions } }), 201, 'provider');
  acct.token = await accessToken(acct.email, acct.password); // its roles changed
  return acct;
}

// The provider invites the reseller's global admin; the link of the mail.
export async function invitation(prov, reseller, n = 1, body = {}) {
  ok(await api('POST', '/v1/relationship-invitations', { token: prov.token, body: { resellerEmail: reseller.email, ...body } }), 201, 'invitation');
  return mailedLink(reseller.email, '/authorize-provider', n);
}
