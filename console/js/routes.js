// The console's pages: a path (below the deployment's base) and who may see it.
// public: anyone; user: someone signed in (others are sent to sign in first).
// beforeMfa: shown to a person of whom a second factor is required before it has
// set one up (the service refuses it everything else: 403 mfa_setup_required).
// nginx/twotier.conf serves index.html for exactly these paths (every other path
// is the API's); tests/browser checks that the two lists agree.
export const routes = {
  '/': { load: () => import('./pages/welcome.js'), access: 'public' },
  '/sign-up': { load: () => import('./pages/sign-up.js'), access: 'public' },
  '/verify-signup': { load: () => import('./pages/verify-signup.js'), access: 'public' },
  '/sign-in': { load: () => import('./pages/sign-in.js'), access: 'public' },
  '/forgot-password': { load: () => import('./pages/forgot-password.js'), access: 'public' },
  '/reset-password': { load: () => import('./pages/reset-password.js'), access: 'public' },
  '/verify-email': { load: () => import('./pages/verify-email.js'), access: 'public' },
  '/overview': { load: () => import('./pages/overview.js'), access: 'user' },
  '/enroll': { load: () => import('./pages/enroll.js'), access: 'user' },
  '/sessions': { load: () => import('./pages/sessions.js'), access: 'user', beforeMfa: true },
  '/authorize-provider': { load: () => import('./pages/authorize-provider.js'), access: 'public' },
  '/authorize-access': { load: () => import('./pages/authorize-access.js'), access: 'public' },
  '/accept-customer-invitation': { load: () => import('./pages/accept-customer-invitation.js'), access: 'public' },
  '/providers': { load: () => import('./pages/providers.js'), access: 'user' },
  '/partners': { load: () => import('./pages/partners.js'), access: 'user' },
  '/find-provider': { load: () => import('./pages/find-provider.js'), access: 'user' },
  '/customers': { load: () => import('./pages/customers.js'), access: 'user' },
  '/invite-customer': { load: () => import('./pages/invite-customer.js'), access: 'user' },
  '/agreement': { load: () => import('./pages/agreement.js'), access: 'user' },
  '/organization': { load: () => import('./pages/organization.js'), access: 'user' },
  '/users': { load: () => import('./pages/users.js'), access: 'user' },
  '/api-tokens': { load: () => import('./pages/api-tokens.js'), access: 'user' },
  '/audit-log': { load: () => import('./pages/audit-log.js'), access: 'user' },
  '/resellers': { load: () => import('./pages/resellers.js'), access: 'user' },
  '/groups': { load: () => import('./pages/groups.js'), access: 'user' },
  '/invite-reseller': { load: () => import('./pages/invite-reseller.js'), access: 'user' },
  '/request-access': { load: () => import('./pages/request-access.js'), access: 'user' },
  '/customer': { load: () => import('./pages/customer.js'), access: 'user' },
  '/review': { load: () => import('./pages/review.js'), access: 'user' },
  '/operator-providers': { load: () => import('./pages/operator-providers.js'), access: 'user' },
  '/agreement-versions': { load: () => import('./pages/agreement-versions.js'), access: 'user' },
  '/mail-outbox': { load: () => import('./pages/mail-outbox.js'), access: 'user' },
  '/security': { load: () => import('./pages/security.js'), access: 'user', beforeMfa: true },
};

export const notFound = { load: () => import('./pages/not-found.js'), access: 'public' };
