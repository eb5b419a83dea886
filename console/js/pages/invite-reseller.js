// Invite a reseller (POST /v1/relationship-invitations): the reseller's global
// admin's address, a message, and the admin access asked for (roles, never global
// admin, until a date at most 730 days ahead). The mail's link lands on
// /authorize-provider.
import { h } from '../dom.js';
import { t } from '../i18n.js';
import { call, idempotency } from '../api.js';
import { checkboxes, checkedValues, field, form } from '../form.js';
import { page } from '../view.js';
import { DELEGABLE } from '../reference.js';

function inDays(n) {
  return new Date(Date.now() + n * 86400000).toISOString().slice(0, 10);
}

export default {
  title: 'inviteReseller.title',
  render({ navigate }) {
    const key = idempotency();
    const f = form({
      label: t('inviteReseller.title'),
      submit: t('inviteReseller.submit'),
      ruleFields: { own_domain: 'resellerEmail' },
      overrides: { not_provider: 'inviteReseller.notProvider', 403: 'inviteReseller.notAllowed' },
      fields: [
        field({ name: 'resellerEmail', label: t('inviteReseller.email'), type: 'email', hint: t('inviteReseller.emailHint'), spellcheck: 'false', autocomplete: 'off' }),
        field({ name: 'message', label: t('inviteReseller.message'), type: 'textarea', required: false, rows: 3 }),
        checkboxes({ name: 'adminAccess.roles', legend: t('inviteReseller.roles'), hint: t('inviteReseller.rolesHint'), options: DELEGABLE.map((r) => ({ value: r, label: t(`roles.${r}`) })), checked: ['admin_agent'] }),
        field({ name: 'endsOn', label: t('inviteReseller.until'), type: 'date', hint: t('inviteReseller.untilHint'), value: inDays(365), min: inDays(1), max: inDays(730), local: true }),
      ],
      async onSubmit(body, el) {
        body.adminAccess = {
          roles: checkedValues(el, 'adminAccess.roles'),
          endsAt: `${el.elements.endsOn.value}T00:00:00Z`,
        };
        try {
          await call('POST', '/v1/relationship-invitations', { body, idempotencyKey: key(body) });
        } catch (e) {
          for (const err of e.errors || []) {
            if (err.field === 'adminAccess.endsAt') err.field = 'endsOn';
            if (/^adminAccess\.roles/.test(err.field || '')) err.field = 'adminAccess.roles';
          }
          throw e;
        }
        navigate('/resellers', { state: { invited: body.resellerEmail.toLowerCase() } });
      },
    });
    return page(t('inviteReseller.title'), h('p', { class: 'lead' }, t('inviteReseller.lead')), f);
  },
};
