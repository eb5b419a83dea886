// The sign-up link's landing (/verify-signup?token=…): the person confirms, then
// POST /v1/signup-verifications creates the work account. A button, not a request
// on arrival, so that a mail scanner following the link creates nothing.
import { h } from '../dom.js';
import { t } from '../i18n.js';
import { call } from '../api.js';
import { form } from '../form.js';
import { page, notice, buttonLink, link } from '../view.js';

export default {
  title: 'verifySignup.title',
  render({ params }) {
    const token = params.get('token');
    if (!token) {
      return page(t('verifySignup.title'), notice('error', h('p', {}, t('links.missingToken'))), h('p', {}, link('/sign-up', t('verifySignup.signUpAgain'))));
    }
    const result = h('div');
    const f = form({
      label: t('verifySignup.title'),
      submit: t('verifySignup.submit'),
      fields: [],
      secondary: link('/sign-up', t('verifySignup.signUpAgain')),
      overrides: {
        signup_link_invalid: 'verifySignup.invalid',
        404: 'verifySignup.invalid',
        409: 'verifySignup.taken',
        400: 'verifySignup.invalid',
      },
      async onSubmit() {
        const { data } = await call('POST', '/v1/signup-verifications', { anonymous: true, body: { token } });
        f.remove();
        const n = notice('success', h('p', {}, t('verifySignup.done', { domain: data.domain })), h('p', {}, t('verifySignup.signInAs', { email: data.admin.email })));
        n.setAttribute('tabindex', '-1');
        result.replaceChildren(n, h('div', { class: 'actions' }, buttonLink('/sign-in', t('verifySignup.signIn'), { username: data.admin.email })));
        n.focus();
      },
    });
    return page(t('verifySignup.title'), h('p', { class: 'lead' }, t('verifySignup.lead')), f, result);
  },
};
