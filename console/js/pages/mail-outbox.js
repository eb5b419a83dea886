// The mail outbox, for the operator (GET /v1/operator/mail?status=): the mails the
// service sends, by status; a failed one is sent again (POST …/{id}/retry).
import { h } from '../dom.js';
import { t, formatDate } from '../i18n.js';
import { all, call } from '../api.js';
import { field, form } from '../form.js';
import { page, notice, facts, cards, card, resultSlot, say } from '../view.js';
import { problemMessage } from '../problems.js';

const STATUSES = ['failed', 'pending', 'sending', 'sent'];

export default {
  title: 'outbox.title',
  async render({ params, navigate }) {
    const status = STATUSES.includes(params.get('status')) ? params.get('status') : 'failed';
    let items;
    try {
      items = (await call('GET', `/v1/operator/mail?status=${status}&limit=100`)).data.items;
    } catch (e) {
      return page(t('outbox.title'), notice('error', h('p', {}, problemMessage(e, { 403: 'review.operatorOnly' }))));
    }
    const filter = form({
      label: t('outbox.filter'),
      submit: t('review.show'),
      fields: [field({ name: 'status', label: t('outbox.status'), type: 'select', options: STATUSES.map((s) => ({ value: s, label: t(`outbox.statuses.${s}`) })) })],
      async onSubmit(v) {
        navigate('/mail-outbox', { query: { status: v.status } });
      },
    });
    filter.querySelector('select').value = status;
    const list = items.map((m) => {
      const slot = resultSlot();
      const retry =
        m.status === 'failed'
          ? h(
              'button',
              {
                type: 'button',
                class: 'secondary',
                'aria-label': t('outbox.retryLabel', { to: m.recipient }),
                onclick: async (ev) => {
                  ev.target.disabled = true;
                  try {
                    await call('POST', `/v1/operator/mail/${encodeURIComponent(m.id)}/retry`);
                    say(slot, 'ok', t('outbox.retried'));
                  } catch (e) {
                    say(slot, 'error', problemMessage(e));
                    ev.target.disabled = false;
                  }
                },
              },
              t('outbox.retry'),
            )
          : null;
      return card(
        m.subject,
        facts([
          [t('outbox.to'), m.recipient],
          [t('outbox.template'), m.template],
          [t('outbox.status'), t(`outbox.statuses.${m.status}`)],
          [t('outbox.attempts'), String(m.attempts)],
          [t('outbox.error'), m.lastError],
          [t('outbox.created'), formatDate(m.createdAt)],
          [t('outbox.sent'), m.sentAt ? formatDate(m.sentAt) : null],
        ]),
        retry,
        slot,
      );
    });
    return page(t('outbox.title'), h('p', { class: 'lead' }, t('outbox.lead')), filter, cards(t('outbox.title'), list, t('outbox.none')));
  },
};
