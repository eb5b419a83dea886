// Who is signed in: the session's start (password, then a second factor when the
// account has one), its restoration after a reload (the refresh cookie), and its end.
import { call, forget, refresh, useTokens, onSession, signedIn, onSetupRequired } from './api.js';

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

// A user of whom a second factor is required and who has none is refused
// everything else (403 mfa_setup_required) until it sets one up: the console then
// shows only the page that does.
onSetupRequired(() => {
  if (who && !who.mfaSetupRequired) {
    who.mfaSetupRequired = true;
    tell();
  }
});

// GET /v1/me, then what names the person: the user (for those who may read users)
// and the organization; either may be refused without harm.
async function load() {
  const { data: me } = await call('GET', '/v1/me');
  let setup = false;
  const soft = (p) => p.then((r) => r.data, (e) => {
    if (e.code === 'mfa_setup_required') setup = true;
    return null;
  });
  const [user, organization] = await Promise.all([
    soft(call('GET', `/v1/users/${encodeURIComponent(me.userId)}`)),
    soft(call('GET', '/v1/profiles/organization')),
  ]);
  who = { me, user, organization, mfaSetupRequired: setup };
  tell();
  return who;
}

// Reads who is signed in again (after a change of roles, a second factor set up).
export function reload() {
  return load();
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

export function isPartner(type) {
  return Boolean(who && who.me.partnerTypes && who.me.partnerTypes.includes(`indirect_${type}`));
}

// Global admins and admin agents: users, API tokens, the audit log.
export function isAdminAgent() {
  return hasRole('global_admin') || hasRole('admin_agent');
}

export function tenantId() {
  return who ? who.me.tenantId : null;
}
