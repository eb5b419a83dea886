// API tokens for the partner's own systems (GET/POST/DELETE /v1/api-tokens): a
// name, scopes and an expiry; the token itself is shown once, at creation.
import { h, uid } from '../dom.js';
import { t, formatDate } from '../i18n.js';
import { all, call, idempotency } from '../api.js';
import { field, form } from '../form.js';
import { page, notice, cards, card, facts, confirmButton } from '../view.js';
import { problemMessage } from '../problems.js';
import { SCOPES } from '../reference.js';

function state(k) {
  if (k.revokedAt) return t('apiTokens.revoked', { date: formatDate(k.revokedAt) });
  if (new Date(k.expiresAt) < new Date()) return t('apiTokens.expired');
  if (k.suspendedReason) return t('apiTokens.suspended');
  return t('apiTokens.active');
}

function inDays(n) {
  const d = new Date(Date.now() + n * 86400000);
  return d.toISOString().slice(0, 10);
}

export default {
  title: 'apiTokens.title',
  async render({ state: st, navigate }) {
    let items;
    try {
      items = await all('/v1/api-tokens?limit=200');
    } catch (e) {
      return page(t('apiTokens.title'), notice('error', h('p', {}, problemMessage(e, { 403: 'users.notAllowed' }))));
    }
    const tokenCard = (k) =>
      card(
        k.name,
        facts([
          [t('apiTokens.state'), state(k)],
          [t('apiTokens.scopes'), k.scopes.join(', ')],
          [t('apiTokens.expires'), formatDate(k.expiresAt)],
          [t('apiTokens.lastUsed'), k.lastUsedAt ? formatDate(k.lastUsedAt) : t('apiTokens.never')],
        ]),
        k.revokedAt
          ? null
          : confirmButton({
              label: t('apiTokens.revoke'),
              ariaLabel: t('apiTokens.revokeLabel', { name: k.name }),
              question: t('apiTokens.revokeQuestion', { name: k.name }),
              yes: t('apiTokens.revokeYes'),
              cancel: t('common.cancel'),
              async run() {
                await call('DELETE', `/v1/api-tokens/${encodeURIComponent(k.id)}`);
                navigate('/api-tokens', { replace: true, state: { revoked: k.name } });
              },
            }),
      );
    const listBox = h('div', {}, cards(t('apiTokens.title'), items.map(tokenCard), t('apiTokens.none')));
    const errId = uid('scopes-error');
    const key = idempotency();
    const shown = h('div');
    const f = form({
      label: t('apiTokens.create'),
      submit: t('apiTokens.createSubmit'),
      fields: [
        field({ name: 'name', label: t('apiTokens.name'), hint: t('apiTokens.nameHint'), autocomplete: 'off' }),
        h(
          'fieldset',
          { class: 'field scopes', dataset: { field: 'scopes' } },
          h('legend', {}, t('apiTokens.scopes')),
          h('p', { class: 'error', id: errId, hidden: true }),
          SCOPES.map((s) => {
            const id = uid('scope');
            return h('div', { class: 'checkbox' }, h('input', { type: 'checkbox', id, value: s, name: `scope.${s}`, 'aria-describedby': errId, dataset: { local: '1' } }), h('label', { for: id }, `${s} — ${t(`apiTokens.scope.${s.replace(':', '_')}`)}`));
          }),
        ),
        field({ name: 'expiresOn', label: t('apiTokens.expiresOn'), type: 'date', hint: t('apiTokens.expiresHint'), value: inDays(90), min: inDays(1), max: inDays(730), local: true }),
      ],
      async onSubmit(body, el) {
        body.scopes = [...el.querySelectorAll('.scopes input:checked')].map((c) => c.value);
        body.expiresAt = `${el.elements.expiresOn.value}T00:00:00Z`;
        let data;
        try {
          ({ data } = await call('POST', '/v1/api-tokens', { body, idempotencyKey: key(body) }));
        } catch (e) {
          for (const err of e.errors || []) if (err.field === 'expiresAt') err.field = 'expiresOn';
          throw e;
        }
        const tokenId = uid('token');
        const n = notice(
          'success',
          h('p', {}, t('apiTokens.created', { name: data.name })),
          h('label', { for: tokenId }, t('apiTokens.secret')),
          h('input', { id: tokenId, class: 'secret', readonly: true, value: data.token || '', spellcheck: 'false', autocomplete: 'off' }),
          h('p', {}, t('apiTokens.once')),
        );
        shown.replaceChildren(n);
        el.reset();
        const fresh = await all('/v1/api-tokens?limit=200').catch(() => null);
        if (fresh) listBox.replaceChildren(cards(t('apiTokens.title'), fresh.map(tokenCard), t('apiTokens.none')));
        n.querySelector('input').focus();
        n.querySelector('input').select();
      },
    });
    return page(
      t('apiTokens.title'),
      st.revoked ? notice('success', h('p', {}, t('apiTokens.revokedNotice', { name: st.revoked }))) : null,
      h('p', { class: 'lead' }, t('apiTokens.lead')),
      shown,
      listBox,
      h('h2', {}, t('apiTokens.create')),
      f,
    );
  },
};
