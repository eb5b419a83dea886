// A provider's access request lands here (/authorize-access?relationship=…&request=…&token=…):
// the reseller's global admin sees which roles of admin access the provider asks
// for, until when, and whether it extends itself, ticks the box and consents
// (POST /v1/relationships/{id}/access-requests/{rid}/authorization), or declines
// with a reason (…/rejection). Nothing is done before a press. A request the
// provider withdrew, or that the relationship's end withdrew, says so.
import { h } from '../dom.js';
import { t, formatDate } from '../i18n.js';
import { all, call } from '../api.js';
import { checkbox, field, form } from '../form.js';
import { page, notice, facts, buttonLink, link } from '../view.js';
import { problemMessage } from '../problems.js';
import { signedOutLanding, notForThisAccount } from '../landing.js';
import { roleList } from '../reference.js';
import * as session from '../session.js';

export default {
  title: 'access.title',
  async render({ params, navigate }) {
    const rel = params.get('relationship');
    const id = params.get('request');
    const token = params.get('token');
    if (!rel || !id || !token) return page(t('access.title'), notice('error', h('p', {}, t('links.missingToken'))));
    if (!session.current()) return signedOutLanding('access', `/authorize-access?${params}`);
    const base = `/v1/relationships/${encodeURIComponent(rel)}`;
    let req;
    let relationship;
    try {
      relationship = (await call('GET', base)).data;
      req = (await all(`${base}/access-requests?limit=200`)).find((r) => r.id === id);
    } catch (e) {
      if (e.status === 404) return notForThisAccount('access', `/authorize-access?${params}`, navigate);
      return page(t('access.title'), notice('error', h('p', {}, problemMessage(e))));
    }
    if (!req || relationship.reseller.tenantId !== session.tenantId()) {
      return notForThisAccount('access', `/authorize-access?${params}`, navigate);
    }
    const provider = relationship.provider.name;
    const about = [
      h('p', { class: 'lead' }, t('access.lead', { provider })),
      facts([
        [t('authorize.provider'), `${provider} (${relationship.provider.domain})`],
        [t('authorize.message'), req.message],
        [t('authorize.roles'), roleList(req.adminAccess.roles)],
        [t('authorize.until'), formatDate(req.adminAccess.endsAt)],
        [t('access.autoExtend'), t(req.adminAccess.autoExtend ? 'access.autoExtendYes' : 'access.autoExtendNo')],
        [t('access.expires'), formatDate(req.expiresAt)],
      ]),
    ];
    // an end withdraws the request: the end is what the page says
    const ended = relationship.state !== 'active';
    if (ended || req.state !== 'pending') {
      const says = ended ? t('access.ended', { provider }) : t(`access.state.${req.state}`, { provider });
      return page(
        t('access.title'),
        about,
        notice(req.state === 'expired' ? 'error' : 'info', h('p', {}, says)),
        h('div', { class: 'actions' }, buttonLink('/providers', t('authorize.toProviders'))),
      );
    }
    const overrides = {
      access_request_not_found: 'authorize.invalid',
      access_request_accepted: 'access.state.accepted',
      access_request_declined: 'access.state.declined',
      access_request_withdrawn: 'access.state.withdrawn',
      access_request_expired: 'access.state.expired',
      relationship_not_active: 'access.ended',
      access_already_ended: 'authorize.accessEnded',
      region_not_authorized: 'access.suspended',
      403: 'access.gaOnly',
      vars: { provider },
    };
    const again = () => navigate('/authorize-access', { query: { relationship: rel, request: id, token }, replace: true });
    const consent = form({
      label: t('access.title'),
      submit: t('access.submit'),
      overrides,
      fields: [
        h('h2', {}, t('authorize.consentTitle')),
        h('p', {}, t('access.consentText', { provider })),
        checkbox({ name: 'consent', label: t('access.consent', { provider }) }),
      ],
      ruleFields: { consent_required: 'consent' },
      async onSubmit({ consent: yes }) {
        await call('POST', `${base}/access-requests/${encodeURIComponent(id)}/authorization`, { body: { token, consent: yes } });
        again();
      },
    });
    const decline = form({
      label: t('access.declineTitle'),
      submit: t('access.declineSubmit'),
      overrides,
      fields: [
        h('h2', {}, t('access.declineTitle')),
        field({ name: 'reason', label: t('authorize.reason', { provider }), type: 'textarea', required: false, maxlength: 1000, hint: t('authorize.reasonHint', { provider }) }),
      ],
      async onSubmit({ reason }) {
        await call('POST', `${base}/access-requests/${encodeURIComponent(id)}/rejection`, { body: { token, reason } });
        again();
      },
    });
    return page(
      t('access.title'),
      about,
      session.hasRole('global_admin') ? null : notice('info', h('p', {}, t('access.gaOnly'))),
      consent,
      decline,
      h('p', {}, link('/overview', t('authorize.later'))),
    );
  },
};
