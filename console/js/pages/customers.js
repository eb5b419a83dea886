// View customers: a partner's own customers (GET /v1/customers), or with
// ?relationship= those a reseller and a provider share (GET
// /v1/relationships/{id}/customers), with Invite new customers. A provider goes
// on to a customer's orders and subscriptions.
import { h } from '../dom.js';
import { t, formatDate, countryName } from '../i18n.js';
import { all, call } from '../api.js';
import { page, notice, facts, cards, card, link, buttonLink } from '../view.js';
import { problemMessage } from '../problems.js';
import * as session from '../session.js';

export default {
  title: 'customers.title',
  async render({ params }) {
    const relId = params.get('relationship');
    let items;
    let rel = null;
    try {
      if (relId) {
        rel = (await call('GET', `/v1/relationships/${encodeURIComponent(relId)}`)).data;
        items = await all(`/v1/relationships/${encodeURIComponent(relId)}/customers?limit=200`);
      } else {
        items = await all('/v1/customers?limit=200');
      }
    } catch (e) {
      return page(t('customers.title'), notice('error', h('p', {}, problemMessage(e))));
    }
    const me = session.tenantId();
    const provider = session.isPartner('provider');
    const partner = rel ? (rel.provider.tenantId === me ? rel.reseller : rel.provider) : null;
    const list = items.map((c) =>
      card(
        c.companyName,
        facts([
          [t('customers.domain'), c.domain],
          [t('customers.country'), countryName(c.country)],
          [t('customers.since'), formatDate(c.relationship.createdAt)],
          [t('customers.state'), t(`relationships.states.${c.relationship.state}`)],
        ]),
        provider
          ? h(
              'p',
              {},
              link('/customer', t('customers.orders'), { id: c.id, relationship: relId }, { 'aria-label': t('customers.ordersOf', { customer: c.companyName }) }),
            )
          : null,
      ),
    );
    return page(
      t('customers.title'),
      h('p', { class: 'lead' }, partner ? t('customers.leadShared', { partner: partner.name }) : t('customers.lead')),
      cards(t('customers.title'), list, t('customers.none')),
      rel && rel.state === 'active' ? h('div', { class: 'actions' }, buttonLink('/invite-customer', t('customers.invite'), { relationship: rel.id })) : null,
    );
  },
};
