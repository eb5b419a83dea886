// The stack under test (scripts/stack env DIR, exported by tests/browser/run): its
// address, its mail folder and its database, read as the Python tests read them
// (tests/integration/harness.py).
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';

export function env(name) {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is not set: run through tests/browser/run`);
  return v;
}

export const baseUrl = () => env('TWOTIER_BASE_URL');

export function unique(prefix) {
  return `${prefix}${randomBytes(4).toString('hex')}`;
}

// One .eml of the file transport: its headers (lower-case names) and its text.
function readMail(path) {
  const raw = readFileSync(path, 'utf8');
  const split = raw.search(/\r?\n\r?\n/);
  const head = raw.slice(0, split).replace(/\r?\n[ \t]+/g, ' ');
  const headers = {};
  for (const line of head.split(/\r?\n/)) {
    const i = line.indexOf(':');
    if (i > 0) headers[line.slice(0, i).trim().toLowerCase()] = line.slice(i + 1).trim();
  }
  let body = raw.slice(split).trim();
  if ((headers['content-transfer-encoding'] || '').toLowerCase() === 'base64') {
    body = Buffer.from(body.replace(/\s+/g, ''), 'base64').toString('utf8');
  }
  return { path, headers, to: headers.to, body };
}

export function mailsTo(address) {
  const dir = env('TWOTIER_MAIL_DIR');
  return readdirSync(dir)
    .filter((n) => n.endsWith('.eml'))
    .sort()
    .map((n) => readMail(join(dir, n)))
    .filter((m) => m.to === address);
}

// The address of the link to PATH (e.g. "/verify-signup") in the COUNT-th mail to
// ADDRESS that holds one; waits for it to be delivered.
export async function mailedLink(address, path, count = 1, timeout = 15000) {
  const deadline = Date.now() + timeout;
  const re = new RegExp(`https?://\\S+${path.replace(/[/-]/g, '\\$&')}\\?\\S+`);
  for (;;) {
    const links = mailsTo(address)
      .map((m) => (re.exec(m.body) || [])[0])
      .filter(Boolean);
    if (links.length >= count) return links[count - 1];
    if (Date.now() > deadline) throw new Error(`no ${count}. mail with ${path} to ${address} within ${timeout} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

// One SQL statement on the stack's database, as its user (the password in the
// environment, not on the command line). Values are the caller's own, never input.
export function sql(statement) {
  return execFileSync(
    'mariadb',
    ['--no-defaults', `--socket=${env('TWOTIER_DB_SOCKET')}`, `--user=${env('TWOTIER_DB_USER')}`, '--batch', '--skip-column-names', env('TWOTIER_DB_NAME'), '-e', statement],
    { env: { ...process.env, MYSQL_PWD: env('TWOTIER_DB_PASSWORD') }, encoding: 'utf8' },
  ).trim();
}

// fetch() again while the service's password hashing slots are all busy (503
// password_slots_busy: the journeys build several accounts at once).
async function patiently(f) {
  for (let i = 0; ; i += 1) {
    const r = await f();
    if (r.status !== 503 || i === 20) return r;
    await new Promise((ok) => setTimeout(ok, 200));
  }
}

// A verified work account made as the Python tests' sign-up does: through the API
// and its mailed link.
export async function workAccount({ password = 'correct horse battery staple', first = 'Ada', last = 'Lovelace' } = {}) {
  const domain = `${unique('c')}.example`;
  const email = `admin@${domain}`;
  const post = (path, body) => patiently(() => fetch(baseUrl() + path, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) }));
  const r = await post('/v1/tenants', { domain, displayName: `Org ${domain}`, admin: { email, password, firstName: first, lastName: last } });
  if (r.status !== 202) throw new Error(`sign-up: ${r.status} ${await r.text()}`);
  const token = new URL(await mailedLink(email, '/verify-signup')).searchParams.get('token');
  const v = await post('/v1/signup-verifications', { token });
  if (v.status !== 201) throw new Error(`verification: ${v.status} ${await v.text()}`);
  return { domain, email, password, displayName: `Org ${domain}` };
}

// The API as a partner's system or the operator calls it, for the steps of a
// journey that the console does not show yet (the operator's review, say).
export async function api(method, path, { body, token, headers: extra } = {}) {
  const headers = { Accept: 'application/json', ...extra };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  if (token) headers.Authorization = `Bearer ${token}`;
  const r = await patiently(() => fetch(baseUrl() + path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) }));
  const text = await r.text();
  return { status: r.status, body: text ? JSON.parse(text) : null };
}

export async function accessToken(username, password) {
  const r = await api('POST', '/v1/auth/token', { body: { username, password } });
  if (r.status !== 200) throw new Error(`sign-in of ${username}: ${r.status} ${JSON.stringify(r.body)}`);
  return r.body.accessToken;
}

export const operator = () => accessToken(env('TWOTIER_OPERATOR_EMAIL'), env('TWOTIER_OPERATOR_PASSWORD'));
