// Find a provider (GET /v1/providers?q=): the indirect providers authorized in the
// region of the reseller's CSP country, with their support contact, to contact
// one directly; it then sends the invitation.
import { h } from '../dom.js';
import { t } from '../i18n.js';
import { all } from '../api.js';
import { field, form } from '../form.js';
import { page, notice, facts, cards, card } from '../view.js';
import { problemMessage } from '../problems.js';
import { regionName } from '../reference.js';
import * as session from '../session.js';

function providerCard(p) {
  const s = p.supportContact;
  return card(
    p.name,
    facts([
      [t('findProvider.domain'), p.domain],
      [t('findProvider.regions'), p.regions.map(regionName).join(', ')],
      [t('findProvider.email'), s ? h('a', { href: `mailto:${s.email}` }, s.email) : null],
      [t('findProvider.phone'), s ? s.telephone : null],
      [t('findProvider.website'), s ? h('a', { href: s.website, rel: 'noopener noreferrer', target: '_blank' }, s.website) : null],
    ]),
  );
}

export default {
  title: 'findProvider.title',
  async render({ params, navigate }) {
    const q = params.get('q') || '';
    let items;
    try {
      items = await all(`/v1/providers?limit=200${q ? `&q=${encodeURIComponent(q)}` : ''}`);
    } catch (e) {
      const text = e.code === 'enrollment_required' ? t('findProvider.enrolFirst') : problemMessage(e);
      return page(t('findProvider.title'), notice('error', h('p', {}, text)));
    }
    const org = session.current().organization;
    const search = form({
      label: t('findProvider.search'),
      submit: t('findProvider.searchButton'),
      fields: [field({ name: 'q', label: t('findProvider.name'), type: 'search', required: false, value: q })],
      async onSubmit(v) {
        navigate('/find-provider', { query: v.q ? { q: v.q } : undefined });
      },
    });
    return page(
      t('findProvider.title'),
      h('p', { class: 'lead' }, t('findProvider.lead', { region: regionName(org && org.cspRegion) })),
      search,
      h('p', { role: 'status' }, t('findProvider.count', { n: items.length })),
      cards(t('findProvider.results'), items.map(providerCard), q ? t('findProvider.noneNamed', { q }) : t('findProvider.none')),
      h('p', {}, t('findProvider.next')),
    );
  },
};
