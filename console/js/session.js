// Who is signed in: the session's start (password, then a second factor when the
// account has one), its restoration after a reload (the refresh cookie), and its end.
import { call, forget, refresh, useTokens, onSession, signedIn } from './api.js';

let who = null; // {me, user, organization}
const listeners = new Set();

export function onChange(f) {
  listeners.add(f);
}

export function current() {
  return who;
}

function tell() {
  for (const f of listeners) f(who);
}

onSession((on) => {
  if (!on && who) {
    who = null;
    tell();
  }
});

// GET /v1/me, then what names the person: the user (for those who may read users)
// and the organization; either may be refused without harm.
async function load() {
  const { data: me } = await call('GET', '/v1/me');
  const [user, organization] = await Promise.all([
    call('GET', `/v1/users/${encodeURIComponent(me.userId)}`).then((r) => r.data, () => null),
    call('GET', '/v1/profiles/organization').then((r) => r.data, () => null),
  ]);
  who = { me, user, organization };
  tell();
  return who;
}

// After a reload: the cookie's session, if any. Never throws for a lack of one.
export async function restore() {
  try {
    if (await refresh()) return await load();
  } catch {
    // the service is unreachable: the pages that need it say so
  }
  return null;
}

// The first step: {username, password}. Resolves {who} when signed in, or
// {challenge} when the account asks for its second factor (401 mfa_required).
export async function signIn(username, password) {
  try {
    const { data } = await call('POST', '/v1/auth/token', {
      anonymous: true,
      body: { username, password, cookie: true },
    });
    useTokens(data);
    return { who: await load() };
  } catch (e) {
    if (e.status === 401 && e.code === 'mfa_required' && e.body.challenge) {
      return { challenge: e.body.challenge };
    }
    throw e;
  }
}

// The second step: the code of the authenticator app, or a recovery code.
export async function completeSignIn(challenge, { code, recoveryCode }) {
  const body = { challenge, cookie: true };
  if (recoveryCode) body.recoveryCode = recoveryCode;
  else body.code = code;
  const { data } = await call('POST', '/v1/auth/token', { anonymous: true, body });
  useTokens(data);
  return { who: await load() };
}

// Ends this session at the service (which clears the cookie), whatever happens
// the token is forgotten here.
export async function signOut() {
  try {
    if (signedIn()) await call('POST', '/v1/auth/sign-out');
  } finally {
    forget();
  }
}

// Someone whose session the service has ended (sign-out elsewhere, a reset).
export function ended() {
  forget();
}

export function hasRole(role) {
  return Boolean(who && who.me.roles && who.me.roles.includes(role));
}
