// A provider asks a reseller for admin access again (/request-access?relationship=…):
// new or more roles, or a later end, after the reseller removed or narrowed it
// (POST /v1/relationships/{id}/access-requests). The reseller's primary contact is
// mailed a link to /authorize-access. The relationship's requests are listed, and a
// pending one is withdrawn after a confirmation (DELETE …/access-requests/{rid}).
import { h } from '../dom.js';
import { t, formatDate } from '../i18n.js';
import { all, call, idempotency } from '../api.js';
import { checkbox, checkboxes, checkedValues, field, form } from '../form.js';
import { page, notice, facts, cards, card, confirmButton, buttonLink } from '../view.js';
import { problemMessage } from '../problems.js';
import { DELEGABLE, roleList } from '../reference.js';
import { accessText } from './providers.js';

function inDays(n) {
  return new Date(Date.now() + n * 86400000).toISOString().slice(0, 10);
}

export default {
  title: 'requestAccess.title',
  async render({ params, state, navigate }) {
    const rel = params.get('relationship');
    if (!rel) return page(t('requestAccess.title'), notice('error', h('p', {}, t('requestAccess.noRelationship'))));
    const base = `/v1/relationships/${encodeURIComponent(rel)}`;
    const here = `/request-access?relationship=${encodeURIComponent(rel)}`;
    let relationship;
    let requests;
    try {
      relationship = (await call('GET', base)).data;
      requests = (await all(`${base}/access-requests?limit=200`)).reverse();
    } catch (e) {
      return page(t('requestAccess.title'), notice('error', h('p', {}, problemMessage(e))));
    }
    const name = relationship.reseller.name;
    const pending = requests.some((r) => r.state === 'pending');
    const key = idempotency();
    const f =
      relationship.state === 'active' && !pending
        ? form({
            label: t('requestAccess.title'),
            submit: t('requestAccess.submit'),
            overrides: { 403: 'requestAccess.notAllowed' },
            fields: [
              checkboxes({ name: 'roles', legend: t('inviteReseller.roles'), hint: t('inviteReseller.rolesHint'), options: DELEGABLE.map((r) => ({ value: r, label: t(`roles.${r}`) })), checked: ['admin_agent'] }),
              field({ name: 'endsOn', label: t('inviteReseller.until'), type: 'date', hint: t('inviteReseller.untilHint'), value: inDays(365), min: inDays(1), max: inDays(730), local: true }),
              checkbox({ name: 'autoExtend', label: t('requestAccess.autoExtend') }),
              field({ name: 'message', label: t('inviteReseller.message'), type: 'textarea', required: false, rows: 3 }),
            ],
            async onSubmit(body, el) {
              const ask = {
                roles: checkedValues(el, 'roles'),
                endsAt: `${el.elements.endsOn.value}T00:00:00Z`,
                autoExtend: el.elements.autoExtend.checked,
              };
              if (body.message) ask.message = body.message;
              try {
                await call('POST', `${base}/access-requests`, { body: ask, idempotencyKey: key(ask) });
              } catch (e) {
                for (const err of e.errors || []) {
                  if (err.field === 'endsAt') err.field = 'endsOn';
                  if (/^roles/.test(err.field || '')) err.field = 'roles';
                }
                throw e;
              }
              navigate(here, { replace: true, state: { asked: true } });
            },
          })
        : notice('info', h('p', {}, relationship.state === 'active' ? t('requestAccess.pendingAlready', { reseller: name }) : t('requestAccess.ended', { reseller: name })));
    const list = requests.map((r) =>
      card(
        formatDate(r.createdAt),
        facts([
          [t('resellers.state'), t(`requestAccess.states.${r.state}`)],
          [t('resellers.asked'), roleList(r.adminAccess.roles)],
          [t('inviteReseller.until'), formatDate(r.adminAccess.endsAt)],
          [t('requestAccess.autoExtend'), t(r.adminAccess.autoExtend ? 'requestAccess.yes' : 'requestAccess.no')],
          [t('requestAccess.reason'), r.declineReason],
        ]),
        r.state === 'pending'
          ? confirmButton({
              label: t('resellers.withdraw'),
              ariaLabel: t('requestAccess.withdrawLabel', { date: formatDate(r.createdAt) }),
              question: t('requestAccess.withdrawQuestion', { reseller: name }),
              yes: t('resellers.withdrawYes'),
              cancel: t('common.cancel'),
              async run() {
                await call('DELETE', `${base}/access-requests/${encodeURIComponent(r.id)}`);
                navigate(here, { replace: true, state: { withdrawn: true } });
              },
            })
          : null,
      ),
    );
    return page(
      t('requestAccess.title'),
      state.asked ? notice('success', h('p', {}, t('requestAccess.asked', { reseller: name }))) : null,
      state.withdrawn ? notice('success', h('p', {}, t('requestAccess.withdrawn'))) : null,
      h('p', { class: 'lead' }, t('requestAccess.lead', { reseller: name })),
      facts([
        [t('relationships.domain'), relationship.reseller.domain],
        [t('relationships.adminAccess'), accessText(relationship)],
      ]),
      f,
      h('h2', {}, t('requestAccess.requests')),
      cards(t('requestAccess.requests'), list, t('requestAccess.none')),
      h('div', { class: 'actions' }, buttonLink('/resellers', t('requestAccess.toResellers'), undefined, 'secondary')),
    );
  },
};
