// Indirect resellers (GET /v1/relationships?type=indirectResellers): the resellers
// that authorized the provider, the admin access each granted, their customers and
// inviting customers for them; and the invitations the provider has sent (GET
// /v1/relationship-invitations), a pending one withdrawn after a confirmation.
// Who of the provider's staff holds each active relationship's admin access (GET
// …/access-assignments): every admin agent, or the members of chosen staff
// groups, which a global admin changes (PUT …/access-assignments with the
// relationship's If-Match: a change made meanwhile is refused, not overwritten).
import { h } from '../dom.js';
import { t, formatDate } from '../i18n.js';
import { all, call } from '../api.js';
import { checkboxes, checkedValues, form } from '../form.js';
import { page, notice, facts, cards, card, confirmButton, link, buttonLink, resultSlot, say } from '../view.js';
import { problemMessage } from '../problems.js';
import { roleList } from '../reference.js';
import { accessText, assignments } from './providers.js';
import * as session from '../session.js';

// The assignment in words: every admin agent, or the groups' names.
function holdersText(a) {
  return a.allAdminAgents ? t('resellers.allAdminAgents') : a.groups.map((g) => g.name).join(', ');
}

// Who holds relationship r's admin access (a: its assignment, or the Problem
// that refused reading it) and, for a global admin, the boxes of the groups
// (groups) that change it.
function holders(r, a, groups, ga) {
  if (a instanceof Error) return { shown: problemMessage(a), change: null };
  let etag = a.etag;
  const shown = h('span', {}, holdersText(a));
  if (!ga) return { shown, change: null };
  const name = r.reseller.name;
  if (!groups.length) {
    return { shown, change: h('p', { class: 'hint' }, t('resellers.noGroups'), ' ', link('/groups', t('resellers.makeGroup'))) };
  }
  const slot = resultSlot();
  const f = form({
    label: t('resellers.holdersOf', { reseller: name }),
    submit: t('resellers.saveHolders'),
    overrides: { 412: 'resellers.staleHolders', 403: 'resellers.gaOnly' },
    fields: [
      checkboxes({
        name: 'groupIds',
        legend: t('resellers.holdersOf', { reseller: name }),
        hint: t('resellers.holdersHint'),
        options: groups.map((g) => ({ value: g.id, label: g.name })),
        checked: a.groupIds,
      }),
    ],
    async onSubmit(_, el) {
      const body = { groupIds: checkedValues(el, 'groupIds') };
      try {
        const { data } = await call('PUT', `/v1/relationships/${encodeURIComponent(r.id)}/access-assignments`, { body, ifMatch: etag });
        etag = data.etag;
        shown.textContent = holdersText(data);
        say(slot, 'ok', t('resellers.holdersSaved', { reseller: name, holders: holdersText(data) }));
      } catch (e) {
        slot.hidden = true;
        for (const err of e.errors || []) if (/^groupIds\[/.test(err.field || '')) err.field = 'groupIds';
        throw e;
      }
    },
  });
  f.querySelector('button[type="submit"]').setAttribute('aria-label', t('resellers.saveHoldersLabel', { reseller: name }));
  return { shown, change: h('div', {}, f, slot) };
}

export default {
  title: 'resellers.title',
  async render({ state, navigate }) {
    let items;
    let sent;
    let groups = [];
    const ga = session.hasRole('global_admin');
    try {
      [items, sent, groups] = await Promise.all([
        all('/v1/relationships?type=indirectResellers&limit=200'),
        all('/v1/relationship-invitations?limit=200'),
        ga ? all('/v1/groups?limit=200') : [],
      ]);
    } catch (e) {
      return page(t('resellers.title'), notice('error', h('p', {}, problemMessage(e))));
    }
    const assigned = await assignments(items);
    sent = sent.filter((i) => i.direction === 'sent').reverse();
    const list = items.map((r, i) => {
      const name = r.reseller.name;
      const granted = r.state === 'active' && r.adminAccess.status === 'granted' && new Date(r.adminAccess.endsAt) > new Date();
      const who = assigned[i] ? holders(r, assigned[i], groups, ga) : { shown: null, change: null };
      return card(
        name,
        facts([
          [t('relationships.domain'), r.reseller.domain],
          [t('relationships.state'), t(`relationships.states.${r.state}`)],
          [t('relationships.since'), formatDate(r.createdAt)],
          [t('relationships.adminAccess'), accessText(r)],
          [t('resellers.holders'), who.shown],
        ]),
        r.state === 'active'
          ? h(
              'div',
              { class: 'actions' },
              link('/customers', t('resellers.customers'), { relationship: r.id }, { 'aria-label': t('resellers.customersOf', { reseller: name }) }),
              granted ? link('/invite-customer', t('resellers.invite'), { relationship: r.id }, { 'aria-label': t('resellers.inviteFor', { reseller: name }) }) : null,
              link('/request-access', t('resellers.askAccess'), { relationship: r.id }, { 'aria-label': t('resellers.askAccessOf', { reseller: name }) }),
            )
          : null,
        who.change,
      );
    });
    const sentCards = sent.map((i) =>
      card(
        i.resellerEmail,
        facts([
          [t('resellers.state'), t(`inviteCustomer.states.${i.state}`)],
          [t('resellers.asked'), roleList(i.adminAccess.roles)],
          [t('resellers.expires'), formatDate(i.expiresAt)],
        ]),
        i.state === 'pending'
          ? confirmButton({
              label: t('resellers.withdraw'),
              ariaLabel: t('resellers.withdrawLabel', { email: i.resellerEmail }),
              question: t('resellers.withdrawQuestion', { email: i.resellerEmail }),
              yes: t('resellers.withdrawYes'),
              cancel: t('common.cancel'),
              async run() {
                await call('DELETE', `/v1/relationship-invitations/${encodeURIComponent(i.id)}`);
                navigate('/resellers', { replace: true, state: { withdrawn: i.resellerEmail } });
              },
            })
          : null,
      ),
    );
    return page(
      t('resellers.title'),
      state.invited ? notice('success', h('p', {}, t('resellers.invited', { email: state.invited }))) : null,
      state.withdrawn ? notice('success', h('p', {}, t('resellers.withdrawn', { email: state.withdrawn }))) : null,
      h('p', { class: 'lead' }, t('resellers.lead')),
      cards(t('resellers.title'), list, t('resellers.none')),
      h('div', { class: 'actions' }, buttonLink('/invite-reseller', t('resellers.inviteReseller'))),
      h('h2', {}, t('resellers.sent')),
      cards(t('resellers.sent'), sentCards, t('resellers.noneSent')),
    );
  },
};
