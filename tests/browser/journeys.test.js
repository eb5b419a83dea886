// The guide's journeys between partners, in a real browser against the real stack
// and its real mail: the invitation landings every mail links to, the reseller's,
// the provider's and the operator's pages, and the refusals a person meets there.
// Each page a journey reaches is photographed at 360 and 1280 px and scanned by
// axe-core (lib/browser.js: snap). The worlds a journey starts from are built
// through the API (lib/world.js).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { launch, person, snap, description, sees, writeReport } from './lib/browser.js';
import { steady, totp } from './lib/totp.js';
import { api, baseUrl, env, mailedLink, operator, sql } from './lib/stack.js';
import { account, agreement, approved, enrolled, invitation, provider } from './lib/world.js';

let browser;

before(async () => {
  browser = await launch();
});

after(async () => {
  await browser?.close();
  const r = writeReport('report-journeys');
  console.log(`# axe-core (journeys): ${r.pages.length} scans, ${r.violations.length} violations (none serious or critical)`);
});

// Signs in on the sign-in page in front of it (sent there by a page), and waits
// for the page it is sent back to: HEADING.
async function signInHere(page, acct, heading) {
  await page.getByLabel('E-mail address').fill(acct.email);
  await page.getByLabel('Password', { exact: true }).fill(acct.password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('heading', { name: heading, level: 1 }).waitFor();
}

async function signedIn(acct, path, heading) {
  const page = await person(browser);
  await page.goto(`${baseUrl()}/sign-in?next=${encodeURIComponent(path)}`);
  await signInHere(page, acct, heading);
  return page;
}

// A list shown a page at a time: its next pages until one item is there.
async function showUntil(page, items, item, more) {
  await items.first().waitFor();
  while (!(await item.count())) {
    const before = await items.count();
    await page.getByRole('button', { name: more }).click();
    await items.nth(before).waitFor();
  }
}

function expire(table, link) {
  const token = new URL(link).searchParams.get('token').replace(/[^A-Za-z0-9_-]/g, '');
  const n = sql(`UPDATE ${table} SET expires_at = UTC_TIMESTAMP(6) - INTERVAL 1 MINUTE WHERE token_hash = SHA2('${token}', 256); SELECT ROW_COUNT()`);
  assert.equal(n, '1', `the link of ${table} made to expire`);
}

test('the provider’s invitation: signed out, signed in and back; no consent, another work account, a provider outside the region and an expired link refused; one declined with a reason; authorized; admin access removed, the relationship ended', async () => {
  const [reseller, fabrikam, faraway, late, unwanted] = await Promise.all([
    approved('DE'),
    provider(['europe']),
    provider(['europe', 'asia-and-pacific']),
    provider(['europe']),
    provider(['europe']),
  ]);
  const link = await invitation(fabrikam, reseller, 1, { message: 'We would like to be your indirect provider.', adminAccess: { roles: ['admin_agent', 'sales_agent'] } });

  // opened signed out: what it is, and the way to sign in and come back
  const page = await person(browser);
  await page.goto(link);
  await page.getByRole('heading', { name: 'Authorize an indirect provider', level: 1 }).waitFor();
  await sees(page, 'A global administrator of your work account reviews the invitation');
  await snap(page, 'authorize-provider-signed-out');
  await page.getByRole('link', { name: 'Sign in to continue' }).click();
  await signInHere(page, reseller, 'Authorize an indirect provider');
  await sees(page, 'asks to become your indirect provider');
  await sees(page, 'Admin agent, Sales agent');
  await sees(page, 'We would like to be your indirect provider.');
  await snap(page, 'authorize-provider');

  // no consent: the service's refusal, beside the box
  const box = page.getByRole('checkbox', { name: /I authorize .* to be our indirect provider/ });
  await page.getByRole('button', { name: 'Authorize indirect provider' }).click();
  await page.getByRole('alert').first().waitFor();
  assert.equal(await box.getAttribute('aria-invalid'), 'true');
  assert.match(await description(box), /Tick this box to authorize the provider/);
  await snap(page, 'authorize-provider-no-consent');

  // with the keyboard: the box, then the button
  await box.focus();
  await page.keyboard.press('Space');
  await page.keyboard.press('Tab');
  await page.keyboard.press('Enter');
  await page.getByRole('heading', { name: 'Indirect providers', level: 1 }).waitFor();
  await sees(page, 'is now your indirect provider');
  const cards = page.getByRole('list', { name: 'Indirect providers' }).getByRole('listitem');
  assert.equal(await cards.count(), 1);
  await sees(page, 'Admin agent, Sales agent, until');
  await snap(page, 'providers');

  // the same link again: done already
  await page.goto(link);
  await sees(page, 'You have authorized');

  // a provider that no longer serves the reseller's region (one that never
  // did is refused when it invites)
  const farawayLink = await invitation(faraway, reseller, 2);
  sql(`DELETE FROM provider_regions WHERE tenant_id = '${faraway.id}' AND region_code = 'europe'`);
  await page.goto(farawayLink);
  await page.getByRole('checkbox').check();
  await page.getByRole('button', { name: 'Authorize indirect provider' }).click();
  await sees(page, 'is not authorized in your company’s CSP region (Europe)');
  assert.ok(await page.getByRole('checkbox').isChecked(), 'the box stays ticked');
  await snap(page, 'authorize-provider-wrong-region');

  // an expired link
  const old = await invitation(late, reseller, 3);
  expire('relationship_invitations', old);
  await page.goto(old);
  await sees(page, 'This invitation has expired. Ask');
  await snap(page, 'authorize-provider-expired');

  // declined, saying why: the provider is told, the link is spent
  const unwantedLink = await invitation(unwanted, reseller, 4);
  await page.goto(unwantedLink);
  await page.getByRole('textbox', { name: /Why \(for / }).fill('We buy through another distributor.');
  await snap(page, 'authorize-provider-decline');
  await page.getByRole('button', { name: 'Decline the invitation' }).click();
  await sees(page, 'Your company declined this invitation from');
  await snap(page, 'authorize-provider-declined');
  assert.equal(await page.getByRole('button', { name: 'Authorize indirect provider' }).count(), 0);

  // signed in to another work account than the mail's
  const other = await signedIn(fabrikam, link.replace(/^https?:\/\/[^/]+/, ''), 'Authorize an indirect provider');
  await sees(other, 'This invitation is not for the work account you are signed in to');
  await snap(other, 'authorize-provider-other-account');
  await other.context().close();

  // removing the admin access, confirmed first; cancelling changes nothing
  await page.goto(`${baseUrl()}/providers`);
  await page.getByRole('button', { name: /Remove admin access of/ }).click();
  await page.getByRole('button', { name: 'Cancel' }).click();
  await page.getByRole('button', { name: /Remove admin access of/ }).click();
  await snap(page, 'providers-remove-access-confirm');
  await page.getByRole('button', { name: 'Yes, remove the access' }).click();
  await sees(page, 'admin access of');
  await sees(page, 'Removed on');

  // the provider asks for access again; the reseller grants it from the mail
  const rels = await api('GET', '/v1/relationships?type=indirectResellers', { token: fabrikam.token });
  const relId = rels.body.items.find((x) => x.reseller.tenantId === reseller.id).id;
  const endsAt = new Date(Date.now() + 200 * 86400000).toISOString().replace(/\.\d+Z$/, 'Z');
  const asking = await signedIn(fabrikam, '/resellers', 'Indirect resellers');
  await asking.getByRole('link', { name: /^Ask for admin access from / }).click();
  await asking.getByRole('heading', { name: 'Ask for admin access', level: 1 }).waitFor();
  await asking.getByRole('checkbox', { name: 'Admin agent' }).uncheck();
  await asking.getByRole('checkbox', { name: 'Sales agent' }).check();
  await asking.getByLabel('Admin access until').fill(endsAt.slice(0, 10));
  await asking.getByRole('checkbox', { name: /Extends itself/ }).check();
  await asking.getByLabel('Your message').fill('May we help again?');
  await snap(asking, 'request-access');
  await asking.getByRole('button', { name: 'Send the request' }).click();
  await sees(asking, 'Request sent: we e-mailed');
  await sees(asking, 'Waiting for the reseller');
  await page.goto(await mailedLink(`pia@${reseller.domain}`, '/authorize-access'));
  await page.getByRole('heading', { name: 'Admin access for an indirect provider', level: 1 }).waitFor();
  await sees(page, 'May we help again?');
  await sees(page, 'Yes: by 180 days each time it reaches its end');
  await page.getByRole('checkbox', { name: /I grant .* this admin access/ }).check();
  await snap(page, 'authorize-access');
  await page.getByRole('button', { name: 'Grant admin access' }).click();
  await sees(page, 'This request has been granted.');
  // a request the provider withdraws: its link says so, and offers nothing
  const again = (n) =>
    api('POST', `/v1/relationships/${relId}/access-requests`, {
      token: fabrikam.token,
      headers: { 'Idempotency-Key': `ar-${relId}-${n}` },
      body: { roles: ['admin_agent'], endsAt },
    });
  await asking.reload();
  await asking.getByRole('button', { name: 'Send the request' }).click();
  await sees(asking, 'Request sent: we e-mailed');
  await asking.getByRole('button', { name: /^Withdraw the request of/ }).click();
  await asking.getByRole('button', { name: 'Yes, withdraw it' }).click();
  await sees(asking, 'Request withdrawn: its link no longer works.');
  await snap(asking, 'request-access-withdrawn');
  await asking.context().close();
  await page.goto(await mailedLink(`pia@${reseller.domain}`, '/authorize-access', 2));
  await sees(page, 'has withdrawn this request.');
  assert.equal(await page.getByRole('button', { name: 'Grant admin access' }).count(), 0);
  await snap(page, 'authorize-access-withdrawn');
  // one pending when the relationship ends: the end withdraws it
  const third = await again(3);
  assert.equal(third.status, 201, JSON.stringify(third.body));
  await page.goto(`${baseUrl()}/providers`);
  await sees(page, 'Sales agent, until');
  await page.getByRole('button', { name: /End the relationship with/ }).click();
  await page.getByRole('button', { name: 'Yes, end the relationship' }).click();
  await sees(page, 'None: the relationship has ended');
  await snap(page, 'providers-ended');
  await page.goto(await mailedLink(`pia@${reseller.domain}`, '/authorize-access', 3));
  await sees(page, 'has ended.');
  assert.equal(await page.getByRole('button', { name: 'Grant admin access' }).count(), 0);
  await page.context().close();
});

test('the reseller’s pages: the agreement and its banner, Find a provider, Invite new customers (the countries of the region only), the customer accepts from the mail, View customers, the organization profile (an MPN ID of another country refused beside its field), users and the admin agent box, an API token shown once, the audit log', async () => {
  const [reseller, fabrikam] = await Promise.all([approved('DE'), provider(['europe'])]);
  await agreement();
  const page = await signedIn(reseller, '/overview', 'Overview');
  const menu = page.getByRole('navigation', { name: 'Main menu' });

  // the agreement, read and accepted; the overview's banner
  await menu.getByRole('link', { name: 'Partner agreement' }).click();
  await page.getByRole('heading', { name: 'Partner agreement', level: 1 }).waitFor();
  assert.equal(await page.getByLabel('E-mail address').inputValue(), reseller.email);
  await page.getByLabel('Phone number').fill('12345');
  await page.getByRole('button', { name: 'Accept the partner agreement' }).click();
  await page.getByRole('alert').first().waitFor();
  assert.equal(await page.getByLabel('Phone number').getAttribute('aria-invalid'), 'true');
  await snap(page, 'agreement-refused');
  await page.getByLabel('Phone number').fill('+49 30 5555555');
  await page.getByRole('button', { name: 'Accept the partner agreement' }).click();
  await page.getByRole('heading', { name: 'Overview', level: 1 }).waitFor();
  await sees(page, 'You have accepted the partner agreement.');
  await menu.getByRole('link', { name: 'Partner agreement' }).click();
  await sees(page, 'You have accepted the partner agreement: version');
  await snap(page, 'agreement-signed');

  // Find a provider, by name
  await menu.getByRole('link', { name: 'Find a provider' }).click();
  await page.getByLabel('Provider name').fill(fabrikam.domain);
  await page.getByRole('button', { name: 'Search' }).click();
  await sees(page, '1 provider(s) found.');
  await page.getByRole('list', { name: 'Providers' }).getByRole('heading', { name: fabrikam.displayName }).waitFor();
  await snap(page, 'find-provider');

  // the provider's invitation, authorized (its page is the first journey's)
  const link = new URL(await invitation(fabrikam, reseller));
  const auth = await api('POST', `/v1/relationship-invitations/${link.searchParams.get('invitation')}/authorization`, {
    token: reseller.token,
    body: { token: link.searchParams.get('token'), consent: true },
  });
  assert.equal(auth.status, 201, JSON.stringify(auth.body));

  // Invite new customers
  const customer = await account();
  await menu.getByRole('link', { name: 'Indirect providers' }).click();
  await page.getByRole('link', { name: `Invite new customers with ${fabrikam.displayName}` }).click();
  await page.getByRole('heading', { name: 'Invite new customers', level: 1 }).waitFor();
  await page.getByLabel('Customer’s e-mail address').fill(customer.email);
  await page.getByLabel('Customer’s company name').fill('Northwind Traders');
  const country = page.getByLabel('Customer’s country');
  assert.equal(await country.locator('option[value="US"]').count(), 0, 'only the countries of the region');
  await country.selectOption('FR');
  await page.getByRole('button', { name: 'Send the invitation' }).click();
  await sees(page, `The invitation is on its way to ${customer.email}`);
  await sees(page, 'Waiting for the customer');
  await snap(page, 'invite-customer');

  // the customer's global admin, from the mail
  const mail = await mailedLink(customer.email, '/accept-customer-invitation');
  const cust = await person(browser);
  await cust.goto(mail);
  await cust.getByRole('link', { name: 'Sign in to continue' }).click();
  await signInHere(cust, customer, 'Accept an invitation to become a customer');
  await sees(cust, `${fabrikam.displayName} invite your company to become their customer`);
  await snap(cust, 'accept-customer-invitation');
  await cust.getByRole('button', { name: 'Accept the invitation' }).click();
  await cust.getByRole('heading', { name: 'Your partners', level: 1 }).waitFor();
  await sees(cust, 'Your company is now a customer of');
  assert.equal(await cust.getByRole('list', { name: 'Your partners' }).getByRole('listitem').count(), 2);
  await snap(cust, 'partners');
  await cust.goto(mail);
  await sees(cust, 'this invitation has been accepted');
  await cust.context().close();

  // View customers: the one the reseller and the provider share
  await page.getByRole('link', { name: 'View the customers you share' }).click();
  await page.getByRole('heading', { name: 'View customers', level: 1 }).waitFor();
  await page.getByRole('list', { name: 'View customers' }).getByRole('heading', { name: 'Northwind Traders' }).waitFor();
  await snap(page, 'customers');

  // the organization profile: Program Info, an MPN ID of another country refused
  await menu.getByRole('link', { name: 'Organization profile' }).click();
  await sees(page, 'Signed: version');
  const addMpn = page.getByRole('form', { name: 'Add an MPN ID' });
  await addMpn.getByLabel('MPN ID').fill('1234567');
  await addMpn.getByLabel('Country where it is located').selectOption('FR');
  await addMpn.getByLabel('Location name').fill('Paris');
  await addMpn.getByRole('button', { name: 'Add the MPN ID' }).click();
  await sees(page, 'MPN ID 1234567 is added.');
  const assoc = page.getByRole('form', { name: 'Associate an MPN ID' });
  await assoc.getByRole('button', { name: 'Associate' }).click();
  await sees(page, 'This MPN ID is not located in your CSP country');
  assert.equal(await assoc.getByLabel('MPN ID to associate').getAttribute('aria-invalid'), 'true');
  await snap(page, 'organization-mpn-refused');

  // users: a sales agent added, then made an admin agent (the guide's box)
  await menu.getByRole('link', { name: 'Users' }).click();
  const add = page.getByRole('form', { name: 'Add a user' });
  await add.getByLabel('First name').fill('Sam');
  await add.getByLabel('Last name').fill('Seller');
  await add.getByLabel('E-mail address').fill(`sam@${reseller.domain}`);
  await add.getByLabel('First password').fill('a first password for sam');
  await add.getByRole('checkbox', { name: 'Sales agent' }).check();
  await add.getByRole('button', { name: 'Add the user' }).click();
  await sees(page, `sam@${reseller.domain} is added.`);
  const sam = page.getByRole('group', { name: 'Roles of Sam Seller' });
  assert.ok(await sam.getByRole('checkbox', { name: 'Sales agent' }).isChecked());
  await sam.getByRole('checkbox', { name: 'Admin agent' }).check();
  await page.getByRole('button', { name: 'Update Sam Seller' }).click();
  await sees(page, 'The roles of Sam Seller are updated.');
  await snap(page, 'users');

  // an API token, shown once; revoked after a confirmation
  await menu.getByRole('link', { name: 'API tokens' }).click();
  await page.getByLabel('Name', { exact: true }).fill('CRM');
  await page.getByRole('button', { name: 'Create the token' }).click();
  await page.getByRole('alert').first().waitFor();
  await page.getByRole('checkbox', { name: /^customers:read/ }).check();
  await page.getByRole('button', { name: 'Create the token' }).click();
  await sees(page, 'The token CRM is created.');
  assert.match(await page.getByLabel('The token', { exact: true }).inputValue(), /^tt_/);
  await snap(page, 'api-tokens');
  await page.getByRole('button', { name: 'Revoke CRM' }).click();
  await page.getByRole('button', { name: 'Yes, revoke it' }).click();
  await sees(page, 'The token CRM is revoked.');

  // the audit log
  await menu.getByRole('link', { name: 'Audit log' }).click();
  await sees(page, 'agreement.accept');
  await snap(page, 'audit-log');
  await page.context().close();
});

test('the guide, in the console: the operator approves and makes a provider, the reseller signs, the provider invites it, the reseller authorizes from the mail, the provider invites a customer for it, the customer accepts from the mail, the provider orders and changes the quantity', async () => {
  const [reseller, fabrikam, customer] = await Promise.all([enrolled('DE'), account(), account()]);
  const company = `Contoso ${reseller.domain}`;
  // the reseller claims an MPN ID, which waits for the operator's verification
  const mpnId = String(1000000 + Math.floor(Math.random() * 8999999));
  assert.equal((await api('POST', '/v1/profiles/mpn/identifiers', { token: reseller.token, body: { mpnId, country: 'DE', locationName: 'Berlin' } })).status, 201);
  assert.equal((await api('PUT', '/v1/profiles/mpn/association', { token: reseller.token, body: { mpnId } })).status, 200);

  // the operator: the review queue, a provider, the agreement's version, the outbox
  const op = await signedIn({ email: env('TWOTIER_OPERATOR_EMAIL'), password: env('TWOTIER_OPERATOR_PASSWORD') }, '/review', 'Review queue');
  const queue = op.getByRole('list', { name: 'Review queue' }).getByRole('listitem');
  const entry = queue.filter({ has: op.getByRole('heading', { name: company }) });
  await showUntil(op, queue, entry, 'Show more enrolments');
  await entry.getByRole('radio', { name: 'Reject' }).check();
  await entry.getByRole('button', { name: `Record the decision for ${company}` }).click();
  await sees(op, 'Fill this in.');
  assert.equal(await entry.getByLabel('Reason').getAttribute('aria-invalid'), 'true');
  await snap(op, 'review-reason-missing');
  await entry.getByRole('radio', { name: 'Approve' }).check();
  await entry.getByRole('button', { name: `Record the decision for ${company}` }).click();
  await sees(op, `${company} is approved.`);
  await snap(op, 'review');
  // its MPN ID claim, in the same queue: verified, so it is associated
  const claims = op.getByRole('list', { name: 'MPN IDs to verify' }).getByRole('listitem');
  const claim = claims.filter({ has: op.getByRole('heading', { name: `MPN ID ${mpnId} of ${company}` }) });
  await showUntil(op, claims, claim, 'Show more MPN IDs');
  await claim.getByRole('button', { name: `Record the decision on MPN ID ${mpnId} of ${company}` }).click();
  await sees(op, `MPN ID ${mpnId} is verified for ${company}`);
  assert.equal((await api('GET', '/v1/profiles/mpn', { token: reseller.token })).body.associatedMpnId, mpnId);
  // a domain verified for the reseller's work account, then withdrawn after a confirmation
  const chooser = op.getByRole('form', { name: 'Choose a work account' });
  await chooser.getByLabel('Work account (tenant) id').fill(reseller.id);
  await chooser.getByRole('button', { name: 'Show' }).click();
  const sister = `sister-${reseller.domain}`;
  const verifyDomain = op.getByRole('form', { name: 'Verify a domain for this work account' });
  await verifyDomain.getByLabel('Domain', { exact: true }).fill(sister);
  await verifyDomain.getByRole('button', { name: 'Verify the domain' }).click();
  await sees(op, `${sister} is verified for this work account.`);
  await op.getByRole('button', { name: `Withdraw the verification of ${sister}` }).click();
  await op.getByRole('button', { name: 'Yes, withdraw it' }).click();
  await sees(op, `The verification of ${sister} is withdrawn.`);
  assert.deepEqual((await api('GET', `/v1/operator/tenants/${reseller.id}/domains`, { token: await operator() })).body.items, []);
  const menu = (p) => p.getByRole('navigation', { name: 'Main menu' });
  await menu(op).getByRole('link', { name: 'Providers' }).click();
  const make = op.getByRole('form', { name: 'Make a work account a provider' });
  await make.getByLabel('Work account (tenant) id').fill(fabrikam.id);
  await make.getByRole('checkbox', { name: 'Europe', exact: true }).check();
  await make.getByRole('button', { name: 'Make it a provider' }).click();
  await sees(op, 'is now an indirect provider.');
  // listed with its regions, which change under If-Match; a page at a time
  // (50), the newest last: the operator shows more until it is there
  await op.reload();
  const cardsOf = op.getByRole('list', { name: 'Providers' }).getByRole('listitem');
  const listed = cardsOf.filter({ hasText: fabrikam.domain });
  await cardsOf.first().waitFor();
  assert.ok((await cardsOf.count()) <= 50);
  await op.getByText(/^\d+ of \d+\+? providers shown\.$/).waitFor();
  while (!(await listed.count())) {
    const before = await cardsOf.count();
    await op.getByRole('button', { name: 'Show more providers' }).click();
    await cardsOf.nth(before).waitFor();
  }
  await listed.getByRole('checkbox', { name: 'Africa', exact: true }).check();
  await listed.getByRole('button', { name: /^Save regions of / }).click();
  await listed.getByText(/^The regions of .* are saved\.$/).waitFor();
  await listed.getByRole('checkbox', { name: 'Africa', exact: true }).uncheck();
  await listed.getByRole('button', { name: /^Save regions of / }).click();
  await listed.getByText(/^The regions of .* are saved\.$/).waitFor();
  await snap(op, 'operator-providers');
  await menu(op).getByRole('link', { name: 'Agreement versions' }).click();
  const version = `2026-${Date.now() % 100000}`;
  await op.getByLabel('Version', { exact: true }).fill(version);
  await op.getByLabel('Address of the document').fill('https://partners.example.com/mpa.pdf');
  await op.getByLabel('SHA-256 of the document').fill('cd'.repeat(32));
  await op.getByRole('button', { name: 'Publish' }).click();
  await sees(op, `Version ${version} is published.`);
  await snap(op, 'agreement-versions');
  await menu(op).getByRole('link', { name: 'Mail outbox' }).click();
  await op.getByLabel('Status').selectOption('sent');
  await op.getByRole('button', { name: 'Show' }).click();
  await op.getByRole('list', { name: 'Mail outbox' }).waitFor();
  await snap(op, 'mail-outbox');
  await op.context().close();

  // the reseller signs the agreement
  const res = await signedIn(reseller, '/agreement', 'Partner agreement');
  await sees(res, `version ${version}`);
  await res.getByLabel('Phone number').fill('+49 30 5555555');
  await res.getByRole('button', { name: 'Accept the partner agreement' }).click();
  await sees(res, 'You have accepted the partner agreement.');

  // the provider invites it
  const prov = await signedIn(fabrikam, '/resellers', 'Indirect resellers');
  await snap(prov, 'resellers-none');
  await prov.getByRole('link', { name: 'Invite a reseller' }).click();
  await prov.getByLabel('Reseller’s e-mail address').fill(reseller.email);
  await prov.getByLabel('Your message').fill('Let us work together in Europe.');
  await prov.getByRole('checkbox', { name: 'Sales agent' }).check();
  await snap(prov, 'invite-reseller');
  await prov.getByRole('button', { name: 'Send the invitation' }).click();
  await sees(prov, `The invitation is on its way to ${reseller.email}`);

  // the reseller follows the mail's link, ticks the box and authorizes
  await res.goto(await mailedLink(reseller.email, '/authorize-provider'));
  await sees(res, 'Let us work together in Europe.');
  await res.getByRole('checkbox').check();
  await res.getByRole('button', { name: 'Authorize indirect provider' }).click();
  await sees(res, 'is now your indirect provider');
  await res.context().close();

  // the provider sees it, and invites a customer for it through its admin access
  await prov.reload();
  const name = (await api('GET', '/v1/profiles/organization', { token: reseller.token })).body.companyName;
  await prov.getByRole('list', { name: 'Indirect resellers' }).getByRole('heading', { name }).waitFor();
  await snap(prov, 'resellers');
  await prov.getByRole('link', { name: `Invite new customers for ${name}` }).click();
  await sees(prov, `You act for ${name}, in its work account`);
  await prov.getByLabel('Customer’s e-mail address').fill(customer.email);
  await prov.getByLabel('Customer’s company name').fill('Northwind Traders');
  await prov.getByLabel('Customer’s country').selectOption('FR');
  await prov.getByRole('button', { name: 'Send the invitation' }).click();
  await sees(prov, `The invitation is on its way to ${customer.email}`);
  await snap(prov, 'invite-customer-on-behalf');

  // the customer accepts from the mail
  const accept = new URL(await mailedLink(customer.email, '/accept-customer-invitation'));
  const cust = await signedIn(customer, accept.pathname + accept.search, 'Accept an invitation to become a customer');
  await cust.getByRole('button', { name: 'Accept the invitation' }).click();
  await sees(cust, 'Your company is now a customer of');
  await cust.context().close();

  // the provider orders for it, then changes the quantity
  await prov.getByRole('link', { name: 'View the customers you share' }).click();
  await prov.getByRole('link', { name: 'Orders and subscriptions of Northwind Traders' }).click();
  await prov.getByRole('heading', { name: 'Orders and subscriptions', level: 1 }).waitFor();
  const offer = prov.getByLabel('Offer');
  await offer.selectOption(await offer.locator('option', { hasText: /^Business Suite/ }).getAttribute('value'));
  await prov.getByLabel('Quantity').fill('5000');
  await prov.getByRole('button', { name: 'Place the order' }).click();
  await sees(prov, 'This quantity is outside what the offer allows.');
  assert.equal(await prov.getByLabel('Quantity').getAttribute('aria-invalid'), 'true');
  await snap(prov, 'customer-order-refused');
  await prov.getByLabel('Quantity').fill('5');
  await prov.getByRole('button', { name: 'Place the order' }).click();
  await sees(prov, 'The order for Business Suite is placed.');
  const sub = prov.getByRole('form', { name: 'Change the quantity of Business Suite' });
  await sub.getByLabel('New quantity').fill('7');
  await sub.getByRole('button', { name: 'Change the quantity of Business Suite' }).click();
  await sees(prov, 'Business Suite: the quantity is now 7.');
  await prov.reload();
  await sees(prov, 'Changed: Business Suite, quantity 5 → 7');
  await snap(prov, 'customer-orders');
  await prov.context().close();
});

test('the second factor: a global admin sets one up (the secret, a wrong code refused beside its field, the recovery codes once) and requires it of administrators; an admin agent without one is sent to set it up and brought back; the rule lifted, removed with a recovery code', async () => {
  const acct = await account();
  // an admin agent of the account (before its admin's second factor ends the API session)
  const ann = { email: `ann@${acct.domain}`, password: 'a first password for ann' };
  const made = await api('POST', '/v1/users', { token: acct.token, body: { ...ann, firstName: 'Ann', lastName: 'Agent', roles: ['admin_agent'] } });
  assert.equal(made.status, 201, JSON.stringify(made.body));
  const page = await signedIn(acct, '/security', 'Second factor');
  await page.getByRole('button', { name: 'Set up an authenticator app' }).click();
  const key = (await page.locator('.secret-key').textContent()).replace(/\s+/g, '');
  assert.match(key, /^[A-Z2-7]{32}$/);
  assert.match(await page.getByRole('link', { name: 'Open in the authenticator app' }).getAttribute('href'), /^otpauth:\/\/totp\//);
  const code = page.getByLabel('Code', { exact: true });
  await code.fill(totp(key) === '000000' ? '111111' : '000000');
  await page.getByRole('button', { name: 'Turn on the second factor' }).click();
  await page.getByRole('alert').first().waitFor();
  assert.match(await description(code), /This code is not right/);
  await snap(page, 'security-secret-refused');
  await steady();
  await code.fill(totp(key));
  await page.getByRole('button', { name: 'Turn on the second factor' }).click();
  await sees(page, 'The second factor is on.');
  const codes = await page.getByRole('list', { name: 'Your recovery codes' }).getByRole('listitem').allTextContents();
  assert.equal(codes.length, 10);
  await snap(page, 'security-recovery-codes');
  await page.getByRole('link', { name: 'I have saved them: continue' }).click();
  await page.getByRole('heading', { name: 'Overview', level: 1 }).waitFor();

  // the work account's rule
  await page.goto(`${baseUrl()}/security`);
  await page.getByRole('checkbox', { name: 'Require a second factor of administrators' }).check();
  await page.getByRole('button', { name: 'Save the rule' }).click();
  await sees(page, 'Administrators must now have a second factor.');

  // an admin agent without one: the service refuses it everything else, the
  // console says why and sends it to set one up, then back where it was going
  const other = await person(browser);
  await other.goto(`${baseUrl()}/users`);
  await signInHere(other, ann, 'Second factor');
  await sees(other, 'Set up a second factor to continue.');
  const menu = other.getByRole('navigation', { name: 'Main menu' });
  assert.deepEqual(await menu.getByRole('link').allTextContents(), ['Second factor', 'Sessions']);
  await snap(other, 'security-required');
  await other.getByRole('button', { name: 'Set up an authenticator app' }).click();
  const annKey = (await other.locator('.secret-key').textContent()).replace(/\s+/g, '');
  await steady();
  await other.getByLabel('Code', { exact: true }).fill(totp(annKey));
  await other.getByRole('button', { name: 'Turn on the second factor' }).click();
  await other.getByRole('link', { name: 'I have saved them: continue' }).click();
  await other.getByRole('heading', { name: 'Users', level: 1 }).waitFor();
  await other.context().close();

  // the rule lifted; the second factor removed with a recovery code
  await page.reload();
  await sees(page, 'it cannot be removed');
  await page.getByRole('checkbox', { name: 'Require a second factor of administrators' }).uncheck();
  await page.getByRole('button', { name: 'Save the rule' }).click();
  await sees(page, 'no longer required');
  await page.reload();
  page.on('console', (m) => console.log('CONSOLE', m.type(), m.text()));
  await page.getByLabel('A code of your app, or a recovery code').fill(codes[0]);
  await page.getByRole('button', { name: 'Remove the second factor' }).click();
  await sees(page, 'The second factor is removed.');
  await snap(page, 'security-removed');
  await page.context().close();
});

test('access for chosen staff: the provider’s global admin makes a staff group, chooses an admin agent as its member (a change made meanwhile refused), assigns a reseller’s admin access to it on Indirect resellers, cannot delete it while assigned; the admin agent reads the groups; the reseller sees the group and its member on Indirect providers; given back to all admin agents, the group is deleted', async () => {
  const [reseller, fabrikam] = await Promise.all([approved('DE'), provider(['europe'])]);
  const link = new URL(await invitation(fabrikam, reseller));
  const auth = await api('POST', `/v1/relationship-invitations/${link.searchParams.get('invitation')}/authorization`, {
    token: reseller.token,
    body: { token: link.searchParams.get('token'), consent: true },
  });
  assert.equal(auth.status, 201, JSON.stringify(auth.body));
  const ann = { email: `ann@${fabrikam.domain}`, password: 'a first password for ann' };
  const made = await api('POST', '/v1/users', { token: fabrikam.token, body: { ...ann, firstName: 'Ann', lastName: 'Agent', roles: ['admin_agent'] } });
  assert.equal(made.status, 201, JSON.stringify(made.body));
  const annBox = `Ann Agent (${ann.email})`;
  const name = (await api('GET', '/v1/profiles/organization', { token: reseller.token })).body.companyName;

  // the provider's global admin: Staff groups in the menu, none yet
  const prov = await signedIn(fabrikam, '/overview', 'Overview');
  const menu = prov.getByRole('navigation', { name: 'Main menu' });
  await menu.getByRole('link', { name: 'Staff groups' }).click();
  await prov.getByRole('heading', { name: 'Staff groups', level: 1 }).waitFor();
  await sees(prov, 'No staff group yet.');
  await prov.getByRole('button', { name: 'Make the group' }).click();
  await prov.getByRole('alert').first().waitFor();
  assert.equal(await prov.getByLabel('Name', { exact: true }).getAttribute('aria-invalid'), 'true');
  await snap(prov, 'groups-name-missing');
  await prov.getByLabel('Name', { exact: true }).fill('Contoso desk');
  await prov.getByRole('button', { name: 'Make the group' }).click();
  await prov.getByRole('heading', { name: 'Staff group Contoso desk', level: 1 }).waitFor();
  await sees(prov, 'The group Contoso desk is made.');

  // its members, chosen among the users
  const members = prov.getByRole('group', { name: 'Members of Contoso desk' });
  await members.getByRole('checkbox', { name: annBox }).check();
  await prov.getByRole('button', { name: 'Save the members of Contoso desk' }).click();
  await sees(prov, 'The members of Contoso desk are saved (1).');
  await snap(prov, 'group');
  const groupId = new URL(prov.url()).searchParams.get('group');
  const rows = sql(`SELECT u.email FROM access_group_members m JOIN users u ON u.id = m.user_id WHERE m.group_id = '${groupId}'`);
  assert.equal(rows, ann.email);

  // changed meanwhile (elsewhere): refused, not overwritten
  const read = await api('GET', `/v1/groups/${groupId}`, { token: fabrikam.token });
  const etag = (await fetch(`${baseUrl()}/v1/groups/${groupId}`, { headers: { Authorization: `Bearer ${fabrikam.token}` } })).headers.get('etag');
  const meanwhile = await api('PUT', `/v1/groups/${groupId}/members`, { token: fabrikam.token, headers: { 'If-Match': etag }, body: { userIds: read.body.members.map((m) => m.id) } });
  assert.equal(meanwhile.status, 200, JSON.stringify(meanwhile.body));
  await members.getByRole('checkbox', { name: annBox }).uncheck();
  await prov.getByRole('button', { name: 'Save the members of Contoso desk' }).click();
  await sees(prov, 'Someone changed this group meanwhile. Reload the page and try again.');
  assert.equal(sql(`SELECT COUNT(*) FROM access_group_members WHERE group_id = '${groupId}'`), '1');
  await prov.reload();
  await prov.getByRole('heading', { name: 'Staff group Contoso desk', level: 1 }).waitFor();
  assert.ok(await members.getByRole('checkbox', { name: annBox }).isChecked(), 'the member stays');
  await prov.getByRole('link', { name: 'Back to staff groups' }).click();
  await prov.getByRole('heading', { name: 'Staff groups', level: 1 }).waitFor();
  const listed = prov.getByRole('list', { name: 'Staff groups' }).getByRole('listitem');
  await listed.first().waitFor();
  assert.equal(await listed.count(), 1);
  await listed.getByText('1', { exact: true }).waitFor();
  await snap(prov, 'groups');

  // Indirect resellers: all admin agents hold the access, then the group
  await menu.getByRole('link', { name: 'Indirect resellers' }).click();
  const rel = prov.getByRole('list', { name: 'Indirect resellers' }).getByRole('listitem').filter({ has: prov.getByRole('heading', { name }) });
  await rel.getByText('All admin agents', { exact: true }).waitFor();
  await rel.getByRole('group', { name: `Who holds the admin access of ${name}` }).getByRole('checkbox', { name: 'Contoso desk' }).check();
  await rel.getByRole('button', { name: `Save who holds the admin access of ${name}` }).click();
  await sees(prov, `The admin access of ${name} is now held by: Contoso desk.`);
  await snap(prov, 'resellers-access-holders');
  await prov.reload();
  await rel.getByText('Contoso desk', { exact: true }).first().waitFor();
  assert.ok(await rel.getByRole('checkbox', { name: 'Contoso desk' }).isChecked());

  // the group holds the access: it is not deleted
  await menu.getByRole('link', { name: 'Staff groups' }).click();
  await prov.getByRole('link', { name: 'Choose members of Contoso desk' }).click();
  await prov.getByRole('button', { name: 'Delete the group Contoso desk' }).click();
  await snap(prov, 'group-delete-confirm');
  await prov.getByRole('button', { name: 'Yes, delete it' }).click();
  await sees(prov, 'This group holds the admin access of an active reseller relationship');
  assert.equal(sql(`SELECT COUNT(*) FROM access_groups WHERE id = '${groupId}'`), '1');
  await snap(prov, 'group-assigned');

  // the admin agent reads the groups and their members; it changes nothing
  const agent = await signedIn(ann, '/groups', 'Staff groups');
  await agent.getByRole('link', { name: 'View members of Contoso desk' }).click();
  await agent.getByRole('list', { name: 'Members of Contoso desk' }).getByText(annBox).waitFor();
  assert.equal(await agent.getByRole('button', { name: /Save the members|Delete the group/ }).count(), 0);
  await snap(agent, 'group-read-only');
  await agent.context().close();

  // the reseller: who of the provider acts for it
  const res = await signedIn(reseller, '/providers', 'Indirect providers');
  const holders = res.getByRole('list', { name: `The staff of ${fabrikam.displayName} who act for you` });
  await holders.getByText('Contoso desk').waitFor();
  await holders.getByText(annBox).waitFor();
  await snap(res, 'providers-access-holders');

  // given back to all admin agents, the group is deleted; the reseller sees that
  await menu.getByRole('link', { name: 'Indirect resellers' }).click();
  await rel.getByRole('checkbox', { name: 'Contoso desk' }).uncheck();
  await rel.getByRole('button', { name: `Save who holds the admin access of ${name}` }).click();
  await sees(prov, `The admin access of ${name} is now held by: All admin agents.`);
  await menu.getByRole('link', { name: 'Staff groups' }).click();
  await prov.getByRole('link', { name: 'Choose members of Contoso desk' }).click();
  await prov.getByRole('button', { name: 'Delete the group Contoso desk' }).click();
  await prov.getByRole('button', { name: 'Yes, delete it' }).click();
  await prov.getByRole('heading', { name: 'Staff groups', level: 1 }).waitFor();
  await sees(prov, 'The group Contoso desk is deleted.');
  assert.equal(sql(`SELECT COUNT(*) FROM access_groups WHERE id = '${groupId}'`), '0');
  await prov.context().close();
  await res.reload();
  await sees(res, 'All of the provider’s admin agents');
  await res.context().close();
});
