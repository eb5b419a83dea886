// Sessions: where the person is signed in (GET /v1/sessions), ending one (DELETE
// /v1/sessions/{id}) or all of them (DELETE /v1/sessions).
import { h } from '../dom.js';
import { t, formatDate } from '../i18n.js';
import { call } from '../api.js';
import { actionError } from '../form.js';
import { page, notice } from '../view.js';
import { problemMessage } from '../problems.js';
import * as session from '../session.js';

// "Chrome on Linux" from a User-Agent header; the header itself is the tooltip.
function device(ua) {
  if (!ua) return t('sessions.unknownDevice');
  const browser = (/(Edg|OPR|Firefox|Chrome|Chromium|Safari)\//.exec(ua) || [])[1];
  const os = (/(Windows|Android|iPhone|iPad|Mac OS X|Linux|CrOS)/.exec(ua) || [])[1];
  const names = { Edg: 'Edge', OPR: 'Opera', 'Mac OS X': 'macOS', CrOS: 'ChromeOS' };
  if (!browser) return ua.slice(0, 60);
  const b = names[browser] || browser;
  return os ? t('sessions.browserOn', { browser: b, os: names[os] || os }) : b;
}

async function signedOutEverywhere(navigate) {
  session.ended();
  navigate('/sign-in', { replace: true, state: { signedOut: true } });
}

export default {
  title: 'sessions.title',
  async render({ navigate }) {
    let items;
    try {
      items = (await call('GET', '/v1/sessions?limit=200')).data.items;
    } catch (e) {
      return page(t('sessions.title'), notice('error', h('p', {}, problemMessage(e))));
    }
    const list = h(
      'ul',
      { class: 'cards', 'aria-label': t('sessions.title') },
      items.map((s) => {
        const slot = h('p', { class: 'action-result error', role: 'alert', hidden: true });
        const name = device(s.userAgent);
        const card = h(
          'li',
          { class: 'card' },
          h('h2', { class: 'card-title', title: s.userAgent || null }, name, s.current ? h('span', { class: 'tag' }, t('sessions.current')) : null),
          h(
            'dl',
            { class: 'facts' },
            h('div', {}, h('dt', {}, t('sessions.address')), h('dd', {}, s.clientAddress)),
            h('div', {}, h('dt', {}, t('sessions.started')), h('dd', {}, formatDate(s.createdAt))),
            h('div', {}, h('dt', {}, t('sessions.lastUsed')), h('dd', {}, formatDate(s.lastUsedAt))),
          ),
          h(
            'button',
            {
              type: 'button',
              class: 'secondary',
              'aria-label': s.current ? t('sessions.endCurrentLabel') : t('sessions.endLabel', { device: name, date: formatDate(s.createdAt) }),
              onclick: async (ev) => {
                ev.target.disabled = true;
                try {
                  await call('DELETE', `/v1/sessions/${encodeURIComponent(s.id)}`);
                  if (s.current) return signedOutEverywhere(navigate);
                  card.remove();
                } catch (e) {
                  actionError(slot, e);
                  ev.target.disabled = false;
                }
              },
            },
            s.current ? t('sessions.endCurrent') : t('sessions.end'),
          ),
          slot,
        );
        return card;
      }),
    );
    const allSlot = h('p', { class: 'action-result error', role: 'alert', hidden: true });
    return page(
      t('sessions.title'),
      h('p', { class: 'lead' }, t('sessions.lead')),
      list,
      h('h2', {}, t('sessions.everywhereTitle')),
      h('p', {}, t('sessions.everywhereText')),
      h(
        'div',
        { class: 'actions' },
        h(
          'button',
          {
            type: 'button',
            class: 'danger',
            onclick: async () => {
              try {
                await call('DELETE', '/v1/sessions');
                await signedOutEverywhere(navigate);
              } catch (e) {
                actionError(allSlot, e);
              }
            },
          },
          t('sessions.everywhere'),
        ),
      ),
      allSlot,
    );
  },
};
