// Agreement versions, for the operator: the current version of each type (GET
// /v1/agreement-templates) and publishing a new one (POST
// /v1/operator/agreement-templates); the newest whose effective date has come is
// current, and partners who signed only older ones show as not signed.
import { h } from '../dom.js';
import { t } from '../i18n.js';
import { call, idempotency } from '../api.js';
import { field, form } from '../form.js';
import { page, notice, facts, cards, card } from '../view.js';
import { problemMessage } from '../problems.js';

export default {
  title: 'versions.title',
  async render({ state, navigate }) {
    let items;
    try {
      items = (await call('GET', '/v1/agreement-templates')).data.items;
    } catch (e) {
      return page(t('versions.title'), notice('error', h('p', {}, problemMessage(e))));
    }
    const key = idempotency();
    const f = form({
      label: t('versions.publish'),
      submit: t('versions.submit'),
      overrides: { 409: 'versions.exists', 403: 'review.operatorOnly' },
      fields: [
        field({ name: 'type', label: t('versions.type'), hint: t('versions.typeHint'), value: 'partner_agreement', spellcheck: 'false' }),
        field({ name: 'version', label: t('versions.version'), spellcheck: 'false' }),
        field({ name: 'documentUrl', label: t('versions.url'), type: 'url', hint: t('versions.urlHint') }),
        field({ name: 'documentSha256', label: t('versions.sha'), hint: t('versions.shaHint'), spellcheck: 'false', autocomplete: 'off' }),
        field({ name: 'effectiveDate', label: t('versions.effective'), type: 'date', value: new Date().toISOString().slice(0, 10) }),
      ],
      async onSubmit(body) {
        await call('POST', '/v1/operator/agreement-templates', { body, idempotencyKey: key(body) });
        navigate('/agreement-versions', { replace: true, state: { published: body.version } });
      },
    });
    return page(
      t('versions.title'),
      state.published ? notice('success', h('p', {}, t('versions.published', { version: state.published }))) : null,
      h('p', { class: 'lead' }, t('versions.lead')),
      cards(
        t('versions.current'),
        items.map((a) =>
          card(
            `${a.type} ${a.version}`,
            facts([
              [t('versions.effective'), a.effectiveDate],
              [t('versions.url'), h('a', { href: a.documentUrl, rel: 'noopener noreferrer', target: '_blank' }, a.documentUrl)],
              [t('versions.sha'), h('code', { class: 'hash' }, a.documentSha256)],
            ]),
          ),
        ),
        t('versions.none'),
      ),
      h('h2', {}, t('versions.publish')),
      f,
    );
  },
};
