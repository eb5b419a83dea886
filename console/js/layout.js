// The frame around every page: a skip link, the header (who is signed in, the
// language, sign-out), the main region the pages are drawn in, and the footer.
import { h, clear, append } from './dom.js';
import { t, LANGUAGES, language, switchTo } from './i18n.js';
import { href, navigate, path } from './router.js';
import * as session from './session.js';
import { routes } from './routes.js';

const LANGUAGE_NAMES = { en: 'English', ru: 'Русский' };

export const main = h('main', { id: 'main', tabindex: '-1' });
const header = h('header', { class: 'top' });
const footer = h('footer', { class: 'bottom' });
const skip = h('a', {
  class: 'skip',
  href: '#main',
  onclick: (ev) => {
    ev.preventDefault();
    main.focus();
  },
});

export function mount(root) {
  clear(root).append(skip, header, main, footer);
  drawFrame();
}

function who(w) {
  const u = w.user;
  const name = u ? `${u.firstName} ${u.lastName}`.trim() || u.email : null;
  const org = w.organization ? w.organization.displayName || w.organization.domain : null;
  if (name && org) return t('shell.signedInAsAt', { name, org });
  if (name || org) return t('shell.signedInAs', { name: name || org });
  return t('shell.signedIn');
}

function navLink(p, label) {
  const here = path() === p;
  return h('a', { href: href(p), 'aria-current': here ? 'page' : null }, label);
}

// The menu of who is signed in: the pages of its roles and its tenant's part in
// the programme (a reseller, a provider, a customer, the operator).
function menu(w) {
  if (w.mfaSetupRequired) return [['/security', t('shell.security')], ['/sessions', t('shell.sessions')]];
  const items = [];
  const add = (p, key) => items.push([p, t(`shell.${key}`)]);
  const operator = session.hasRole('operator');
  const provider = session.isPartner('provider');
  const reseller = session.isPartner('reseller');
  if (operator) {
    add('/review', 'review');
    add('/operator-providers', 'operatorProviders');
    add('/agreement-versions', 'agreementVersions');
    add('/mail-outbox', 'mailOutbox');
  } else {
    add('/overview', 'overview');
    if (!reseller && !provider) add('/enroll', 'enrollment');
    if (reseller || !provider) add('/providers', 'providers');
    if (reseller) add('/find-provider', 'findProvider');
    if (provider) add('/resellers', 'resellers');
    if (provider && session.isAdminAgent()) add('/groups', 'groups');
    if (reseller || provider) add('/customers', 'customers');
    if (reseller) add('/agreement', 'agreement');
    if (!reseller && !provider) add('/partners', 'partners');
    add('/organization', 'organization');
  }
  if (session.isAdminAgent()) {
    add('/users', 'users');
    add('/api-tokens', 'apiTokens');
    add('/audit-log', 'auditLog');
  }
  add('/security', 'security');
  add('/sessions', 'sessions');
  return items.filter(([p]) => p in routes);
}

// Draws the header and footer again: after a sign-in or out, a page change (the
// current link), a change of language.
export function drawFrame() {
  skip.textContent = t('shell.skip');
  const w = session.current();
  const select = h(
    'select',
    { id: 'language', onchange: (ev) => switchTo(ev.target.value) },
    LANGUAGES.map((l) => h('option', { value: l, selected: l === language(), lang: l }, LANGUAGE_NAMES[l])),
  );
  const tools = h(
    'div',
    { class: 'tools' },
    h('div', { class: 'language' }, h('label', { for: 'language' }, t('shell.language')), select),
  );
  if (w) {
    tools.append(
      h('p', { class: 'who' }, who(w)),
      h(
        'button',
        {
          type: 'button',
          class: 'secondary',
          onclick: async () => {
            await session.signOut().catch(() => {});
            navigate('/sign-in', { state: { signedOut: true } });
          },
        },
        t('shell.signOut'),
      ),
    );
  } else if (path() !== '/sign-in') {
    tools.append(h('a', { href: href('/sign-in'), class: 'button secondary' }, t('shell.signIn')));
  }
  const nav = w ? h('nav', { 'aria-label': t('shell.menu') }, h('ul', {}, menu(w).map(([p, label]) => h('li', {}, navLink(p, label))))) : null;
  append(clear(header), [
    h('div', { class: 'bar' }, h('a', { class: 'brand', href: href(w ? '/overview' : '/') }, t('shell.brand')), tools),
    nav,
  ]);
  clear(footer).append(h('p', {}, t('shell.footer')));
}
