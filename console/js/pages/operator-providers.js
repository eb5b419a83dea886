// Providers, for the operator: a work account made an indirect provider with the
// CSP regions it is authorized in (POST /v1/operator/providers); its global admins
// join its admin agent group.
import { h, uid } from '../dom.js';
import { t } from '../i18n.js';
import { call, idempotency } from '../api.js';
import { field, form } from '../form.js';
import { page, notice, facts } from '../view.js';
import { problemMessage } from '../problems.js';
import { allRegions, regionName } from '../reference.js';

export default {
  title: 'operatorProviders.title',
  async render() {
    let regions;
    try {
      regions = await allRegions();
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
    return page(t('operatorProviders.title'), h('p', { class: 'lead' }, t('operatorProviders.lead')), done, f);
  },
};
