// Providers, for the operator: every provider with its CSP regions, changed
// under If-Match (GET /v1/operator/providers, PUT .../regions: a change made
// meanwhile is refused, not overwritten); and a work account made an indirect
// provider with the regions it is authorized in (POST /v1/operator/providers),
// its global admins joining its admin agent group. The list comes a page at a
// time (links.next of the API's list): an operator of hundreds of providers
// does not wait for them all.
import { h, uid } from '../dom.js';
import { t } from '../i18n.js';
import { call, idempotency } from '../api.js';
import { field, form } from '../form.js';
import { page, notice, facts, cards, card, resultSlot, say, moreButton } from '../view.js';
import { problemMessage } from '../problems.js';
import { allRegions, regionName } from '../reference.js';

// The region boxes, those of codes ticked.
function regionBoxes(regions, legend, codes) {
  const errId = uid('regions-error');
  return h(
    'fieldset',
    { class: 'field regions', dataset: { field: 'regions' } },
    h('legend', {}, legend),
    h('p', { class: 'error', id: errId, hidden: true }),
    regions.map((r) => {
      const id = uid('region');
      return h('div', { class: 'checkbox' }, h('input', { type: 'checkbox', id, value: r.code, name: `region.${r.code}`, checked: codes.includes(r.code), 'aria-describedby': errId, dataset: { local: '1' } }), h('label', { for: id }, regionName(r.code)));
    }),
  );
}

const PAGE = 50;

function providerCard(p, regions) {
  let etag = p.etag;
  const slot = resultSlot();
  const shown = h('dd');
  const show = (codes) => shown.replaceChildren(codes.map(regionName).join(', '));
  show(p.regions);
  const f = form({
    label: t('operatorProviders.regionsOf', { name: p.name, domain: p.domain }),
    submit: t('operatorProviders.save'),
    overrides: { 412: 'operatorProviders.stale' },
    fields: [regionBoxes(regions, t('operatorProviders.regionsOf', { name: p.name, domain: p.domain }), p.regions)],
    async onSubmit(_, el) {
      const body = { regions: [...el.querySelectorAll('.regions input:checked')].map((c) => c.value) };
      const { data } = await call('PUT', `/v1/operator/providers/${encodeURIComponent(p.id)}/regions`, { body, ifMatch: etag });
      etag = data.etag;
      show(data.regions);
      say(slot, 'ok', t('operatorProviders.saved', { name: p.name }));
    },
  });
  f.querySelector('button[type="submit"]').setAttribute('aria-label', t('operatorProviders.saveLabel', { name: p.name, domain: p.domain }));
  return card(p.name, h('dl', { class: 'facts' }, h('dt', {}, t('operatorProviders.domain')), h('dd', {}, p.domain), h('dt', {}, t('operatorProviders.regions')), shown), f, slot);
}

export default {
  title: 'operatorProviders.title',
  async render() {
    let regions, providers;
    try {
      regions = await allRegions();
      ({ data: providers } = await call('GET', `/v1/operator/providers?limit=${PAGE}`));
    } catch (e) {
      return page(t('operatorProviders.title'), notice('error', h('p', {}, problemMessage(e))));
    }
    const key = idempotency();
    const errId = uid('regions-error');
    const done = h('div');
    const f = form({
      label: t('operatorProviders.make'),
      submit: t('operatorProviders.submit'),
      overrides: { tenant_unknown: 'operatorProviders.unknown', 409: 'operatorProviders.already', 403: 'review.operatorOnly' },
      ruleFields: { tenant_unknown: 'tenantId' },
      fields: [
        field({ name: 'tenantId', label: t('operatorProviders.tenant'), hint: t('operatorProviders.tenantHint'), spellcheck: 'false', autocomplete: 'off' }),
        h(
          'fieldset',
          { class: 'field regions', dataset: { field: 'regions' } },
          h('legend', {}, t('operatorProviders.regions')),
          h('p', { class: 'error', id: errId, hidden: true }),
          regions.map((r) => {
            const id = uid('region');
            return h('div', { class: 'checkbox' }, h('input', { type: 'checkbox', id, value: r.code, name: `region.${r.code}`, 'aria-describedby': errId, dataset: { local: '1' } }), h('label', { for: id }, regionName(r.code)));
          }),
        ),
      ],
      async onSubmit(body, el) {
        body.regions = [...el.querySelectorAll('.regions input:checked')].map((c) => c.value);
        const { data } = await call('POST', '/v1/operator/providers', { body, idempotencyKey: key(body) });
        const n = notice('success', h('p', {}, t('operatorProviders.done', { name: data.name })), facts([[t('operatorProviders.regions'), data.regions.map(regionName).join(', ')]]));
        n.setAttribute('tabindex', '-1');
        done.replaceChildren(n);
        el.reset();
        n.focus();
      },
    });
    const list = cards(t('operatorProviders.listLabel'), providers.items.map((p) => providerCard(p, regions)), t('operatorProviders.none'));
    let shown = providers.items.length;
    const total = providers.totalCountCapped ? `${providers.totalCount}+` : String(providers.totalCount);
    const count = h('p', { role: 'status' });
    const counted = () => count.replaceChildren(shown ? t('operatorProviders.shown', { shown, total }) : '');
    counted();
    const slot = resultSlot();
    const more = moreButton(
      t('operatorProviders.more'),
      providers,
      (items) => {
        list.append(...items.map((p) => providerCard(p, regions)));
        shown += items.length;
        counted();
      },
      slot,
    );
    return page(t('operatorProviders.title'), h('p', { class: 'lead' }, t('operatorProviders.lead')), done, f, h('h2', {}, t('operatorProviders.listTitle')), list, count, h('div', { class: 'actions' }, more), slot);
  },
};
