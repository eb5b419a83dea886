// The API client: JSON in and out, the access token in this module's memory only
// (never in storage, where any script of the origin would find it), and the
// session's refresh through its HttpOnly cookie, which no script reads.
import { base, REQUESTED_WITH } from './config.js';

// An answer that is not a success, as RFC 9457 problem+json describes it: status,
// code (a rule's name), detail, errors [{field, code, message}], and Retry-After.
// status 0 is a network failure (no answer at all).
export class Problem extends Error {
  constructor(status, body = {}, retryAfter = null) {
    super(body.detail || body.title || `HTTP ${status}`);
    this.status = status;
    this.code = body.code || null;
    this.detail = body.detail || '';
    this.errors = Array.isArray(body.errors) ? body.errors : [];
    this.body = body;
    this.requestId = body.requestId || null;
    this.retryAfter = retryAfter;
  }
}

let token = null;
// Whether this browser may hold a session's cookie: set at sign-in, cleared when a
// refresh finds none, so that a visitor who never signed in sends no refresh on
// every page load. Not a secret: the cookie itself is out of script's reach.
const HINT = 'twotier.session';

function hint(on) {
  try {
    if (on) localStorage.setItem(HINT, '1');
    else localStorage.removeItem(HINT);
  } catch {
    // storage refused: every load tries the refresh
  }
}

function hinted() {
  try {
    return localStorage.getItem(HINT) === '1';
  } catch {
    return true;
  }
}
let refreshTimer = null;
let refreshing = null;
const listeners = new Set();

// f(signedIn) is told when a session starts or ends in this tab.
export function onSession(f) {
  listeners.add(f);
}

function tell(signedIn) {
  for (const f of listeners) f(signedIn);
}

export function signedIn() {
  return token !== null;
}

// Keeps an access token answered by sign-in or refresh, and refreshes it a minute
// before it expires.
export function useTokens(answer) {
  token = answer.accessToken;
  hint(true);
  clearTimeout(refreshTimer);
  const seconds = Math.max(30, (Number(answer.expiresIn) || 900) - 60);
  refreshTimer = setTimeout(() => refresh().catch(() => {}), seconds * 1000);
  tell(true);
}

export function forget() {
  const was = token !== null;
  token = null;
  hint(false);
  clearTimeout(refreshTimer);
  if (was) tell(false);
}

async function send(method, path, { body, headers = {} } = {}) {
  const h = { Accept: 'application/json, application/problem+json', ...headers };
  const init = { method, headers: h, credentials: 'same-origin', cache: 'no-store' };
  if (body !== undefined) {
    h['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  let res;
  try {
    res = await fetch(base + path, init);
  } catch {
    throw new Problem(0, { code: 'network' });
  }
  let data = null;
  const text = await res.text();
  if (text) {
    try {
      data = JSON.parse(text);
    } catch {
      data = { detail: '' }; // not ours (a proxy's page): said by its status
    }
  }
  if (!res.ok) {
    const ra = Number(res.headers.get('Retry-After'));
    throw new Problem(res.status, data || {}, Number.isFinite(ra) && ra > 0 ? ra : null);
  }
  return { status: res.status, data, headers: res.headers };
}

// A new access token from the refresh cookie; false when there is no session.
// Rotation ends a session whose refresh token is used twice, so refreshes never
// overlap: one at a time in this tab (the promise) and across the origin's tabs
// (a Web Lock), each using the cookie the one before it left.
export function refresh() {
  if (!token && !hinted()) return Promise.resolve(false);
  if (!refreshing) {
    const run = async () => {
      try {
        const { data } = await send('POST', '/v1/auth/refresh', {
          headers: { 'X-Requested-With': REQUESTED_WITH },
        });
        useTokens(data);
        return true;
      } catch (e) {
        if (e.status === 0 || e.status >= 500) throw e;
        forget();
        return false;
      }
    };
    const locked = navigator.locks ? navigator.locks.request('twotier-refresh', run) : run();
    refreshing = locked.finally(() => {
      refreshing = null;
    });
  }
  return refreshing;
}

// f(problem) is told of every 403 mfa_setup_required: the service asks the
// person to set up a second factor before anything else.
const setupListeners = new Set();
export function onSetupRequired(f) {
  setupListeners.add(f);
}

// call('GET', '/v1/overview') -> {status, data, headers}; throws Problem.
// opts: body (sent as JSON), idempotencyKey, ifMatch, anonymous (no token),
// onBehalfOf (a reseller's tenant id: the provider acts with its delegated
// admin access, On-Behalf-Of-Tenant). An expired access token is refreshed once
// and the request sent again.
export async function call(method, path, opts = {}) {
  try {
    return await attempt(method, path, opts);
  } catch (e) {
    if (e instanceof Problem && e.status === 403 && e.code === 'mfa_setup_required') {
      for (const f of setupListeners) f(e);
    }
    throw e;
  }
}

async function attempt(method, path, opts) {
  const headers = {};
  if (opts.idempotencyKey) headers['Idempotency-Key'] = opts.idempotencyKey;
  if (opts.ifMatch) headers['If-Match'] = opts.ifMatch;
  if (opts.onBehalfOf) headers['On-Behalf-Of-Tenant'] = opts.onBehalfOf;
  const authorized = () => (!opts.anonymous && token ? { ...headers, Authorization: `Bearer ${token}` } : headers);
  try {
    return await send(method, path, { body: opts.body, headers: authorized() });
  } catch (e) {
    if (!(e instanceof Problem) || e.status !== 401 || opts.anonymous || !token) throw e;
    if (!(await refresh())) throw e;
    return send(method, path, { body: opts.body, headers: authorized() });
  }
}

// The path of a list's next page (its links.next, for call), or null.
export function nextPage(data) {
  const next = data.links && data.links.next;
  if (next && base && next.startsWith(`${base}/`)) return next.slice(base.length);
  return next || null;
}

// Every item of a list, page after page (links.next), up to max items.
export async function all(path, opts = {}, max = 2000) {
  const items = [];
  let next = path;
  while (next && items.length < max) {
    const { data } = await call('GET', next, opts);
    items.push(...data.items);
    next = nextPage(data);
  }
  return items;
}

// A key for one creating request: the same body sent again (after a lost answer)
// carries the same key, so the service does it once; another body gets a new key.
export function idempotency() {
  let last = null;
  let key = null;
  return (body) => {
    const text = JSON.stringify(body);
    if (text !== last) {
      last = text;
      key = randomKey();
    }
    return key;
  };
}

// crypto.randomUUID needs a secure context; a console served over plain HTTP to a
// remote address (a test deployment) still gets 128 random bits.
function randomKey() {
  if (crypto.randomUUID) return crypto.randomUUID();
  return Array.from(crypto.getRandomValues(new Uint8Array(16)), (b) => b.toString(16).padStart(2, '0')).join('');
}
