// The guide's journeys between partners, in a real browser against the real stack
// and its real mail: the invitation landings every mail links to, the reseller's,
// the provider's and the operator's pages, and the refusals a person meets there.
// Each page a journey reaches is photographed at 360 and 1280 px and scanned by
// axe-core (lib/browser.js: snap). The worlds a journey starts from are built
// through the API (lib/world.js).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { launch, person, snap, description, sees, writeReport } from './lib/browser.js';
import { api, baseUrl, mailedLink, sql, workAccount } from './lib/stack.js';
import { account, approved, invitation, provider, signs } from './lib/world.js';

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

function expire(table, link) {
  const token = new URL(link).searchParams.get('token').replace(/[^A-Za-z0-9_-]/g, '');
  const n = sql(`UPDATE ${table} SET expires_at = UTC_TIMESTAMP(6) - INTERVAL 1 MINUTE WHERE token_hash = SHA2('${token}', 256); SELECT ROW_COUNT()`);
  assert.equal(n, '1', `the link of ${table} made to expire`);
}

test('the provider’s invitation: signed out, signed in and back; no consent, another work account, a provider outside the region and an expired link refused; authorized; admin access removed, the relationship ended', async () => {
  const [reseller, fabrikam, faraway, late] = await Promise.all([
    approved('DE'),
    provider(['europe']),
    provider(['asia-and-pacific']),
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

  // a provider that does not serve the reseller's region
  await page.goto(await invitation(faraway, reseller, 2));
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
  await page.getByRole('button', { name: /End the relationship with/ }).click();
  await page.getByRole('button', { name: 'Yes, end the relationship' }).click();
  await sees(page, 'None: the relationship has ended');
  await snap(page, 'providers-ended');
  await page.context().close();
});
