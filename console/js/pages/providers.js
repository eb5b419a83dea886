// Indirect providers (GET /v1/relationships?type=indirectProviders): the providers
// the reseller has authorized, their admin access in its work account, and what
// its global admin may do: remove that access and keep the relationship (DELETE
// …/admin-access), or end the relationship (DELETE /v1/relationships/{id}), each
// confirmed first; View customers and Invite new customers for each. Who of the
// provider's staff holds the access (GET …/access-assignments): all its admin
// agents, or the members of the groups it chose, by name and address.
import { h } from '../dom.js';
import { t, formatDate } from '../i18n.js';
import { all, call } from '../api.js';
import { page, notice, facts, cards, card, confirmButton, link, buttonLink } from '../view.js';
import { problemMessage } from '../problems.js';
import { roleList } from '../reference.js';
import * as session from '../session.js';
import { personName } from './groups.js';

export function accessText(rel) {
  const a = rel.adminAccess;
  if (rel.state === 'ended') return t('relationships.access.ended');
  if (a.status === 'removed') return t('relationships.access.removed', { date: formatDate(a.since) });
  if (new Date(a.endsAt) < new Date()) return t('relationships.access.expired', { date: formatDate(a.endsAt) });
  return t('relationships.access.granted', { roles: roleList(a.roles), date: formatDate(a.endsAt) });
}

// Each relationship's access assignment (GET …/access-assignments), null for one
// that is not active; one refused is its Problem, said in its card.
export function assignments(items) {
  return Promise.all(
    items.map((r) =>
      r.state === 'active'
        ? call('GET', `/v1/relationships/${encodeURIComponent(r.id)}/access-assignments`).then(({ data }) => data, (e) => e)
        : null,
    ),
  );
}

// Who of the provider holds the access: a (its assignment, or the Problem that
// refused reading it) as a sentence or a list of groups with their members.
function holders(a, provider) {
  if (a instanceof Error) return problemMessage(a);
  if (a.allAdminAgents) return t('providers.allAdminAgents');
  return h(
    'ul',
    { class: 'holders', 'aria-label': t('providers.holdersOf', { provider }) },
    a.groups.map((g) =>
      h(
        'li',
        {},
        h('span', { class: 'group-name' }, g.name),
        g.members.length ? h('ul', {}, g.members.map((m) => h('li', {}, personName(m)))) : h('span', { class: 'empty' }, ` — ${t('providers.noMembers')}`),
      ),
    ),
  );
}

export default {
  title: 'providers.title',
  async render({ state, navigate }) {
    let items;
    try {
      items = await all('/v1/relationships?type=indirectProviders&limit=200');
    } catch (e) {
      return page(t('providers.title'), notice('error', h('p', {}, problemMessage(e))));
    }
    const assigned = await assignments(items);
    const ga = session.hasRole('global_admin');
    const again = (notice) => navigate('/providers', { replace: true, state: notice });
    const list = items.map((r, i) => {
      const name = r.provider.name;
      const active = r.state === 'active';
      return card(
        name,
        facts([
          [t('relationships.domain'), r.provider.domain],
          [t('relationships.state'), t(`relationships.states.${r.state}`)],
          [t('relationships.since'), formatDate(r.createdAt)],
          [t('relationships.adminAccess'), accessText(r)],
          [t('providers.holders'), assigned[i] ? holders(assigned[i], name) : null],
        ]),
        active
          ? h(
              'div',
              { class: 'actions' },
              link('/customers', t('providers.viewCustomers'), { relationship: r.id }, { 'aria-label': t('providers.viewCustomersOf', { provider: name }) }),
              link('/invite-customer', t('providers.inviteCustomers'), { relationship: r.id }, { 'aria-label': t('providers.inviteCustomersWith', { provider: name }) }),
            )
          : null,
        active && ga && r.adminAccess.status === 'granted'
          ? confirmButton({
              label: t('providers.removeAccess'),
              ariaLabel: t('providers.removeAccessOf', { provider: name }),
              question: t('providers.removeQuestion', { provider: name }),
              yes: t('providers.removeYes'),
              cancel: t('common.cancel'),
              overrides: { 403: 'providers.gaOnly' },
              async run() {
                await call('DELETE', `/v1/relationships/${encodeURIComponent(r.id)}/admin-access`);
                again({ removed: name });
              },
            })
          : null,
        active && ga
          ? confirmButton({
              label: t('providers.end'),
              ariaLabel: t('providers.endWith', { provider: name }),
              question: t('providers.endQuestion', { provider: name }),
              yes: t('providers.endYes'),
              cancel: t('common.cancel'),
              overrides: { 403: 'providers.gaOnly' },
              async run() {
                await call('DELETE', `/v1/relationships/${encodeURIComponent(r.id)}`);
                again({ ended: name });
              },
            })
          : null,
      );
    });
    return page(
      t('providers.title'),
      state.authorized ? notice('success', h('p', {}, t('providers.authorized', { provider: state.authorized }))) : null,
      state.removed ? notice('success', h('p', {}, t('providers.removed', { provider: state.removed }))) : null,
      state.ended ? notice('success', h('p', {}, t('providers.ended', { provider: state.ended }))) : null,
      h('p', { class: 'lead' }, t('providers.lead')),
      cards(t('providers.title'), list, t('providers.none')),
      h('div', { class: 'actions' }, buttonLink('/find-provider', t('providers.find'), null, 'secondary')),
    );
  },
};
