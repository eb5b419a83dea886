// Staff groups of a provider (GET /v1/groups): the groups of its users that a
// reseller relationship's admin access may be assigned to (on Indirect
// resellers). A global admin makes one (POST /v1/groups), opens it
// (/groups?group=<id>: GET /v1/groups/{id}) to choose its members among the
// work account's users (PUT …/members with If-Match: a change made meanwhile is
// refused, not overwritten), or deletes it after a confirmation (refused while
// an active relationship's access is assigned to it). Admin agents read them.
import { h } from '../dom.js';
import { t } from '../i18n.js';
import { all, call, idempotency } from '../api.js';
import { checkboxes, checkedValues, field, form } from '../form.js';
import { page, notice, cards, card, facts, confirmButton, link, resultSlot, say } from '../view.js';
import { problemMessage } from '../problems.js';
import * as session from '../session.js';

const REFUSALS = { not_provider: 'groups.notProvider', 403: 'groups.notAllowed' };

export function personName(u) {
  const name = `${u.firstName || ''} ${u.lastName || ''}`.trim();
  return name ? `${name} (${u.email})` : u.email;
}

function list(items, st, ga, navigate) {
  const key = idempotency();
  const groupCard = (g) =>
    card(
      g.name,
      facts([[t('groups.members'), String(g.memberCount)]]),
      h('div', { class: 'actions' }, link('/groups', ga ? t('groups.open') : t('groups.view'), { group: g.id }, { 'aria-label': t(ga ? 'groups.openLabel' : 'groups.viewLabel', { name: g.name }) })),
    );
  const make = ga
    ? form({
        label: t('groups.make'),
        submit: t('groups.makeSubmit'),
        overrides: REFUSALS,
        ruleFields: { group_name_taken: 'name' },
        fields: [field({ name: 'name', label: t('groups.name'), hint: t('groups.nameHint'), maxlength: 100, autocomplete: 'off' })],
        async onSubmit(body) {
          const { data } = await call('POST', '/v1/groups', { body, idempotencyKey: key(body) });
          navigate('/groups', { query: { group: data.id }, state: { created: data.name } });
        },
      })
    : null;
  return page(
    t('groups.title'),
    st.deleted ? notice('success', h('p', {}, t('groups.deleted', { name: st.deleted }))) : null,
    h('p', { class: 'lead' }, t('groups.lead')),
    cards(t('groups.title'), items.map(groupCard), t('groups.none')),
    make ? [h('h2', {}, t('groups.make')), make] : null,
  );
}

async function one(id, st, ga, navigate) {
  let g;
  let users = [];
  try {
    [{ data: g }, users] = await Promise.all([call('GET', `/v1/groups/${encodeURIComponent(id)}`), ga ? all('/v1/users?limit=200') : []]);
  } catch (e) {
    return page(t('groups.title'), notice('error', h('p', {}, problemMessage(e, REFUSALS))), h('p', {}, link('/groups', t('groups.back'))));
  }
  let etag = g.etag;
  const count = h('dd', {}, String(g.memberCount));
  const back = h('p', {}, link('/groups', t('groups.back')));
  const head = h('dl', { class: 'facts' }, h('div', {}, h('dt', {}, t('groups.members')), count));
  if (!ga) {
    return page(
      t('groups.groupTitle', { name: g.name }),
      head,
      g.members.length ? h('ul', { class: 'plain', 'aria-label': t('groups.membersOf', { name: g.name }) }, g.members.map((m) => h('li', {}, personName(m)))) : h('p', { class: 'empty' }, t('groups.noMembers')),
      back,
    );
  }
  const slot = resultSlot();
  // the members first, then the others, each in the order of the users' list
  const inGroup = new Set(g.members.map((m) => m.id));
  const known = new Set(users.map((u) => u.id));
  const options = [...g.members.filter((m) => !known.has(m.id)), ...users].map((u) => ({
    value: u.id,
    label: u.disabled ? `${personName(u)} — ${t('groups.disabled')}` : personName(u),
  }));
  const f = form({
    label: t('groups.membersOf', { name: g.name }),
    submit: t('groups.save'),
    overrides: { ...REFUSALS, 412: 'groups.stale' },
    fields: [checkboxes({ name: 'userIds', legend: t('groups.membersOf', { name: g.name }), hint: t('groups.membersHint'), options, checked: [...inGroup] })],
    async onSubmit(_, el) {
      const body = { userIds: checkedValues(el, 'userIds') };
      try {
        const { data } = await call('PUT', `/v1/groups/${encodeURIComponent(g.id)}/members`, { body, ifMatch: etag });
        etag = data.etag;
        count.textContent = String(data.memberCount);
        say(slot, 'ok', t('groups.saved', { name: g.name, count: data.memberCount }));
      } catch (e) {
        slot.hidden = true;
        for (const err of e.errors || []) if (/^userIds\[/.test(err.field || '')) err.field = 'userIds';
        throw e;
      }
    },
  });
  f.querySelector('button[type="submit"]').setAttribute('aria-label', t('groups.saveLabel', { name: g.name }));
  const remove = confirmButton({
    label: t('groups.delete'),
    ariaLabel: t('groups.deleteLabel', { name: g.name }),
    question: t('groups.deleteQuestion', { name: g.name }),
    yes: t('groups.deleteYes'),
    cancel: t('common.cancel'),
    overrides: { ...REFUSALS, group_assigned: 'groups.assigned' },
    async run() {
      await call('DELETE', `/v1/groups/${encodeURIComponent(g.id)}`);
      navigate('/groups', { replace: true, state: { deleted: g.name } });
    },
  });
  return page(
    t('groups.groupTitle', { name: g.name }),
    st.created ? notice('success', h('p', {}, t('groups.created', { name: st.created }))) : null,
    head,
    f,
    slot,
    remove,
    back,
  );
}

export default {
  title: 'groups.title',
  async render({ params, state, navigate }) {
    // a work account that is no provider (here by its address) lists none and makes none
    const ga = session.hasRole('global_admin') && session.isPartner('provider');
    const id = params.get('group');
    if (id) return one(id, state, ga, navigate);
    let items;
    try {
      items = await all('/v1/groups?limit=200');
    } catch (e) {
      return page(t('groups.title'), notice('error', h('p', {}, problemMessage(e, REFUSALS))));
    }
    return list(items, state, ga, navigate);
  },
};
