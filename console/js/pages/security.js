// The second factor of the signed-in person (GET /v1/me/mfa): setting up an
// authenticator app (POST /v1/me/mfa/totp shows the secret, its first code
// confirms it and answers the 10 recovery codes, shown this once), or removing it
// with a code (DELETE /v1/me/mfa/totp); and, for a global admin, the work
// account's rule that every admin has one (GET/PUT /v1/security-policy). A person
// of whom a second factor is required and who has none is sent here: the service
// refuses it everything else (403 mfa_setup_required).
//
// No QR code: Debian ships no libjs-* QR encoder, and the console fetches nothing
// from elsewhere; the secret is shown in groups of four and the otpauth:// address
// as a link, which an authenticator on the same device opens.
import { h, uid } from '../dom.js';
import { t, formatDate } from '../i18n.js';
import { call } from '../api.js';
import { field, form } from '../form.js';
import { page, notice, facts, buttonLink, resultSlot, say } from '../view.js';
import { problemMessage } from '../problems.js';
import { safeNext } from '../router.js';
import * as session from '../session.js';

const CODE_OVERRIDES = { code_wrong: 'security.wrongCode', mfa_not_pending: 'security.tooLate', 429: 'signIn.locked' };

function codeField() {
  return field({ name: 'code', label: t('signIn.code'), hint: t('signIn.codeHint'), inputmode: 'numeric', autocomplete: 'one-time-code', maxlength: '8', spellcheck: 'false' });
}

// The steps of setting one up, drawn into box.
function setup(box, next) {
  const start = h(
    'button',
    {
      type: 'button',
      class: 'primary',
      onclick: async () => {
        start.disabled = true;
        try {
          const { data } = await call('POST', '/v1/me/mfa/totp');
          confirmStep(box, data, next);
        } catch (e) {
          say(slot, 'error', problemMessage(e));
          start.disabled = false;
        }
      },
    },
    t('security.start'),
  );
  const slot = resultSlot();
  box.replaceChildren(h('p', {}, t('security.offText')), h('div', { class: 'actions' }, start), slot);
}

function confirmStep(box, secret, next) {
  const groups = secret.secret.match(/.{1,4}/g).join(' ');
  const f = form({
    label: t('security.confirmTitle'),
    submit: t('security.confirm'),
    overrides: CODE_OVERRIDES,
    fields: [codeField()],
    async onSubmit({ code }) {
      const { data } = await call('POST', '/v1/me/mfa/totp/confirmation', { body: { code: code.replace(/\s+/g, '') } });
      await session.reload().catch(() => {});
      codesStep(box, data.recoveryCodes, next);
    },
  });
  const secretId = uid('secret');
  box.replaceChildren(
    h('h2', {}, t('security.step1')),
    h('p', {}, t('security.step1Text')),
    h('p', { class: 'secret-label', id: secretId }, t('security.secret')),
    h('p', {}, h('code', { class: 'secret-key', 'aria-labelledby': secretId }, groups)),
    h('p', {}, h('a', { href: secret.otpauthUri }, t('security.openApp'))),
    h('h2', {}, t('security.step2')),
    h('p', {}, t('security.step2Text')),
    f,
  );
  f.querySelector('input').focus();
}

function codesStep(box, codes, next) {
  const n = notice('success', h('p', {}, t('security.on')));
  box.replaceChildren(
    n,
    h('h2', {}, t('security.codesTitle')),
    h('p', {}, t('security.codesText')),
    h('ol', { class: 'codes', 'aria-label': t('security.codesTitle') }, codes.map((c) => h('li', {}, h('code', {}, c)))),
    h('div', { class: 'actions' }, buttonLink(next ? next.split('?')[0] : '/overview', t('security.continue'), next && next.includes('?') ? Object.fromEntries(new URLSearchParams(next.split('?')[1])) : null)),
  );
  n.setAttribute('tabindex', '-1');
  n.focus();
}

function removal(navigate) {
  return form({
    label: t('security.removeTitle'),
    submit: t('security.remove'),
    overrides: CODE_OVERRIDES,
    ruleFields: { code_wrong: 'code' },
    fields: [field({ name: 'code', label: t('security.removeCode'), hint: t('security.removeHint'), autocomplete: 'one-time-code', spellcheck: 'false' })],
    async onSubmit({ code }) {
      const c = code.replace(/\s+/g, '');
      const body = /^[0-9]{6,8}$/.test(c) ? { code: c } : { recoveryCode: c.toLowerCase() };
      await call('DELETE', '/v1/me/mfa/totp', { body });
      navigate('/security', { replace: true, state: { removed: true } });
    },
  });
}

async function policyBox() {
  if (!session.hasRole('global_admin')) return null;
  let p;
  try {
    p = (await call('GET', '/v1/security-policy')).data;
  } catch {
    return null;
  }
  const slot = resultSlot();
  const id = uid('policy');
  const f = form({
    label: t('security.policyTitle'),
    submit: t('security.policySave'),
    fields: [
      h('div', { class: 'field checkbox', dataset: { field: 'mfaRequired' } }, h('input', { type: 'checkbox', id, name: 'mfaRequired', checked: p.mfaRequired, dataset: { local: '1' } }), h('label', { for: id }, t('security.policyBox'))),
    ],
    async onSubmit(_, el) {
      const { data } = await call('PUT', '/v1/security-policy', { body: { mfaRequired: el.elements.mfaRequired.checked } });
      say(slot, 'ok', data.mfaRequired ? t('security.policyOn') : t('security.policyOff'));
      await session.reload().catch(() => {});
    },
  });
  return [h('h2', {}, t('security.policyTitle')), h('p', {}, t('security.policyText')), p.mfaRequiredByPlatform ? notice('info', h('p', {}, t('security.byPlatform'))) : null, f, slot];
}

export default {
  title: 'security.title',
  async render({ state, params, navigate }) {
    let m;
    try {
      m = (await call('GET', '/v1/me/mfa')).data;
    } catch (e) {
      return page(t('security.title'), notice('error', h('p', {}, problemMessage(e))));
    }
    const next = safeNext(params.get('next'));
    const box = h('div');
    const required = state.setupRequired || (m.required && m.totp !== 'on');
    if (m.totp === 'on') {
      box.append(
        facts([
          [t('security.state'), t('security.isOn')],
          [t('security.since'), formatDate(m.confirmedAt)],
          [t('security.codesLeft'), String(m.recoveryCodesLeft)],
        ]),
        ...(m.required ? [notice('info', h('p', {}, t('security.requiredOn')))] : [h('h2', {}, t('security.removeTitle')), removal(navigate)]),
      );
    } else {
      setup(box, next);
    }
    return page(
      t('security.title'),
      required ? notice('error', h('p', { class: 'banner-title' }, t('security.requiredTitle')), h('p', {}, t('security.requiredText'))) : null,
      state.removed ? notice('success', h('p', {}, t('security.removed'))) : null,
      h('p', { class: 'lead' }, t('security.lead')),
      box,
      await policyBox(),
    );
  },
};
