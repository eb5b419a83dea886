// The customer invitation mail lands here (/accept-customer-invitation?invitation=…&token=…):
// the customer's global admin sees both partners, the reseller and its indirect
// provider, and accepts (POST /v1/customer-invitations/{id}/acceptance {token}),
// which makes the customer's relationships with both at once. Nothing is done
// before the press of the button: a mail scanner opening the link accepts nothing.
import { h } from '../dom.js';
import { t, formatDate, countryName } from '../i18n.js';
import { all, call, idempotency } from '../api.js';
import { form } from '../form.js';
import { page, notice, facts, buttonLink, link } from '../view.js';
import { problemMessage } from '../problems.js';
import { signedOutLanding, notForThisAccount } from '../landing.js';
import * as session from '../session.js';

export default {
  title: 'acceptCustomer.title',
  async render({ params, navigate }) {
    const id = params.get('invitation');
    const token = params.get('token');
    if (!id || !token) return page(t('acceptCustomer.title'), notice('error', h('p', {}, t('links.missingToken'))));
    if (!session.current()) return signedOutLanding('acceptCustomer', `/accept-customer-invitation?${params}`);
    let inv;
    try {
      inv = (await all('/v1/customer-invitations?limit=200')).find((i) => i.id === id);
    } catch (e) {
      return page(t('acceptCustomer.title'), notice('error', h('p', {}, problemMessage(e))));
    }
    if (!inv) return notForThisAccount('acceptCustomer', `/accept-customer-invitation?${params}`, navigate);
    const names = { reseller: inv.reseller.name, provider: inv.provider.name };
    const about = [
      h('p', { class: 'lead' }, t('acceptCustomer.lead', names)),
      facts([
        [t('acceptCustomer.reseller'), `${inv.reseller.name} (${inv.reseller.domain})`],
        [t('acceptCustomer.provider'), `${inv.provider.name} (${inv.provider.domain})`],
        [t('acceptCustomer.company'), inv.companyName],
        [t('acceptCustomer.country'), countryName(inv.country)],
        [t('acceptCustomer.expires'), formatDate(inv.expiresAt)],
      ]),
    ];
    if (inv.state === 'accepted') {
      return page(t('acceptCustomer.title'), about, notice('success', h('p', {}, t('acceptCustomer.already', names))), h('div', { class: 'actions' }, buttonLink('/partners', t('acceptCustomer.toPartners'))));
    }
    if (inv.state !== 'pending') {
      return page(t('acceptCustomer.title'), about, notice('error', h('p', {}, t(`acceptCustomer.state.${inv.state}`, names))));
    }
    const key = idempotency();
    const f = form({
      label: t('acceptCustomer.title'),
      submit: t('acceptCustomer.submit'),
      overrides: {
        invitation_not_found: 'acceptCustomer.invalid',
        invitation_accepted: 'acceptCustomer.stateNow',
        invitation_withdrawn: 'acceptCustomer.state.withdrawn',
        invitation_expired: 'acceptCustomer.state.expired',
        relationship_not_active: 'acceptCustomer.notActive',
        region_not_authorized: 'acceptCustomer.wrongRegion',
        customer_relationships_exist: 'acceptCustomer.exists',
        403: 'acceptCustomer.gaOnly',
        vars: names,
      },
      fields: [h('p', {}, t('acceptCustomer.means', names))],
      async onSubmit() {
        const body = { token };
        await call('POST', `/v1/customer-invitations/${encodeURIComponent(id)}/acceptance`, { body, idempotencyKey: key(body) });
        navigate('/partners', { state: { accepted: names } });
      },
    });
    return page(
      t('acceptCustomer.title'),
      about,
      session.hasRole('global_admin') ? null : notice('info', h('p', {}, t('acceptCustomer.gaOnly', names))),
      f,
      h('p', {}, link('/overview', t('acceptCustomer.later'))),
    );
  },
};
