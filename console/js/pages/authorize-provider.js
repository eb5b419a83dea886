// The provider's invitation mail lands here (/authorize-provider?invitation=…&token=…):
// the reseller's global admin sees who asks, for which roles of admin access and
// until when, ticks the guide's box and selects Authorize indirect provider (POST
// /v1/relationship-invitations/{id}/authorization {token, consent}). Nothing is
// done before that press: a mail scanner opening the link authorizes nothing.
// Or the reseller declines, saying why if it likes (POST
// /v1/relationship-invitations/{id}/rejection {token, reason}): the provider is
// told by mail, and the link is spent.
import { h } from '../dom.js';
import { t, formatDate } from '../i18n.js';
import { all, call } from '../api.js';
import { checkbox, field, form } from '../form.js';
import { page, notice, facts, buttonLink, link } from '../view.js';
import { problemMessage } from '../problems.js';
import { signedOutLanding, notForThisAccount } from '../landing.js';
import { roleList, regionName } from '../reference.js';
import * as session from '../session.js';

export default {
  title: 'authorize.title',
  async render({ params, navigate }) {
    const id = params.get('invitation');
    const token = params.get('token');
    if (!id || !token) return page(t('authorize.title'), notice('error', h('p', {}, t('links.missingToken'))));
    if (!session.current()) return signedOutLanding('authorize', `/authorize-provider?${params}`);
    let inv;
    try {
      inv = (await all('/v1/relationship-invitations?limit=200')).find((i) => i.id === id && i.direction === 'received');
    } catch (e) {
      return page(t('authorize.title'), notice('error', h('p', {}, problemMessage(e))));
    }
    if (!inv) return notForThisAccount('authorize', `/authorize-provider?${params}`, navigate);
    const provider = inv.provider.name;
    const about = [
      h('p', { class: 'lead' }, t('authorize.lead', { provider })),
      facts([
        [t('authorize.provider'), `${provider} (${inv.provider.domain})`],
        [t('authorize.message'), inv.message],
        [t('authorize.roles'), roleList(inv.adminAccess.roles)],
        [t('authorize.until'), formatDate(inv.adminAccess.endsAt)],
        [t('authorize.expires'), formatDate(inv.expiresAt)],
      ]),
    ];
    if (inv.state === 'accepted') {
      return page(t('authorize.title'), about, notice('success', h('p', {}, t('authorize.already', { provider }))), h('div', { class: 'actions' }, buttonLink('/providers', t('authorize.toProviders'))));
    }
    if (inv.state === 'declined') {
      return page(t('authorize.title'), about, notice('info', h('p', {}, t('authorize.state.declined', { provider }))), h('p', {}, link('/overview', t('authorize.toOverview'))));
    }
    if (inv.state !== 'pending') {
      return page(t('authorize.title'), about, notice('error', h('p', {}, t(`authorize.state.${inv.state}`, { provider }))));
    }
    const org = session.current().organization;
    const overrides = {
      invitation_not_found: 'authorize.invalid',
      invitation_accepted: 'authorize.stateNow.accepted',
      invitation_withdrawn: 'authorize.state.withdrawn',
      invitation_expired: 'authorize.state.expired',
      enrollment_not_approved: 'authorize.notApproved',
      region_not_authorized: 'authorize.wrongRegion',
      relationship_exists: 'authorize.exists',
      access_already_ended: 'authorize.accessEnded',
      403: 'authorize.gaOnly',
      vars: { provider, region: regionName(org && org.cspRegion) },
    };
    const f = form({
      label: t('authorize.title'),
      submit: t('authorize.submit'),
      overrides,
      fields: [
        h('h2', {}, t('authorize.consentTitle')),
        h('p', {}, t('authorize.consentText', { provider })),
        checkbox({ name: 'consent', label: t('authorize.consent', { provider }) }),
      ],
      // the service's refusal, beside the box it is about
      ruleFields: { consent_required: 'consent' },
      async onSubmit({ consent }) {
        await call('POST', `/v1/relationship-invitations/${encodeURIComponent(id)}/authorization`, { body: { token, consent } });
        await session.reload().catch(() => {});
        navigate('/providers', { state: { authorized: provider } });
      },
    });
    const decline = form({
      label: t('authorize.declineTitle'),
      submit: t('authorize.declineSubmit'),
      overrides: { ...overrides, 403: 'authorize.gaOnlyDecline' },
      fields: [
        h('h2', {}, t('authorize.declineTitle')),
        h('p', {}, t('authorize.declineText', { provider })),
        field({ name: 'reason', label: t('authorize.reason', { provider }), type: 'textarea', required: false, maxlength: 1000, hint: t('authorize.reasonHint', { provider }) }),
      ],
      async onSubmit({ reason }) {
        await call('POST', `/v1/relationship-invitations/${encodeURIComponent(id)}/rejection`, { body: { token, reason } });
        navigate('/authorize-provider', { query: { invitation: id, token }, replace: true });
      },
    });
    return page(
      t('authorize.title'),
      about,
      session.hasRole('global_admin') ? null : notice('info', h('p', {}, t('authorize.gaOnly'))),
      f,
      decline,
      h('p', {}, link('/overview', t('authorize.later'))),
    );
  },
};
