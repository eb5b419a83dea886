// One customer, as its indirect provider sees it (?id=, and ?relationship= the
// reseller it came through): its subscriptions, with quantity changes (PATCH
// …/subscriptions/{sid} with If-Match), its order history (GET …/orders), and a
// new order on behalf of a reseller (POST /v1/customers/{id}/orders). The service
// refuses an order unless the provider, the reseller and the customer stand in
// the relationships of the programme and the reseller has signed the agreement.
import { h } from '../dom.js';
import { t, formatDate, countryName } from '../i18n.js';
import { all, call, idempotency } from '../api.js';
import { field, form } from '../form.js';
import { page, notice, facts, cards, card, say, resultSlot } from '../view.js';
import { problemMessage } from '../problems.js';

const RULES = {
  reseller_agreement_not_signed: 'customer.unsigned',
  not_reseller_customer: 'customer.noRelationship',
  not_shared_customer: 'customer.noRelationship',
  relationship_not_active: 'customer.notActive',
  no_customer_relationship: 'customer.noRelationship',
  412: 'customer.stale',
};

function money(p) {
  try {
    return new Intl.NumberFormat(document.documentElement.lang, { style: 'currency', currency: p.currency }).format(Number(p.unitPrice));
  } catch {
    return `${p.unitPrice} ${p.currency}`;
  }
}

function subscriptionCard(customerId, s, offers) {
  let etag = s.etag;
  const offer = offers.find((o) => o.id === s.offer.id);
  const slot = resultSlot();
  const shown = h('dd', {}, String(s.quantity));
  const f = form({
    label: t('customer.changeOf', { offer: s.offer.name }),
    submit: t('customer.change'),
    ruleFields: { quantity_out_of_range: 'quantity' },
    overrides: RULES,
    fields: [
      field({
        name: 'quantity',
        label: t('customer.newQuantity'),
        type: 'number',
        inputmode: 'numeric',
        value: String(s.quantity),
        min: offer ? String(offer.minQuantity) : null,
        max: offer ? String(offer.maxQuantity) : null,
        hint: offer ? t('customer.range', { min: offer.minQuantity, max: offer.maxQuantity }) : null,
      }),
    ],
    async onSubmit(v) {
      const { data } = await call('PATCH', `/v1/customers/${encodeURIComponent(customerId)}/subscriptions/${encodeURIComponent(s.id)}`, { body: { quantity: Number(v.quantity) }, ifMatch: etag });
      etag = data.etag;
      shown.textContent = String(data.quantity);
      say(slot, 'ok', t('customer.changed', { offer: s.offer.name, quantity: data.quantity }));
    },
  });
  f.querySelector('button[type="submit"]').setAttribute('aria-label', t('customer.changeLabel', { offer: s.offer.name }));
  return card(
    s.offer.name,
    h('dl', { class: 'facts' }, h('div', {}, h('dt', {}, t('customer.quantity')), shown), h('div', {}, h('dt', {}, t('customer.price')), h('dd', {}, money(s.price))), h('div', {}, h('dt', {}, t('customer.since')), h('dd', {}, formatDate(s.createdAt)))),
    f,
    slot,
  );
}

export default {
  title: 'customer.title',
  async render({ params, navigate, state }) {
    const id = params.get('id');
    if (!id) return page(t('customer.title'), notice('error', h('p', {}, t('customer.which'))));
    const enc = encodeURIComponent(id);
    let c;
    let subs;
    let orders;
    let offers;
    let resellers;
    try {
      c = (await call('GET', `/v1/customers/${enc}`)).data;
      [subs, orders, offers, resellers] = await Promise.all([
        all(`/v1/customers/${enc}/subscriptions?limit=200`),
        all(`/v1/customers/${enc}/orders?limit=200`),
        call('GET', `/v1/offers?country=${encodeURIComponent(c.country)}`).then((r) => r.data.items),
        all('/v1/relationships?type=indirectResellers&limit=200').then((xs) => xs.filter((r) => r.state === 'active')),
      ]);
    } catch (e) {
      return page(t('customer.title'), notice('error', h('p', {}, problemMessage(e))));
    }
    const key = idempotency();
    const rel = params.get('relationship');
    const chosen = resellers.find((r) => r.id === rel);
    const order = form({
      label: t('customer.order'),
      submit: t('customer.orderSubmit'),
      ruleFields: { quantity_out_of_range: 'quantity', unknown_offer: 'offerId' },
      overrides: RULES,
      fields: [
        field({
          name: 'resellerTenantId',
          label: t('customer.reseller'),
          hint: t('customer.resellerHint'),
          type: 'select',
          options: resellers.map((r) => ({ value: r.reseller.tenantId, label: r.reseller.name })),
        }),
        field({
          name: 'offerId',
          label: t('customer.offer'),
          type: 'select',
          options: [{ value: '', label: t('customer.chooseOffer') }, ...offers.map((o) => ({ value: o.id, label: `${o.name} — ${o.price ? money(o.price) : ''} / ${o.unit}` }))],
        }),
        field({ name: 'quantity', label: t('customer.quantity'), type: 'number', inputmode: 'numeric', value: '1', min: '1' }),
      ],
      async onSubmit(body) {
        body.quantity = Number(body.quantity);
        await call('POST', `/v1/customers/${enc}/orders`, { body, idempotencyKey: key(body) });
        const o = offers.find((x) => x.id === body.offerId);
        navigate('/customer', { replace: true, query: { id, relationship: rel }, state: { ordered: o ? o.name : '' } });
      },
    });
    if (chosen) order.querySelector('select[name="resellerTenantId"]').value = chosen.reseller.tenantId;
    const offerName = (oid) => (offers.find((o) => o.id === oid) || { name: oid }).name;
    return page(
      t('customer.title'),
      state.ordered ? notice('success', h('p', {}, t('customer.ordered', { offer: state.ordered }))) : null,
      h('p', { class: 'lead' }, c.companyName),
      facts([
        [t('customers.domain'), c.domain],
        [t('customers.country'), countryName(c.country)],
        [t('customers.state'), t(`relationships.states.${c.relationship.state}`)],
      ]),
      h('h2', {}, t('customer.subscriptions')),
      cards(t('customer.subscriptions'), subs.map((s) => subscriptionCard(id, s, offers)), t('customer.noSubscriptions')),
      h('h2', {}, t('customer.order')),
      resellers.length ? order : h('p', {}, t('customer.noResellers')),
      h('h2', {}, t('customer.history')),
      orders.length
        ? h(
            'ol',
            { class: 'log', 'aria-label': t('customer.history') },
            orders
              .slice()
              .reverse()
              .map((o) =>
                h(
                  'li',
                  { class: 'log-entry' },
                  h('span', { class: 'log-time' }, formatDate(o.createdAt)),
                  h('span', { class: 'log-action' }, o.kind === 'new' ? t('customer.kindNew', { offer: offerName(o.offerId), quantity: o.quantity }) : t('customer.kindChange', { offer: offerName(o.offerId), from: o.previousQuantity, quantity: o.quantity })),
                  h('span', { class: 'log-who' }, money(o.price)),
                ),
              ),
          )
        : h('p', {}, t('customer.noOrders')),
    );
  },
};
