// The primary contact's link (/verify-email?token=…): confirming it proves the
// contact signed up and that the address is the company's (POST
// /v1/email-verifications); the enrolment then goes to review. Confirmed with a
// button, like the sign-up link, so that a mail scanner confirms nothing.
import { h } from '../dom.js';
import { t } from '../i18n.js';
import { call } from '../api.js';
import { form } from '../form.js';
import { page, notice } from '../view.js';

export default {
  title: 'verifyEmail.title',
  render({ params }) {
    const token = params.get('token');
    if (!token) return page(t('verifyEmail.title'), notice('error', h('p', {}, t('links.missingToken'))));
    const result = h('div');
    const f = form({
      label: t('verifyEmail.title'),
      submit: t('verifyEmail.submit'),
      fields: [],
      overrides: { 404: 'verifyEmail.invalid', 400: 'verifyEmail.invalid', 409: 'verifyEmail.already' },
      async onSubmit() {
        await call('POST', '/v1/email-verifications', { anonymous: true, body: { token } });
        f.remove();
        const n = notice('success', h('p', {}, t('verifyEmail.done')), h('p', {}, t('verifyEmail.review')));
        n.setAttribute('tabindex', '-1');
        result.replaceChildren(n);
        n.focus();
      },
    });
    return page(t('verifyEmail.title'), h('p', { class: 'lead' }, t('verifyEmail.lead')), f, result);
  },
};
