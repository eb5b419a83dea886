// The organization profile (GET /v1/profiles/organization) with Program Info: the
// enrolment, the programme status and the partner agreement (signed, by whom,
// when); and its partner network IDs (GET /v1/profiles/mpn): a global admin adds
// one (POST …/identifiers) and claims the one located in the CSP country (PUT
// …/association), which is associated once the programme team verifies it: the
// claim's status is shown (waiting, verified, or rejected with the reason).
import { h } from '../dom.js';
import { t, formatDate, countryName } from '../i18n.js';
import { call, idempotency } from '../api.js';
import { field, form } from '../form.js';
import { page, notice, facts } from '../view.js';
import { problemMessage } from '../problems.js';
import { countryOptions, regionName } from '../reference.js';
import * as session from '../session.js';

export default {
  title: 'organization.title',
  async render({ state, navigate }) {
    let org;
    let mpn;
    let options;
    try {
      [org, mpn, options] = await Promise.all([
        call('GET', '/v1/profiles/organization').then((r) => r.data),
        call('GET', '/v1/profiles/mpn').then((r) => r.data),
        countryOptions(),
      ]);
    } catch (e) {
      return page(t('organization.title'), notice('error', h('p', {}, problemMessage(e))));
    }
    const p = org.programInfo;
    const a = p.agreement;
    const again = (s) => navigate('/organization', { replace: true, state: s });
    const ga = session.hasRole('global_admin');
    const addKey = idempotency();
    const add = form({
      label: t('organization.addMpn'),
      submit: t('organization.addSubmit'),
      overrides: { 403: 'organization.gaOnly', 409: 'organization.mpnExists' },
      fields: [
        field({ name: 'mpnId', label: t('organization.mpnId'), hint: t('organization.mpnIdHint'), inputmode: 'numeric', autocomplete: 'off' }),
        field({ name: 'country', label: t('organization.mpnCountry'), type: 'select', options: [{ value: '', label: t('enroll.chooseCountry') }, ...options] }),
        field({ name: 'locationName', label: t('organization.location') }),
      ],
      async onSubmit(body) {
        await call('POST', '/v1/profiles/mpn/identifiers', { body, idempotencyKey: addKey(body) });
        again({ added: body.mpnId });
      },
    });
    const assoc = mpn.identifiers.length
      ? form({
          label: t('organization.associate'),
          submit: t('organization.associateSubmit'),
          ruleFields: { mpn_country_mismatch: 'mpnId' },
          overrides: { 403: 'organization.gaOnly' },
          fields: [
            field({
              name: 'mpnId',
              label: t('organization.associateWhich'),
              hint: t('organization.associateHint', { country: org.cspCountry ? countryName(org.cspCountry) : '—' }),
              type: 'select',
              options: mpn.identifiers.map((i) => ({ value: i.mpnId, label: `${i.mpnId} — ${countryName(i.country)}, ${i.locationName}` })),
            }),
          ],
          async onSubmit(body) {
            await call('PUT', '/v1/profiles/mpn/association', { body });
            again({ associated: body.mpnId });
          },
        })
      : null;
    const claim = mpn.association;
    if (assoc && claim) assoc.querySelector('select').value = claim.mpnId;
    const claimLine = !claim
      ? null
      : claim.status === 'verified'
        ? t('organization.claimVerified', { id: claim.mpnId })
        : claim.status === 'rejected'
          ? t('organization.claimRejected', { id: claim.mpnId, reason: claim.reason || '' })
          : t('organization.claimPending', { id: claim.mpnId });
    const tag = (i) => {
      if (i.mpnId === mpn.associatedMpnId) return h('span', { class: 'tag' }, t('organization.isAssociated'));
      if (claim && claim.status === 'pending_verification' && i.mpnId === claim.mpnId) return h('span', { class: 'tag' }, t('organization.isPending'));
      return null;
    };
    return page(
      t('organization.title'),
      state.added ? notice('success', h('p', {}, t('organization.added', { id: state.added }))) : null,
      state.associated ? notice('success', h('p', {}, t('organization.associated', { id: state.associated }))) : null,
      facts([
        [t('organization.company'), org.companyName],
        [t('organization.domain'), org.domain],
        [t('organization.cspCountry'), org.cspCountry ? countryName(org.cspCountry) : t('organization.none')],
        [t('organization.cspRegion'), org.cspRegion ? regionName(org.cspRegion) : t('organization.none')],
      ]),
      h('h2', {}, t('organization.programInfo')),
      facts(
        [
          [t('overview.enrollmentStatus'), p.enrollmentStatus ? t(`overview.enrollment.${p.enrollmentStatus}`) : t('overview.notEnrolled')],
          [t('overview.programStatus'), t(`overview.program.${p.programStatus}`)],
          [t('organization.agreement'), a.signed ? t('organization.signed', { version: a.version, date: formatDate(a.signedAt) }) : t('organization.unsigned')],
        ],
        { 'aria-label': t('organization.programInfo') },
      ),
      h('h2', {}, t('organization.mpn')),
      mpn.identifiers.length
        ? h(
            'ul',
            { class: 'plain', 'aria-label': t('organization.mpn') },
            mpn.identifiers.map((i) =>
              h('li', {}, `${i.mpnId} — ${countryName(i.country)}, ${i.locationName}`, tag(i)),
            ),
          )
        : h('p', {}, t('organization.noMpn')),
      claimLine ? facts([[t('organization.claim'), claimLine]], { 'aria-label': t('organization.claim') }) : null,
      ga && assoc ? [h('h3', {}, t('organization.associate')), assoc] : null,
      ga ? [h('h3', {}, t('organization.addMpn')), add] : null,
    );
  },
};
