// The partner agreement: its current version (GET /v1/agreement-templates), read
// at its address, and accepted by a global admin with the signer's details (POST
// /v1/agreements); once signed, by whom and when (the organization profile's
// program info), and the overview shows the confirmation banner.
import { h } from '../dom.js';
import { t, formatDate } from '../i18n.js';
import { call, idempotency } from '../api.js';
import { field, form } from '../form.js';
import { page, notice, facts, buttonLink } from '../view.js';
import { problemMessage } from '../problems.js';
import * as session from '../session.js';

export default {
  title: 'agreement.title',
  async render({ navigate }) {
    let tpl;
    let org;
    try {
      [tpl, org] = await Promise.all([
        call('GET', '/v1/agreement-templates?type=partner_agreement').then((r) => r.data.items[0] || null),
        call('GET', '/v1/profiles/organization').then((r) => r.data),
      ]);
    } catch (e) {
      return page(t('agreement.title'), notice('error', h('p', {}, problemMessage(e))));
    }
    if (!tpl) return page(t('agreement.title'), notice('info', h('p', {}, t('agreement.noneYet'))));
    const signed = org.programInfo.agreement;
    const doc = [
      h('p', { class: 'lead' }, t('agreement.lead')),
      facts([
        [t('agreement.version'), tpl.version],
        [t('agreement.effective'), tpl.effectiveDate],
        [t('agreement.document'), h('a', { href: tpl.documentUrl, rel: 'noopener noreferrer', target: '_blank' }, t('agreement.read', { version: tpl.version }))],
        [t('agreement.sha'), h('code', { class: 'hash' }, tpl.documentSha256)],
      ]),
    ];
    if (signed.signed) {
      return page(
        t('agreement.title'),
        doc,
        notice('success', h('p', {}, t('agreement.signed', { version: signed.version, date: formatDate(signed.signedAt) }))),
        h('div', { class: 'actions' }, buttonLink('/overview', t('agreement.toOverview'), null, 'secondary')),
      );
    }
    if (org.programInfo.enrollmentStatus !== 'approved') {
      return page(t('agreement.title'), doc, notice('info', h('p', {}, t('agreement.notApproved'))));
    }
    const key = idempotency();
    const who = session.current();
    const u = who.user;
    const f = form({
      label: t('agreement.accept'),
      submit: t('agreement.submit'),
      overrides: { 403: 'agreement.gaOnly', 409: 'agreement.already', template_not_current: 'agreement.stale' },
      fields: [
        h('h2', {}, t('agreement.signer')),
        h('p', { class: 'hint' }, t('agreement.signerHint')),
        field({ name: 'signer.firstName', label: t('fields.firstName'), autocomplete: 'given-name', value: u ? u.firstName : '' }),
        field({ name: 'signer.lastName', label: t('fields.lastName'), autocomplete: 'family-name', value: u ? u.lastName : '' }),
        field({ name: 'signer.email', label: t('fields.email'), type: 'email', autocomplete: 'email', spellcheck: 'false', value: u ? u.email : '' }),
        field({ name: 'signer.phoneNumber', label: t('fields.phone'), type: 'tel', hint: t('fields.phoneHint'), autocomplete: 'tel' }),
      ],
      async onSubmit(body) {
        body.templateId = tpl.id;
        await call('POST', '/v1/agreements', { body, idempotencyKey: key(body) });
        navigate('/overview');
      },
    });
    return page(
      t('agreement.title'),
      doc,
      session.hasRole('global_admin') ? null : notice('info', h('p', {}, t('agreement.gaOnly'))),
      f,
    );
  },
};
