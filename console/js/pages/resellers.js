// Indirect resellers (GET /v1/relationships?type=indirectResellers): the resellers
// that authorized the provider, the admin access each granted, their customers and
// inviting customers for them; and the invitations the provider has sent (GET
// /v1/relationship-invitations), a pending one withdrawn after a confirmation.
import { h } from '../dom.js';
import { t, formatDate } from '../i18n.js';
import { all, call } from '../api.js';
import { page, notice, facts, cards, card, confirmButton, link, buttonLink } from '../view.js';
import { problemMessage } from '../problems.js';
import { roleList } from '../reference.js';
import { accessText } from './providers.js';

export default {
  title: 'resellers.title',
  async render({ state, navigate }) {
    let items;
    let sent;
    try {
      [items, sent] = await Promise.all([all('/v1/relationships?type=indirectResellers&limit=200'), all('/v1/relationship-invitations?limit=200')]);
    } catch (e) {
      return page(t('resellers.title'), notice('error', h('p', {}, problemMessage(e))));
    }
    sent = sent.filter((i) => i.direction === 'sent').reverse();
    const list = items.map((r) => {
      const name = r.reseller.name;
      const granted = r.state === 'active' && r.adminAccess.status === 'granted' && new Date(r.adminAccess.endsAt) > new Date();
      return card(
        name,
        facts([
          [t('relationships.domain'), r.reseller.domain],
          [t('relationships.state'), t(`relationships.states.${r.state}`)],
          [t('relationships.since'), formatDate(r.createdAt)],
          [t('relationships.adminAccess'), accessText(r)],
        ]),
        r.state === 'active'
          ? h(
              'div',
              { class: 'actions' },
              link('/customers', t('resellers.customers'), { relationship: r.id }, { 'aria-label': t('resellers.customersOf', { reseller: name }) }),
              granted ? link('/invite-customer', t('resellers.invite'), { relationship: r.id }, { 'aria-label': t('resellers.inviteFor', { reseller: name }) }) : null,
              link('/request-access', t('resellers.askAccess'), { relationship: r.id }, { 'aria-label': t('resellers.askAccessOf', { reseller: name }) }),
            )
          : null,
      );
    });
    const sentCards = sent.map((i) =>
      card(
        i.resellerEmail,
        facts([
          [t('resellers.state'), t(`inviteCustomer.states.${i.state}`)],
          [t('resellers.asked'), roleList(i.adminAccess.roles)],
          [t('resellers.expires'), formatDate(i.expiresAt)],
        ]),
        i.state === 'pending'
          ? confirmButton({
              label: t('resellers.withdraw'),
              ariaLabel: t('resellers.withdrawLabel', { email: i.resellerEmail }),
              question: t('resellers.withdrawQuestion', { email: i.resellerEmail }),
              yes: t('resellers.withdrawYes'),
              cancel: t('common.cancel'),
              async run() {
                await call('DELETE', `/v1/relationship-invitations/${encodeURIComponent(i.id)}`);
                navigate('/resellers', { replace: true, state: { withdrawn: i.resellerEmail } });
              },
            })
          : null,
      ),
    );
    return page(
      t('resellers.title'),
      state.invited ? notice('success', h('p', {}, t('resellers.invited', { email: state.invited }))) : null,
      state.withdrawn ? notice('success', h('p', {}, t('resellers.withdrawn', { email: state.withdrawn }))) : null,
      h('p', { class: 'lead' }, t('resellers.lead')),
      cards(t('resellers.title'), list, t('resellers.none')),
      h('div', { class: 'actions' }, buttonLink('/invite-reseller', t('resellers.inviteReseller'))),
      h('h2', {}, t('resellers.sent')),
      cards(t('resellers.sent'), sentCards, t('resellers.noneSent')),
    );
  },
};
