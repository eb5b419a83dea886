// The CSP overview: the agreement's banner once signed, the programme status, the
// enrolment's checklist as steps with the next one marked, and the reseller's
// indirect providers (GET /v1/overview, GET /v1/enrollment).
import { h } from '../dom.js';
import { t, has, formatDate, countryName } from '../i18n.js';
import { call } from '../api.js';
import { actionError } from '../form.js';
import { page, notice, buttonLink } from '../view.js';
import { problemMessage } from '../problems.js';
import * as session from '../session.js';

function steps(checklist, nextStep) {
  return h(
    'ol',
    { class: 'steps', 'aria-label': t('overview.checklist') },
    checklist.map((s) => {
      const next = nextStep && nextStep.step === s.step;
      const state = s.done ? 'done' : next ? 'next' : 'todo';
      return h(
        'li',
        { class: `step step-${state}`, 'aria-current': next ? 'step' : null },
        h('span', { class: 'step-mark', 'aria-hidden': 'true' }, s.done ? '✓' : ''),
        h('span', { class: 'step-text' }, h('span', { class: 'step-title' }, t(`overview.steps.${s.step}.title`)), h('span', { class: 'step-state' }, t(`overview.state.${state}`))),
      );
    }),
  );
}

function resendButton() {
  const slot = h('p', { class: 'action-result', hidden: true });
  const b = h(
    'button',
    {
      type: 'button',
      class: 'secondary',
      onclick: async () => {
        b.disabled = true;
        try {
          await call('POST', '/v1/enrollment/email-verification/resend');
          slot.hidden = false;
          slot.className = 'action-result ok';
          slot.setAttribute('role', 'status');
          slot.textContent = t('overview.resent');
        } catch (e) {
          slot.className = 'action-result error';
          slot.setAttribute('role', 'alert');
          actionError(slot, e, { 429: 'overview.resendLimit', 409: 'overview.alreadyVerified', 403: 'overview.gaOnly' });
        } finally {
          b.disabled = false;
        }
      },
    },
    t('overview.resend'),
  );
  return [b, slot];
}

function nextStepBox(o) {
  const n = o.nextStep;
  if (!n) return notice('success', h('p', {}, t('overview.allDone')));
  const actions = [];
  if (n.step === 'enrollment') actions.push(buttonLink('/enroll', t('overview.enrollNow')));
  if (n.step === 'emailVerified') actions.push(...resendButton());
  return h(
    'section',
    { class: 'next-step', 'aria-labelledby': 'next-step-title' },
    h('h2', { id: 'next-step-title' }, t('overview.nextTitle')),
    h('p', {}, t(`overview.steps.${n.step}.next`)),
    actions.length ? h('div', { class: 'actions' }, actions) : null,
  );
}

export default {
  title: 'overview.title',
  async render({ state }) {
    if (session.hasRole('operator')) {
      return page(t('overview.title'), notice('info', h('p', {}, t('overview.operator'))));
    }
    let o;
    let e = null;
    try {
      [o, e] = await Promise.all([
        call('GET', '/v1/overview').then((r) => r.data),
        call('GET', '/v1/enrollment').then((r) => r.data, (err) => (err.status === 404 ? null : Promise.reject(err))),
      ]);
    } catch (err) {
      return page(t('overview.title'), notice('error', h('p', {}, problemMessage(err))));
    }
    const who = session.current();
    const company = o.companyName || (who && who.organization && who.organization.displayName) || '';
    const facts = h('dl', { class: 'facts' });
    const fact = (k, v) => facts.append(h('div', {}, h('dt', {}, k), h('dd', {}, v)));
    fact(t('overview.programStatus'), t(`overview.program.${o.programStatus}`));
    fact(t('overview.enrollmentStatus'), o.enrollmentStatus ? t(`overview.enrollment.${o.enrollmentStatus}`) : t('overview.notEnrolled'));
    if (e && e.cspCountry) {
      const region = has(`regions.${e.cspRegion}`) ? t(`regions.${e.cspRegion}`) : e.cspRegion;
      fact(t('overview.cspCountry'), t('overview.countryInRegion', { country: countryName(e.cspCountry), region }));
    }
    if (e && e.primaryContact) fact(t('overview.primaryContact'), `${e.primaryContact.firstName} ${e.primaryContact.lastName} <${e.primaryContact.email}>`);
    return page(
      t('overview.title'),
      company ? h('p', { class: 'lead' }, company) : null,
      state.enrolled ? notice('success', h('p', {}, t('overview.enrolled'))) : null,
      o.banner && o.banner.kind === 'agreement_accepted'
        ? notice('success', h('p', { class: 'banner-title' }, t('overview.bannerTitle')), h('p', {}, t('overview.banner', { version: o.banner.version, date: formatDate(o.banner.signedAt) })))
        : null,
      facts,
      nextStepBox(o),
      o.checklist.length ? [h('h2', {}, t('overview.checklist')), steps(o.checklist, o.nextStep)] : null,
      h('h2', {}, t('overview.providers')),
      o.providers.length
        ? h('ul', { class: 'plain' }, o.providers.map((p) => h('li', {}, p.name, ' — ', t(`overview.access.${p.adminAccess}`))))
        : h('p', {}, t('overview.noProviders')),
    );
  },
};
