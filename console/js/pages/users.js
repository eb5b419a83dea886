// Users and their roles (GET /v1/users): an admin agent selects a user's roles,
// the guide's Admin agent among them, and selects Update (PATCH /v1/users/{id}
// with If-Match: a change made meanwhile is refused, not overwritten); or adds a
// user (POST /v1/users).
import { h, uid } from '../dom.js';
import { t } from '../i18n.js';
import { all, call, idempotency } from '../api.js';
import { field, form } from '../form.js';
import { page, notice, cards, card, facts, say, resultSlot } from '../view.js';
import { problemMessage } from '../problems.js';
import { ROLES } from '../reference.js';
import * as session from '../session.js';

// The roles as a group of boxes that a problem about `roles` is written beside.
function roleBoxes(legend, roles) {
  const errId = uid('roles-error');
  return h(
    'fieldset',
    { class: 'field roles', dataset: { field: 'roles' } },
    h('legend', {}, legend),
    h('p', { class: 'error', id: errId, hidden: true }),
    ROLES.map((r) => {
      const id = uid('role');
      return h(
        'div',
        { class: 'checkbox' },
        h('input', { type: 'checkbox', id, name: `role.${r}`, value: r, checked: roles.includes(r), 'aria-describedby': errId, dataset: { local: '1' } }),
        h('label', { for: id }, t(`roles.${r}`)),
      );
    }),
  );
}

function checkedRoles(el) {
  return [...el.querySelectorAll('.roles input:checked')].map((c) => c.value);
}

function userCard(u) {
  let etag = u.etag;
  const name = `${u.firstName} ${u.lastName}`.trim() || u.email;
  const slot = resultSlot();
  const f = form({
    label: t('users.rolesOf', { name }),
    submit: t('users.update'),
    overrides: { 412: 'users.stale', 403: 'users.notAllowed' },
    fields: [
      roleBoxes(t('users.rolesOf', { name }), u.roles),
      h(
        'div',
        { class: 'field checkbox' },
        h('input', { type: 'checkbox', id: `disabled-${u.id}`, name: 'disabled', checked: u.disabled, dataset: { local: '1' } }),
        h('label', { for: `disabled-${u.id}` }, t('users.disabled')),
      ),
    ],
    async onSubmit(_, el) {
      const body = { roles: checkedRoles(el), disabled: el.elements.disabled.checked };
      const { data } = await call('PATCH', `/v1/users/${encodeURIComponent(u.id)}`, { body, ifMatch: etag });
      etag = data.etag;
      say(slot, 'ok', t('users.updated', { name }));
      if (u.id === session.current().me.userId) session.reload().catch(() => {});
    },
  });
  f.querySelector('button[type="submit"]').setAttribute('aria-label', t('users.updateLabel', { name }));
  return card(name, facts([[t('users.email'), u.email], [t('users.status'), u.disabled ? t('users.isDisabled') : t('users.enabled')]]), f, slot);
}

export default {
  title: 'users.title',
  async render({ state, navigate }) {
    let items;
    try {
      items = await all('/v1/users?limit=200');
    } catch (e) {
      return page(t('users.title'), notice('error', h('p', {}, problemMessage(e, { 403: 'users.notAllowed' }))));
    }
    const key = idempotency();
    const add = form({
      label: t('users.add'),
      submit: t('users.addSubmit'),
      overrides: { 403: 'users.notAllowed' },
      ruleFields: { email_not_at_domain: 'email' },
      fields: [
        field({ name: 'firstName', label: t('fields.firstName'), autocomplete: 'off' }),
        field({ name: 'lastName', label: t('fields.lastName'), autocomplete: 'off' }),
        field({ name: 'email', label: t('fields.email'), type: 'email', hint: t('users.emailHint'), spellcheck: 'false', autocomplete: 'off' }),
        field({ name: 'password', label: t('users.password'), type: 'password', hint: t('fields.passwordHint'), autocomplete: 'new-password' }),
        roleBoxes(t('users.roles'), []),
      ],
      async onSubmit(body, el) {
        body.roles = checkedRoles(el);
        const { data } = await call('POST', '/v1/users', { body, idempotencyKey: key(body) });
        navigate('/users', { replace: true, state: { added: data.email } });
      },
    });
    return page(
      t('users.title'),
      state.added ? notice('success', h('p', {}, t('users.added', { email: state.added }))) : null,
      h('p', { class: 'lead' }, t('users.lead')),
      cards(t('users.title'), items.map(userCard), t('users.none')),
      h('h2', {}, t('users.add')),
      add,
    );
  },
};
