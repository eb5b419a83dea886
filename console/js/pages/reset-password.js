// The reset link's landing (/reset-password?token=…): a new password, set by POST
// /v1/password-reset-verifications, which also ends every session of the account.
import { h } from '../dom.js';
import { t } from '../i18n.js';
import { call, Problem } from '../api.js';
import { field, form } from '../form.js';
import { page, notice, link } from '../view.js';
import * as session from '../session.js';

export default {
  title: 'reset.title',
  render({ params, navigate }) {
    const token = params.get('token');
    if (!token) {
      return page(t('reset.title'), notice('error', h('p', {}, t('links.missingToken'))), h('p', {}, link('/forgot-password', t('reset.askAgain'))));
    }
    const f = form({
      label: t('reset.title'),
      submit: t('reset.submit'),
      overrides: { 404: 'reset.invalid' },
      secondary: link('/forgot-password', t('reset.askAgain')),
      fields: [
        field({ name: 'password', label: t('fields.newPassword'), type: 'password', hint: t('fields.passwordHint'), autocomplete: 'new-password' }),
        field({ name: 'confirm', label: t('reset.confirm'), type: 'password', autocomplete: 'new-password', local: true }),
      ],
      async onSubmit({ password }, el) {
        if (password !== el.elements.confirm.value) {
          throw new Problem(400, { errors: [{ field: 'confirm', code: 'mismatch' }] });
        }
        await call('POST', '/v1/password-reset-verifications', { anonymous: true, body: { token, password } });
        session.ended(); // the service ended every session, this one's too
        navigate('/sign-in', { replace: true, state: { passwordChanged: true } });
      },
    });
    return page(t('reset.title'), h('p', { class: 'lead' }, t('reset.lead')), f);
  },
};
