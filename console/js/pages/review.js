// The operator's review queue (GET /v1/operator/enrollments?status=): each
// enrolment with its company, country and primary contact, and the decision,
// approve, reject or ask for more information, with its reason (POST
// …/{id}/decisions; a reason is required unless approving, and is mailed to the
// primary contact). Above them, the MPN ID claims waiting for verification (GET
// /v1/operator/mpn-associations?status=pending_verification): verify one (which
// releases the other work accounts' claims of the ID) or reject it with a reason
// (POST …/{id}/decisions; the reason is mailed to the primary contact). Below,
// the domains verified for a work account (GET /v1/operator/tenants/{id}/domains),
// where its primary contact may be besides its own domain: one verified (POST),
// one withdrawn after a confirmation (DELETE).
import { h, uid } from '../dom.js';
import { t, formatDate, countryName } from '../i18n.js';
import { call, idempotency } from '../api.js';
import { field, form } from '../form.js';
import { page, notice, facts, cards, card, confirmButton, moreButton, resultSlot } from '../view.js';
import { problemMessage } from '../problems.js';
import { regionName } from '../reference.js';

// a queue is shown a page at a time, the oldest first, more on request: a
// queue of hundreds drawn at once made the page slow to use
const PAGE = 50;

// The cards of a list's first page (GET answer first), each item drawn by
// render, and the button that appends the next page's.
function paged(label, first, render, empty, moreLabel) {
  const list = cards(label, first.items.map(render), empty);
  const slot = resultSlot();
  const more = moreButton(moreLabel, first, (items) => list.append(...items.map(render)), slot);
  return [list, h('div', { class: 'actions' }, more), slot];
}

const STATUSES = ['in_review', 'pending_email_verification', 'more_info_requested', 'approved', 'rejected'];
const DECISIONS = ['approve', 'request_info', 'reject'];

function decisionForm(e) {
  const key = idempotency();
  const name = uid('decision');
  const errId = `${name}-error`;
  const f = form({
    label: t('review.decideFor', { company: e.companyName, domain: e.tenantDomain }),
    submit: t('review.submit'),
    overrides: { 409: 'review.decided' },
    fields: [
      h(
        'fieldset',
        { class: 'field decision', dataset: { field: 'decision' } },
        h('legend', {}, t('review.decision')),
        h('p', { class: 'error', id: errId, hidden: true }),
        DECISIONS.map((d) => {
          const id = uid('d');
          return h('div', { class: 'checkbox' }, h('input', { type: 'radio', id, name: 'decision', value: d, checked: d === 'approve', 'aria-describedby': errId }), h('label', { for: id }, t(`review.decisions.${d}`)));
        }),
      ),
      field({ name: 'reason', label: t('review.reason'), type: 'textarea', hint: t('review.reasonHint'), required: false, rows: 3 }),
    ],
    async onSubmit(_, el) {
      const body = { decision: el.querySelector('input[name="decision"]:checked').value };
      const reason = el.elements.reason.value.trim();
      if (reason) body.reason = reason;
      await call('POST', `/v1/operator/enrollments/${encodeURIComponent(e.id)}/decisions`, { body, idempotencyKey: key(body) });
      const n = notice('success', h('p', {}, t(`review.done.${body.decision}`, { company: e.companyName })));
      n.setAttribute('tabindex', '-1');
      f.replaceWith(n);
      n.focus();
    },
  });
  f.querySelector('button[type="submit"]').setAttribute('aria-label', t('review.submitFor', { company: e.companyName }));
  return f;
}

const MPN_DECISIONS = ['verify', 'reject'];

function claimForm(m) {
  const key = idempotency();
  const name = uid('mpn');
  const errId = `${name}-error`;
  const f = form({
    label: t('review.mpn.decideFor', { id: m.mpnId, company: m.companyName || m.tenantDomain, domain: m.tenantDomain }),
    submit: t('review.submit'),
    overrides: { 409: 'review.mpn.decided', contact_unverified: 'review.mpn.contactUnverified', mpn_id_taken: 'review.mpn.taken' },
    fields: [
      h(
        'fieldset',
        { class: 'field decision', dataset: { field: 'decision' } },
        h('legend', {}, t('review.decision')),
        h('p', { class: 'error', id: errId, hidden: true }),
        MPN_DECISIONS.map((d) => {
          const id = uid('d');
          return h('div', { class: 'checkbox' }, h('input', { type: 'radio', id, name: 'decision', value: d, checked: d === 'verify', 'aria-describedby': errId }), h('label', { for: id }, t(`review.mpn.decisions.${d}`)));
        }),
      ),
      field({ name: 'reason', label: t('review.reason'), type: 'textarea', hint: t('review.mpn.reasonHint'), required: false, rows: 2 }),
    ],
    async onSubmit(_, el) {
      const body = { decision: el.querySelector('input[name="decision"]:checked').value };
      const reason = el.elements.reason.value.trim();
      if (reason) body.reason = reason;
      const r = await call('POST', `/v1/operator/mpn-associations/${encodeURIComponent(m.id)}/decisions`, { body, idempotencyKey: key(body) });
      const n = notice('success', h('p', {}, t(`review.mpn.done.${body.decision}`, { id: m.mpnId, company: m.companyName || m.tenantDomain, released: r.data.released })));
      n.setAttribute('tabindex', '-1');
      f.replaceWith(n);
      n.focus();
    },
  });
  f.querySelector('button[type="submit"]').setAttribute('aria-label', t('review.mpn.submitFor', { id: m.mpnId, company: m.companyName || m.tenantDomain }));
  return f;
}

// The claims waiting for the operator; a failure to read them leaves the
// enrolments' queue shown, with a word of why.
async function claims() {
  let first;
  try {
    ({ data: first } = await call('GET', `/v1/operator/mpn-associations?status=pending_verification&limit=${PAGE}`));
  } catch (e) {
    return notice('error', h('p', {}, problemMessage(e, { 403: 'review.operatorOnly' })));
  }
  const render = (m) =>
    card(
      t('review.mpn.claimOf', { id: m.mpnId, company: m.companyName || m.tenantDomain }),
      facts([
        [t('review.domain'), m.tenantDomain],
        [t('review.mpn.location'), `${countryName(m.country)}, ${m.locationName}`],
        [t('review.verified'), m.contactVerified ? t('review.mpn.yes') : t('review.notVerified')],
        [t('review.mpn.claimed'), formatDate(m.claimedAt)],
      ]),
      claimForm(m),
    );
  return [h('h2', {}, t('review.mpn.title')), h('p', {}, t('review.mpn.lead')), paged(t('review.mpn.title'), first, render, t('review.mpn.none'), t('review.mpn.more'))];
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

// The domains verified for a work account, with the forms to choose the work
// account and to verify another domain for it. Drawn in place (the queues
// above are not read again): a verification or a withdrawal draws it anew.
function domains() {
  const box = h('div', {});
  let tenant = '';
  const load = async (done) => {
    let items;
    try {
      items = (await call('GET', `/v1/operator/tenants/${tenant}/domains`)).data.items;
    } catch (e) {
      box.replaceChildren(notice('error', h('p', {}, problemMessage(e, { 404: 'review.domains.noTenant' }))));
      return;
    }
    const key = idempotency();
    const add = form({
      label: t('review.domains.add'),
      submit: t('review.domains.addSubmit'),
      overrides: { webmail_not_allowed: 'review.domains.webmail', work_account_domain: 'review.domains.own', domain_taken: 'review.domains.taken' },
      fields: [field({ name: 'domain', label: t('review.domains.domain'), hint: t('review.domains.domainHint'), autocomplete: 'off' })],
      async onSubmit(body) {
        await call('POST', `/v1/operator/tenants/${tenant}/domains`, { body, idempotencyKey: key(body) });
        await load(t('review.domains.verified', { domain: body.domain }));
      },
    });
    const rows = items.map((d) =>
      card(
        d.domain,
        facts([[t('review.domains.verifiedAt'), formatDate(d.verifiedAt)]]),
        confirmButton({
          label: t('review.domains.remove'),
          ariaLabel: t('review.domains.removeLabel', { domain: d.domain }),
          question: t('review.domains.removeQuestion', { domain: d.domain }),
          yes: t('review.domains.removeYes'),
          cancel: t('common.cancel'),
          async run() {
            await call('DELETE', `/v1/operator/tenants/${tenant}/domains/${encodeURIComponent(d.domain)}`);
            await load(t('review.domains.removed', { domain: d.domain }));
          },
        }),
      ),
    );
    const said = done ? notice('success', h('p', { tabindex: '-1' }, done)) : null;
    box.replaceChildren(...[said, cards(t('review.domains.title'), rows, t('review.domains.none')), add].filter(Boolean));
    if (said) said.querySelector('p').focus();
  };
  const choose = form({
    label: t('review.domains.choose'),
    submit: t('review.show'),
    fields: [field({ name: 'tenant', label: t('review.domains.tenant'), hint: t('review.domains.tenantHint'), autocomplete: 'off' })],
    async onSubmit(v) {
      tenant = v.tenant.trim().toLowerCase();
      if (!UUID.test(tenant)) {
        box.replaceChildren(notice('error', h('p', {}, t('review.domains.noTenant'))));
        return;
      }
      await load();
    },
  });
  return [h('h2', {}, t('review.domains.title')), h('p', {}, t('review.domains.lead')), choose, box];
}

export default {
  title: 'review.title',
  async render({ params, navigate }) {
    const status = STATUSES.includes(params.get('status')) ? params.get('status') : 'in_review';
    let first;
    try {
      ({ data: first } = await call('GET', `/v1/operator/enrollments?status=${status}&limit=${PAGE}`));
    } catch (e) {
      return page(t('review.title'), notice('error', h('p', {}, problemMessage(e, { 403: 'review.operatorOnly' }))));
    }
    const filter = form({
      label: t('review.filter'),
      submit: t('review.show'),
      fields: [field({ name: 'status', label: t('review.status'), type: 'select', options: STATUSES.map((s) => ({ value: s, label: t(`overview.enrollment.${s}`) })) })],
      async onSubmit(v) {
        navigate('/review', { query: { status: v.status } });
      },
    });
    filter.querySelector('select').value = status;
    const render = (e) =>
      card(
        e.companyName,
        facts([
          [t('review.domain'), e.tenantDomain],
          [t('review.country'), `${countryName(e.cspCountry)} (${regionName(e.cspRegion)})`],
          [t('review.contact'), `${e.primaryContact.firstName} ${e.primaryContact.lastName} <${e.primaryContact.email}>, ${e.primaryContact.phoneNumber}`],
          [t('review.verified'), e.emailVerifiedAt ? formatDate(e.emailVerifiedAt) : t('review.notVerified')],
          [t('review.since'), formatDate(e.createdAt)],
          [t('review.status'), t(`overview.enrollment.${e.status}`)],
        ]),
        e.status === 'in_review' ? decisionForm(e) : null,
      );
    return page(t('review.title'), h('p', { class: 'lead' }, t('review.lead')), filter, paged(t('review.title'), first, render, t('review.none'), t('review.more')), await claims(), domains());
  },
};
