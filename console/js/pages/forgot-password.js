// A forgotten password: POST /v1/password-resets mails a link if the address is an
// account's, and answers the same either way (so the page does too).
import { h } from '../dom.js';
import { t } from '../i18n.js';
import { call } from '../api.js';
import { field, form } from '../form.js';
import { page, notice, link } from '../view.js';

export default {
  title: 'forgot.title',
  render() {
    const done = h('div');
    const f = form({
      label: t('forgot.title'),
      submit: t('forgot.submit'),
      overrides: { 429: 'forgot.tooMany' },
      fields: [field({ name: 'email', label: t('forgot.email'), type: 'email', autocomplete: 'username', spellcheck: 'false' })],
      async onSubmit(body) {
        const { data } = await call('POST', '/v1/password-resets', { anonymous: true, body });
        const n = notice('success', h('p', {}, t('forgot.sent', { email: data.email, minutes: Math.round(data.expiresIn / 60) })));
        n.setAttribute('tabindex', '-1');
        done.replaceChildren(n);
        n.focus();
      },
    });
    return page(t('forgot.title'), h('p', { class: 'lead' }, t('forgot.lead')), f, done, h('p', {}, link('/sign-in', t('forgot.back'))));
  },
};
