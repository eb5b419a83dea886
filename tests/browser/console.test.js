// The console's journeys in a real browser against the real stack and its real
// mail (tests/browser/run starts nothing: it runs against the stack of scripts/test
// or of scripts/stack up). Each page a journey reaches is photographed at 360 and
// 1280 px and scanned by axe-core (lib/browser.js: snap).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { launch, person, snap, description, sees, record, writeReport, screenshots } from './lib/browser.js';
import { accessToken, api, baseUrl, mailedLink, operator, sql, unique, workAccount } from './lib/stack.js';
import en from '../../console/i18n/en.js';
import ru from '../../console/i18n/ru.js';
import { routes } from '../../console/js/routes.js';
import { steady, totp } from './lib/totp.js';

const PASSWORD = 'correct horse battery staple';
let browser;

before(async () => {
  browser = await launch();
});

after(async () => {
  await browser?.close();
  const r = writeReport();
  console.log(`# screenshots and axe-core report: ${screenshots}`);
  console.log(`# axe-core: ${r.pages.length} scans, ${r.violations.length} violations (none serious or critical)`);
  if (r.overviewColdBytes) console.log(`# overview, cold: ${r.overviewColdBytes} bytes in ${r.overviewColdRequests} requests`);
});

async function signIn(page, email, password) {
  await page.goto(`${baseUrl()}/sign-in`);
  await page.getByLabel('E-mail address').fill(email);
  await page.getByLabel('Password', { exact: true }).fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('heading', { name: 'Overview', level: 1 }).waitFor();
}

test('both catalogues have the same keys', () => {
  const keys = (o, p = '') => Object.entries(o).flatMap(([k, v]) => (typeof v === 'object' ? keys(v, `${p}${k}.`) : [`${p}${k}`]));
  assert.deepEqual(keys(ru).sort(), keys(en).sort());
});

test('nginx serves every page of the console, and every other path is still the API', async () => {
  const snippet = readFileSync(new URL('../../nginx/twotier.conf', import.meta.url), 'utf8');
  const served = /location ~ \^\/\(([^)]*)\)\$/.exec(snippet)[1].split('|').map((p) => `/${p}`);
  assert.deepEqual(served.sort(), Object.keys(routes).sort(), 'the snippet\'s pages are routes.js\'s');
  for (const path of Object.keys(routes)) {
    const r = await fetch(baseUrl() + path);
    assert.equal(r.status, 200, path);
    assert.match(r.headers.get('content-type'), /^text\/html/, path);
    const csp = r.headers.get('content-security-policy');
    assert.match(csp, /script-src 'self'/);
    assert.match(csp, /connect-src 'self'/);
    assert.match(csp, /frame-ancestors 'none'/);
    assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval/);
  }
  const js = await fetch(`${baseUrl()}/console/js/main.js`);
  assert.equal(js.status, 200);
  assert.match(js.headers.get('content-type'), /^text\/javascript/);
  for (const path of ['/nope', '/console/nope.js', '/v1/nope']) {
    const r = await fetch(baseUrl() + path);
    assert.equal(r.status, 404, path);
    assert.equal(r.headers.get('content-type'), 'application/problem+json', path);
  }
});

test('a person creates a work account from the Welcome page and the mailed link', async () => {
  const page = await person(browser);
  const domain = `${unique('w')}.example`;
  await page.goto(`${baseUrl()}/`);
  await page.getByRole('heading', { name: 'Become an indirect reseller', level: 1 }).waitFor();
  await snap(page, 'welcome');
  await page.getByRole('link', { name: 'Create a work account' }).click();
  await page.getByRole('heading', { name: 'Create a work account', level: 1 }).waitFor();
  await snap(page, 'sign-up');

  await page.getByLabel('Organization name').fill('Wingtip Toys');
  await page.getByLabel('Domain', { exact: true }).fill(domain);
  await page.getByLabel('First name').fill('Ada');
  await page.getByLabel('Last name').fill('Lovelace');
  const email = page.getByLabel('Your e-mail address at the domain');
  await email.fill('ada@gmail.com');
  await page.getByLabel('New password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Create the work account' }).click();
  // the service's refusal, beside the field it names, in words; nothing typed is lost
  await page.getByRole('alert').waitFor();
  assert.equal(await email.getAttribute('aria-invalid'), 'true');
  assert.match(await description(email), /Use an address at the domain you entered/);
  assert.equal(await page.getByLabel('Domain', { exact: true }).inputValue(), domain);
  assert.equal(await page.getByLabel('New password').inputValue(), PASSWORD);
  await snap(page, 'sign-up-refused');

  await email.fill(`ada@${domain}`);
  await page.getByRole('button', { name: 'Create the work account' }).click();
  await sees(page, `we have sent a link to ada@${domain}`);
  await snap(page, 'sign-up-sent');

  const link = await mailedLink(`ada@${domain}`, '/verify-signup');
  await page.goto(link);
  await page.getByRole('heading', { name: 'Confirm your work account', level: 1 }).waitFor();
  await snap(page, 'verify-signup');
  await page.getByRole('button', { name: 'Create my work account' }).click();
  await sees(page, `Your work account for ${domain} is ready`);
  await snap(page, 'verify-signup-done');

  // the link works once
  await page.goto(link);
  await page.getByRole('button', { name: 'Create my work account' }).click();
  await sees(page, 'This link is not valid: it has been used, or it has expired');
  await snap(page, 'verify-signup-used');

  // and the account signs in
  await signIn(page, `ada@${domain}`, PASSWORD);
  await page.context().close();
});

test('sign in (refused, then with the keyboard only), the overview, a reload keeps the session, sessions, sign out', async () => {
  const acct = await workAccount();
  const page = await person(browser);
  await page.goto(`${baseUrl()}/overview`);
  // not signed in: sent to sign in, and back after
  await page.getByRole('heading', { name: 'Sign in', level: 1 }).waitFor();
  await sees(page, 'Sign in to see this page.');
  await page.getByLabel('E-mail address').fill(acct.email);
  await page.getByLabel('Password', { exact: true }).fill('not the password at all');
  await page.getByRole('button', { name: 'Sign in' }).click();
  await sees(page, 'The e-mail address or the password is wrong.');
  assert.equal(await page.getByLabel('E-mail address').inputValue(), acct.email);
  await snap(page, 'sign-in-refused');

  // keyboard only: from the focused password field
  await page.getByLabel('Password', { exact: true }).focus();
  await page.keyboard.press('ControlOrMeta+a');
  await page.keyboard.type(acct.password);
  await page.keyboard.press('Enter');
  await page.getByRole('heading', { name: 'Overview', level: 1 }).waitFor();
  await sees(page, 'Signed in as Ada Lovelace');
  await sees(page, 'Enrol as an indirect reseller: give your company');
  await snap(page, 'overview-not-enrolled');

  // the access token lives in memory only; a reload restores the session from the cookie
  const stored = await page.evaluate(() => JSON.stringify({ ...localStorage, ...sessionStorage }));
  assert.doesNotMatch(stored, /eyJ/);
  await page.reload();
  await page.getByRole('heading', { name: 'Overview', level: 1 }).waitFor();
  await sees(page, 'Signed in as Ada Lovelace');

  await page.getByRole('navigation', { name: 'Main menu' }).getByRole('link', { name: 'Sessions' }).click();
  await page.getByRole('heading', { name: 'Sessions', level: 1 }).waitFor();
  await sees(page, 'This browser');
  await snap(page, 'sessions');

  await page.getByRole('button', { name: 'Sign out', exact: true }).click();
  await sees(page, 'You have signed out.');
  await snap(page, 'sign-in-signed-out');
  await page.goto(`${baseUrl()}/overview`);
  await page.getByRole('heading', { name: 'Sign in', level: 1 }).waitFor();
  await page.context().close();
});

test('a forgotten password, from the mail; a used and an expired link are refused', async () => {
  const acct = await workAccount();
  // a browser asks from 127.0.0.1 only, and the service grants an address 10 asks in
  // 15 minutes: the earlier asks of this address (other runs, the Python suite) are
  // moved out of that window first
  sql("UPDATE password_resets SET created_at = created_at - INTERVAL 1 HOUR WHERE client_addr = '127.0.0.1'");
  const page = await person(browser);
  await page.goto(`${baseUrl()}/sign-in`);
  await page.getByRole('link', { name: 'Forgotten your password?' }).click();
  await page.getByRole('heading', { name: 'Forgotten password', level: 1 }).waitFor();
  await snap(page, 'forgot-password');
  await page.getByLabel('E-mail address').fill(acct.email);
  await page.getByRole('button', { name: 'Send the link' }).click();
  await sees(page, `If ${acct.email} is the address of an account, we have sent it a link`);
  await snap(page, 'forgot-password-sent');

  const link = await mailedLink(acct.email, '/reset-password');
  await page.goto(link);
  await page.getByRole('heading', { name: 'Choose a new password', level: 1 }).waitFor();
  await snap(page, 'reset-password');
  const fresh = 'a brand new passphrase 42';
  const pw = page.getByLabel('New password', { exact: true });
  const again = page.getByLabel('New password, again');
  // the service's rule, beside the field
  await pw.fill('too short');
  await again.fill('too short');
  await page.getByRole('button', { name: 'Change the password' }).click();
  await page.getByRole('alert').waitFor();
  assert.match(await description(pw), /Use at least 12 characters/);
  await snap(page, 'reset-password-refused');
  // the page's own check
  await pw.fill(fresh);
  await again.fill(`${fresh}!`);
  await page.getByRole('button', { name: 'Change the password' }).click();
  await page.getByRole('alert').waitFor();
  assert.match(await description(again), /The two passwords are not the same/);
  await again.fill(fresh);
  await page.getByRole('button', { name: 'Change the password' }).click();
  await sees(page, 'Your password has been changed');
  await snap(page, 'sign-in-password-changed');
  await signIn(page, acct.email, fresh);

  // used once: refused
  await page.goto(link);
  await page.getByLabel('New password', { exact: true }).fill('yet another passphrase');
  await page.getByLabel('New password, again').fill('yet another passphrase');
  await page.getByRole('button', { name: 'Change the password' }).click();
  await sees(page, 'This link is not valid: it has been used, or it has expired');

  // expired: refused, with the way to a new one
  await fetch(`${baseUrl()}/v1/password-resets`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ email: acct.email }) });
  const second = await mailedLink(acct.email, '/reset-password', 2);
  const token = new URL(second).searchParams.get('token');
  const expired = sql(
    `UPDATE password_resets SET expires_at = UTC_TIMESTAMP(6) - INTERVAL 1 MINUTE WHERE token_hash = SHA2('${token.replace(/[^A-Za-z0-9_-]/g, '')}', 256); SELECT ROW_COUNT()`,
  );
  assert.equal(expired, '1', 'the second link is the one made to expire');
  await page.goto(second);
  await page.getByLabel('New password', { exact: true }).fill('yet another passphrase');
  await page.getByLabel('New password, again').fill('yet another passphrase');
  await page.getByRole('button', { name: 'Change the password' }).click();
  await sees(page, 'This link is not valid: it has been used, or it has expired');
  assert.ok(await page.getByRole('link', { name: 'Ask for a new link' }).isVisible());
  await snap(page, 'reset-password-expired');
  await page.context().close();
});

test('enrolment: a web mail contact is refused beside its field; the contact confirms from the mail; the overview follows to the agreement banner', async () => {
  const acct = await workAccount();
  const page = await person(browser);
  await signIn(page, acct.email, acct.password);
  await page.getByRole('link', { name: 'Enrol now' }).click();
  await page.getByRole('heading', { name: 'Enrol as an indirect reseller', level: 1 }).waitFor();
  await snap(page, 'enroll');

  const legal = page.getByRole('group', { name: 'Legal business profile' });
  const contact = page.getByRole('group', { name: 'Primary contact' });
  const support = page.getByRole('group', { name: 'Customer support' });
  assert.equal(await legal.getByLabel('Legal business name').inputValue(), acct.displayName);
  await legal.getByLabel('Address', { exact: true }).fill('Hauptstr. 1');
  await legal.getByLabel('City').fill('Berlin');
  await legal.getByLabel('Postal code').fill('10115');
  await legal.getByLabel('Country').selectOption('DE');
  await legal.getByLabel('Phone number').fill('+49 30 1234567');
  await contact.getByLabel('First name').fill('Pia');
  await contact.getByLabel('Last name').fill('Contact');
  const contactEmail = contact.getByLabel('E-mail address');
  await contactEmail.fill('pia.contact@gmail.com');
  await contact.getByLabel('Phone number').fill('+49 30 7654321');
  await support.getByLabel('E-mail address').fill(`support@${acct.domain}`);
  await support.getByLabel('Phone number').fill('+49 30 1111111');
  await support.getByLabel('Website').fill(`https://${acct.domain}`);
  await page.getByRole('button', { name: 'Enrol now' }).click();
  await sees(page, 'The primary contact’s address is at a web-based mail service');
  assert.equal(await contactEmail.getAttribute('aria-invalid'), 'true');
  assert.match(await description(contactEmail), /not a web-based mail service/);
  assert.equal(await legal.getByLabel('City').inputValue(), 'Berlin');
  await snap(page, 'enroll-webmail-refused');

  const pia = `pia@${acct.domain}`;
  await contactEmail.fill(pia);
  await page.getByRole('button', { name: 'Enrol now' }).click();
  await page.getByRole('heading', { name: 'Overview', level: 1 }).waitFor();
  await sees(page, 'You have enrolled');
  const checklist = page.getByRole('list', { name: 'Enrolment checklist' });
  assert.equal(await checklist.getByRole('listitem').count(), 6);
  assert.match(await checklist.locator('[aria-current="step"]').textContent(), /Primary contact’s address confirmed/);
  await snap(page, 'overview-enrolled');

  // the primary contact, in a browser of its own, from the mail
  const contactPage = await person(browser);
  await contactPage.goto(await mailedLink(pia, '/verify-email'));
  await contactPage.getByRole('heading', { name: 'Confirm your e-mail address', level: 1 }).waitFor();
  await snap(contactPage, 'verify-email');
  await contactPage.getByRole('button', { name: 'Confirm my address' }).click();
  await sees(contactPage, 'Thank you: your address is confirmed.');
  await snap(contactPage, 'verify-email-done');
  await contactPage.getByRole('button', { name: 'Confirm my address' }).count().then((n) => assert.equal(n, 0));
  await contactPage.reload();
  await contactPage.getByRole('button', { name: 'Confirm my address' }).click();
  await sees(contactPage, 'This link is not valid');
  await contactPage.context().close();

  await page.reload();
  await sees(page, 'In review');
  assert.match(await checklist.locator('[aria-current="step"]').textContent(), /reviewed and approved/);
  await snap(page, 'overview-in-review');

  // the operator approves and publishes the agreement, the reseller accepts it
  // (through the API: the console's pages for these come next)
  const op = await operator();
  const enrolment = (await api('GET', '/v1/enrollment', { token: await accessToken(acct.email, acct.password) })).body;
  assert.equal((await api('POST', `/v1/operator/enrollments/${enrolment.id}/decisions`, { token: op, body: { decision: 'approve' } })).status, 201);
  const today = new Date().toISOString().slice(0, 10);
  const published = await api('POST', '/v1/operator/agreement-templates', {
    token: op,
    body: { type: 'partner_agreement', version: unique('v'), documentUrl: 'https://partners.example.com/mpa.pdf', documentSha256: 'ab'.repeat(32), effectiveDate: today },
  });
  assert.equal(published.status, 201, JSON.stringify(published.body));
  const signedIt = await api('POST', '/v1/agreements', {
    token: await accessToken(acct.email, acct.password),
    body: { type: 'partner_agreement', signer: { firstName: 'Ada', lastName: 'Lovelace', email: acct.email, phoneNumber: '+49 30 5555555' } },
  });
  assert.equal(signedIt.status, 201, JSON.stringify(signedIt.body));
  await page.reload();
  await sees(page, 'You have accepted the partner agreement.');
  await sees(page, `Version ${published.body.version}`);
  await snap(page, 'overview-agreement-banner');
  await page.context().close();
});

test('Russian from the browser\'s languages, switched to English and remembered, what was typed kept', async () => {
  const page = await person(browser, { locale: 'ru-RU' });
  await page.goto(`${baseUrl()}/`);
  await page.getByRole('heading', { name: 'Станьте непрямым реселлером', level: 1 }).waitFor();
  assert.equal(await page.locator('html').getAttribute('lang'), 'ru');
  await snap(page, 'welcome-ru');
  await page.getByRole('link', { name: 'Создать рабочую учётную запись' }).click();
  await page.getByLabel('Домен', { exact: true }).fill('contoso.com');
  await page.getByRole('button', { name: 'Создать рабочую учётную запись' }).click();
  await sees(page, 'Заполните это поле.');
  await snap(page, 'sign-up-ru-refused');
  await page.getByLabel('Язык').selectOption('en');
  await page.getByRole('heading', { name: 'Create a work account', level: 1 }).waitFor();
  assert.equal(await page.getByLabel('Domain', { exact: true }).inputValue(), 'contoso.com');
  await page.reload();
  await page.getByRole('heading', { name: 'Create a work account', level: 1 }).waitFor();
  assert.equal(await page.locator('html').getAttribute('lang'), 'en');
  await page.context().close();
});

test('the second factor: the password, then the code of the authenticator app; a code taken once, a recovery code', async () => {
  const acct = await workAccount();
  // the account sets up TOTP through the API, as the app and a first code would
  const token = await accessToken(acct.email, acct.password);
  const started = await api('POST', '/v1/me/mfa/totp', { token });
  assert.equal(started.status, 201, JSON.stringify(started.body));
  const secret = started.body.secret;
  await steady();
  const confirmed = await api('POST', '/v1/me/mfa/totp/confirmation', { token, body: { code: totp(secret) } });
  assert.equal(confirmed.status, 200, JSON.stringify(confirmed.body));

  const page = await person(browser);
  await page.goto(`${baseUrl()}/sign-in`);
  await page.getByLabel('E-mail address').fill(acct.email);
  await page.getByLabel('Password', { exact: true }).fill(acct.password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('heading', { name: 'Second step: your code' }).waitFor();
  assert.equal(await page.evaluate(() => document.activeElement.getAttribute('autocomplete')), 'one-time-code');
  await snap(page, 'sign-in-second-factor');
  // the code already taken (the confirmation's) is refused beside its field
  await page.getByLabel('Code', { exact: true }).fill(totp(secret));
  await page.getByRole('button', { name: 'Verify' }).click();
  await sees(page, en.signIn.wrongCode);
  await snap(page, 'sign-in-second-factor-refused');
  await page.getByLabel('Code', { exact: true }).fill(totp(secret, 1));
  await page.getByRole('button', { name: 'Verify' }).click();
  await page.getByRole('heading', { name: 'Overview', level: 1 }).waitFor();
  await page.context().close();

  // a recovery code in place of the app's, typed as a person would
  const other = await person(browser);
  await other.goto(`${baseUrl()}/sign-in`);
  await other.getByLabel('E-mail address').fill(acct.email);
  await other.getByLabel('Password', { exact: true }).fill(acct.password);
  await other.getByRole('button', { name: 'Sign in' }).click();
  await other.getByRole('button', { name: 'Use a recovery code instead' }).click();
  await other.getByLabel('Recovery code').fill(confirmed.body.recoveryCodes[0].toUpperCase());
  await other.getByRole('button', { name: 'Verify' }).click();
  await other.getByRole('heading', { name: 'Overview', level: 1 }).waitFor();
  await other.context().close();
});

test('the overview, cold: bytes transferred', async () => {
  const acct = await workAccount();
  const warm = await person(browser);
  await signIn(warm, acct.email, acct.password);
  // a new profile with the session's cookie and nothing cached
  const context = await browser.newContext({ storageState: await warm.context().storageState(), viewport: { width: 1280, height: 900 } });
  await warm.context().close();
  const page = await context.newPage();
  let bytes = 0;
  let requests = 0;
  page.on('requestfinished', async (r) => {
    const s = await r.sizes();
    bytes += s.responseBodySize + s.responseHeadersSize;
    requests += 1;
  });
  await page.goto(`${baseUrl()}/overview`);
  await page.getByRole('heading', { name: 'Overview', level: 1 }).waitFor();
  await page.waitForFunction(() => !document.querySelector('main[aria-busy]'));
  await page.waitForLoadState('networkidle');
  record('overviewColdBytes', bytes);
  record('overviewColdRequests', requests);
  assert.ok(bytes < 150000, `the overview costs ${bytes} bytes cold`);
  await context.close();
});
