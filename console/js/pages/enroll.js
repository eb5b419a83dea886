// Enrol as an indirect reseller (POST /v1/enrollments): the legal business profile,
// the primary contact (not at a web mail service) and the support details; then the
// contact's mail. A work account that has enrolled sees where it stands instead.
import { h } from '../dom.js';
import { t, countryName, language } from '../i18n.js';
import { call, idempotency } from '../api.js';
import { field, form } from '../form.js';
import { page, notice, buttonLink } from '../view.js';
import { problemMessage } from '../problems.js';
import * as session from '../session.js';

async function countries() {
  const { data } = await call('GET', '/v1/regions', { anonymous: true });
  const codes = data.items.flatMap((r) => r.countries.map((c) => c.code));
  const collator = new Intl.Collator(language());
  return codes.map((code) => ({ value: code, label: countryName(code) })).sort((a, b) => collator.compare(a.label, b.label));
}

export default {
  title: 'enroll.title',
  async render({ navigate }) {
    let options;
    try {
      const existing = await call('GET', '/v1/enrollment').then((r) => r.data, (e) => (e.status === 404 ? null : Promise.reject(e)));
      if (existing) {
        return page(
          t('enroll.title'),
          notice('info', h('p', {}, t('enroll.already', { status: t(`overview.enrollment.${existing.status}`) }))),
          h('div', { class: 'actions' }, buttonLink('/overview', t('enroll.toOverview'))),
        );
      }
      options = await countries();
    } catch (e) {
      return page(t('enroll.title'), notice('error', h('p', {}, problemMessage(e))));
    }
    const key = idempotency();
    const who = session.current();
    const f = form({
      label: t('enroll.title'),
      submit: t('enroll.submit'),
      fields: [
        h(
          'fieldset',
          {},
          h('legend', {}, t('enroll.legal')),
          h('p', { class: 'hint' }, t('enroll.legalHint')),
          field({ name: 'legalBusinessProfile.companyName', label: t('enroll.companyName'), autocomplete: 'organization', value: (who && who.organization && who.organization.displayName) || '' }),
          field({ name: 'legalBusinessProfile.address.addressLine1', label: t('enroll.addressLine1'), autocomplete: 'address-line1' }),
          field({ name: 'legalBusinessProfile.address.addressLine2', label: t('enroll.addressLine2'), autocomplete: 'address-line2', required: false }),
          field({ name: 'legalBusinessProfile.address.city', label: t('enroll.city'), autocomplete: 'address-level2' }),
          field({ name: 'legalBusinessProfile.address.state', label: t('enroll.state'), autocomplete: 'address-level1', required: false }),
          field({ name: 'legalBusinessProfile.address.postalCode', label: t('enroll.postalCode'), autocomplete: 'postal-code' }),
          field({
            name: 'legalBusinessProfile.address.country',
            label: t('enroll.country'),
            hint: t('enroll.countryHint'),
            type: 'select',
            autocomplete: 'country',
            options: [{ value: '', label: t('enroll.chooseCountry') }, ...options],
          }),
          field({ name: 'legalBusinessProfile.phoneNumber', label: t('fields.phone'), type: 'tel', hint: t('fields.phoneHint'), autocomplete: 'tel' }),
        ),
        h(
          'fieldset',
          {},
          h('legend', {}, t('enroll.contact')),
          h('p', { class: 'hint' }, t('enroll.contactHint')),
          field({ name: 'primaryContact.firstName', label: t('fields.firstName'), autocomplete: 'given-name' }),
          field({ name: 'primaryContact.lastName', label: t('fields.lastName'), autocomplete: 'family-name' }),
          field({ name: 'primaryContact.email', label: t('fields.email'), type: 'email', hint: t('enroll.contactEmailHint'), autocomplete: 'email', spellcheck: 'false' }),
          field({ name: 'primaryContact.phoneNumber', label: t('fields.phone'), type: 'tel', hint: t('fields.phoneHint'), autocomplete: 'tel' }),
          field({
            name: 'primaryContact.language',
            label: t('enroll.language'),
            type: 'select',
            options: [
              { value: 'en', label: 'English' },
              { value: 'ru', label: 'Русский' },
            ],
          }),
        ),
        h(
          'fieldset',
          {},
          h('legend', {}, t('enroll.support')),
          h('p', { class: 'hint' }, t('enroll.supportHint')),
          field({ name: 'supportProfile.email', label: t('fields.email'), type: 'email', spellcheck: 'false' }),
          field({ name: 'supportProfile.telephone', label: t('fields.phone'), type: 'tel', hint: t('fields.phoneHint') }),
          field({ name: 'supportProfile.website', label: t('enroll.website'), type: 'url', hint: t('enroll.websiteHint') }),
        ),
      ],
      async onSubmit(body) {
        await call('POST', '/v1/enrollments', { body, idempotencyKey: key(body) });
        navigate('/overview', { state: { enrolled: true } });
      },
      overrides: { 403: 'enroll.gaOnly' },
      // the service's refusal, beside the address it is about
      ruleFields: { contact_not_at_domain: 'primaryContact.email' },
    });
    const lang = f.querySelector('select[name="primaryContact.language"]');
    lang.value = language();
    return page(t('enroll.title'), h('p', { class: 'lead' }, t('enroll.lead')), f);
  },
};
