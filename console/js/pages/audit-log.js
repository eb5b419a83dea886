// The audit log (GET /v1/audit-events): every change in the work account, newest
// first, who made it (a user, a token, a provider acting for it) and from where;
// a page at a time.
import { h } from '../dom.js';
import { t, formatDate } from '../i18n.js';
import { call } from '../api.js';
import { page, notice, resultSlot, moreButton } from '../view.js';
import { problemMessage } from '../problems.js';

function row(e) {
  const actor = e.actor.type === 'user' || e.actor.type === 'token' ? t(`audit.actor.${e.actor.type}`, { id: e.actor.id.slice(0, 8) }) : t(`audit.actor.${e.actor.type}`);
  return h(
    'li',
    { class: 'log-entry' },
    h('span', { class: 'log-time' }, formatDate(e.createdAt)),
    h('span', { class: 'log-action' }, h('code', {}, e.action), ' ', e.target ? `${e.target.type} ${String(e.target.id).slice(0, 8)}` : ''),
    h('span', { class: 'log-who' }, actor, ' · ', e.clientAddress, e.delegation ? ` · ${t('audit.delegated')}` : ''),
  );
}

export default {
  title: 'audit.title',
  async render() {
    let data;
    try {
      ({ data } = await call('GET', '/v1/audit-events?limit=50'));
    } catch (e) {
      return page(t('audit.title'), notice('error', h('p', {}, problemMessage(e, { 403: 'users.notAllowed' }))));
    }
    const list = h('ol', { class: 'log', 'aria-label': t('audit.title') }, data.items.map(row));
    const slot = resultSlot();
    const more = moreButton(t('common.more'), data, (items) => list.append(...items.map(row)), slot);
    return page(t('audit.title'), h('p', { class: 'lead' }, t('audit.lead')), data.items.length ? list : h('p', {}, t('audit.none')), h('div', { class: 'actions' }, more), slot);
  },
};
