// Invite new customers (POST /v1/relationships/{id}/customer-invitations): the
// customer's e-mail address, company name and country; the mail asks its global
// admin to accept relationships with the reseller and the provider at once. A
// provider invites for its reseller through the reseller's delegated admin access
// (On-Behalf-Of-Tenant), as the route admits. Below, the invitations sent so far.
import { h } from '../dom.js';
import { t, formatDate, language } from '../i18n.js';
import { all, call, idempotency } from '../api.js';
import { field, form } from '../form.js';
import { page, notice, facts, cards, card, link } from '../view.js';
import { problemMessage } from '../problems.js';
import { countryOptions } from '../reference.js';
import * as session from '../session.js';

function sentList(items) {
  return cards(
    t('inviteCustomer.sent'),
    items.map((i) =>
      card(
        i.companyName,
        facts([
          [t('inviteCustomer.email'), i.customerEmail],
          [t('inviteCustomer.state'), t(`inviteCustomer.states.${i.state}`)],
          [t('inviteCustomer.expires'), formatDate(i.expiresAt)],
        ]),
      ),
    ),
    t('inviteCustomer.noneSent'),
  );
}

export default {
  title: 'inviteCustomer.title',
  async render({ params }) {
    const relId = params.get('relationship');
    if (!relId) return page(t('inviteCustomer.title'), notice('info', h('p', {}, t('inviteCustomer.choose'))), h('p', {}, link('/providers', t('shell.providers'))));
    const me = session.tenantId();
    let rel;
    let sent;
    let options;
    let opts;
    try {
      rel = (await call('GET', `/v1/relationships/${encodeURIComponent(relId)}`)).data;
      // the provider acts in the reseller's work account
      opts = rel.provider.tenantId === me ? { onBehalfOf: rel.reseller.tenantId } : {};
      const org = opts.onBehalfOf ? null : session.current().organization;
      [sent, options] = await Promise.all([
        all(`/v1/relationships/${encodeURIComponent(relId)}/customer-invitations?limit=200`, opts),
        countryOptions(org ? org.cspRegion : null),
      ]);
    } catch (e) {
      return page(t('inviteCustomer.title'), notice('error', h('p', {}, problemMessage(e, { admin_access_removed: 'inviteCustomer.accessRemoved', admin_access_expired: 'inviteCustomer.accessRemoved' }))));
    }
    const names = { reseller: rel.reseller.name, provider: rel.provider.name };
    const key = idempotency();
    const done = h('div');
    const f = form({
      label: t('inviteCustomer.title'),
      submit: t('inviteCustomer.submit'),
      ruleFields: { country_not_in_region: 'country', own_domain: 'customerEmail' },
      overrides: { reseller_agreement_not_signed: 'inviteCustomer.unsigned', relationship_not_active: 'inviteCustomer.notActive', admin_access_removed: 'inviteCustomer.accessRemoved', admin_access_expired: 'inviteCustomer.accessRemoved', vars: names },
      fields: [
        field({ name: 'customerEmail', label: t('inviteCustomer.email'), type: 'email', hint: t('inviteCustomer.emailHint'), spellcheck: 'false', autocomplete: 'off' }),
        field({ name: 'companyName', label: t('inviteCustomer.company'), autocomplete: 'off' }),
        field({ name: 'country', label: t('inviteCustomer.country'), type: 'select', hint: t('inviteCustomer.countryHint'), options: [{ value: '', label: t('enroll.chooseCountry') }, ...options] }),
        field({
          name: 'language',
          label: t('enroll.language'),
          type: 'select',
          options: [
            { value: 'en', label: 'English' },
            { value: 'ru', label: 'Русский' },
          ],
        }),
      ],
      async onSubmit(body, el) {
        const { data } = await call('POST', `/v1/relationships/${encodeURIComponent(relId)}/customer-invitations`, { ...opts, body, idempotencyKey: key(body) });
        const n = notice('success', h('p', {}, t('inviteCustomer.done', { email: data.customerEmail, ...names })));
        n.setAttribute('tabindex', '-1');
        done.replaceChildren(n);
        el.reset();
        el.querySelector('select[name="language"]').value = language();
        n.focus();
        sentBox.replaceChildren(sentList(await all(`/v1/relationships/${encodeURIComponent(relId)}/customer-invitations?limit=200`, opts).catch(() => [])));
      },
    });
    f.querySelector('select[name="language"]').value = language();
    const sentBox = h('div', {}, sentList(sent));
    return page(
      t('inviteCustomer.title'),
      h('p', { class: 'lead' }, t('inviteCustomer.lead', names)),
      opts.onBehalfOf ? notice('info', h('p', {}, t('inviteCustomer.onBehalf', names))) : null,
      done,
      f,
      h('h2', {}, t('inviteCustomer.sent')),
      sentBox,
      h('p', {}, link('/customers', t('inviteCustomer.viewCustomers'), { relationship: relId })),
    );
  },
};
