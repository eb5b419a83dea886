// A customer's partners (GET /v1/customer-relationships): its resellers and its
// indirect providers; its global admin ends one (DELETE
// /v1/customer-relationships/{id}), with a confirmation.
import { h } from '../dom.js';
import { t, formatDate } from '../i18n.js';
import { all, call } from '../api.js';
import { page, notice, facts, cards, card, confirmButton } from '../view.js';
import { problemMessage } from '../problems.js';
import * as session from '../session.js';

export default {
  title: 'partners.title',
  async render({ state, navigate }) {
    let items;
    try {
      items = await all('/v1/customer-relationships?limit=200');
    } catch (e) {
      return page(t('partners.title'), notice('error', h('p', {}, problemMessage(e))));
    }
    const ga = session.hasRole('global_admin');
    const list = items.map((r) =>
      card(
        r.partner.name,
        facts([
          [t('partners.kind'), t(`partners.type.${r.partnerType}`)],
          [t('partners.domain'), r.partner.domain],
          [t('partners.state'), t(`partners.states.${r.state}`)],
          [t('partners.since'), formatDate(r.createdAt)],
          [t('partners.ended'), r.endedAt ? formatDate(r.endedAt) : null],
        ]),
        r.state === 'active' && ga
          ? confirmButton({
              label: t('partners.end'),
              ariaLabel: t('partners.endLabel', { partner: r.partner.name }),
              question: t('partners.endQuestion', { partner: r.partner.name }),
              yes: t('partners.endYes'),
              cancel: t('common.cancel'),
              async run() {
                await call('DELETE', `/v1/customer-relationships/${encodeURIComponent(r.id)}`);
                navigate('/partners', { replace: true, state: { ended: r.partner.name } });
              },
            })
          : null,
      ),
    );
    return page(
      t('partners.title'),
      state.accepted ? notice('success', h('p', {}, t('partners.accepted', state.accepted))) : null,
      state.ended ? notice('success', h('p', {}, t('partners.endedNotice', { partner: state.ended }))) : null,
      h('p', { class: 'lead' }, t('partners.lead')),
      cards(t('partners.title'), list, t('partners.none')),
    );
  },
};
