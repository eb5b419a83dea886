// Create a work account: POST /v1/tenants mails its global admin a link; the
// account exists once that link is followed (verify-signup).
import { h } from '../dom.js';
import { t } from '../i18n.js';
import { call, idempotency } from '../api.js';
import { field, form } from '../form.js';
import { page, notice, link } from '../view.js';

export default {
  title: 'signUp.title',
  render() {
    const key = idempotency();
    const done = h('div', { hidden: true });
    const f = form({
      label: t('signUp.title'),
      submit: t('signUp.submit'),
      fields: [
        h(
          'fieldset',
          {},
          h('legend', {}, t('signUp.company')),
          field({ name: 'displayName', label: t('signUp.displayName'), autocomplete: 'organization' }),
          field({
            name: 'domain',
            label: t('signUp.domain'),
            hint: t('signUp.domainHint'),
            autocomplete: 'off',
            spellcheck: 'false',
            autocapitalize: 'none',
          }),
        ),
        h(
          'fieldset',
          {},
          h('legend', {}, t('signUp.admin')),
          field({ name: 'admin.firstName', label: t('fields.firstName'), autocomplete: 'given-name' }),
          field({ name: 'admin.lastName', label: t('fields.lastName'), autocomplete: 'family-name' }),
          field({
            name: 'admin.email',
            label: t('signUp.email'),
            type: 'email',
            hint: t('signUp.emailHint'),
            autocomplete: 'email',
            spellcheck: 'false',
          }),
          field({
            name: 'admin.password',
            label: t('fields.newPassword'),
            type: 'password',
            hint: t('fields.passwordHint'),
            autocomplete: 'new-password',
          }),
        ),
      ],
      async onSubmit(body) {
        body.domain = (body.domain || '').toLowerCase();
        const { data } = await call('POST', '/v1/tenants', { anonymous: true, body, idempotencyKey: key(body) });
        f.hidden = true;
        done.hidden = false;
        done.replaceChildren(
          notice('success', h('p', {}, t('signUp.sent', { email: data.email })), h('p', {}, t('signUp.sentNext'))),
          h(
            'button',
            {
              type: 'button',
              class: 'secondary',
              onclick: () => {
                done.hidden = true;
                f.hidden = false;
                f.querySelector('input').focus();
              },
            },
            t('signUp.again'),
          ),
        );
        done.querySelector('.notice').setAttribute('tabindex', '-1');
        done.querySelector('.notice').focus();
      },
      overrides: { 403: 'signUp.closed' },
    });
    return page(
      t('signUp.title'),
      h('p', { class: 'lead' }, t('signUp.lead')),
      f,
      done,
      h('p', {}, t('signUp.haveAccount'), ' ', link('/sign-in', t('signUp.signIn')), '.'),
    );
  },
};
