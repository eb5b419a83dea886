// What the two invitation landings share: the page a person who is not signed in
// sees (sign in and come back, or create a work account), the page for one signed
// in to another work account than the mail's.
import { h } from './dom.js';
import { t } from './i18n.js';
import { page, notice, buttonLink, link } from './view.js';
import * as session from './session.js';

// kind: 'authorize' or 'acceptCustomer'; back: this page's address, to come back to.
export function signedOutLanding(kind, back) {
  return page(
    t(`${kind}.title`),
    h('p', { class: 'lead' }, t(`${kind}.signedOutLead`)),
    notice('info', h('p', {}, t(`${kind}.signInFirst`))),
    h('div', { class: 'actions' }, buttonLink('/sign-in', t('landing.signIn'), { next: back }), buttonLink('/sign-up', t('landing.create'), null, 'secondary')),
    h('p', {}, t('landing.createText')),
  );
}

export function notForThisAccount(kind, back, navigate) {
  const who = session.current();
  const org = who.organization;
  const account = org ? `${org.displayName || org.companyName} (${org.domain})` : t('landing.thisAccount');
  return page(
    t(`${kind}.title`),
    notice('error', h('p', {}, t('landing.notYours', { account })), h('p', {}, t('landing.notYoursNext'))),
    h(
      'div',
      { class: 'actions' },
      h(
        'button',
        {
          type: 'button',
          class: 'primary',
          onclick: async () => {
            await session.signOut().catch(() => {});
            navigate('/sign-in', { query: { next: back } });
          },
        },
        t('landing.switch'),
      ),
      link('/overview', t('landing.toOverview')),
    ),
  );
}
