// Welcome: what a partner needs before it starts (the guide's "Before you begin").
import { h } from '../dom.js';
import { t } from '../i18n.js';
import { page, buttonLink, link } from '../view.js';
import * as session from '../session.js';

export default {
  title: 'welcome.title',
  render() {
    const signedIn = session.current() !== null;
    return page(
      t('welcome.title'),
      h('p', { class: 'lead' }, t('welcome.lead')),
      h('h2', {}, t('welcome.beforeTitle')),
      h('p', {}, t('welcome.beforeIntro')),
      h(
        'ul',
        { class: 'checklist' },
        h('li', {}, h('strong', {}, t('welcome.needAccount')), ' ', t('welcome.needAccountText')),
        h('li', {}, h('strong', {}, t('welcome.needMpn')), ' ', t('welcome.needMpnText')),
        h('li', {}, h('strong', {}, t('welcome.needCompany')), ' ', t('welcome.needCompanyText')),
      ),
      h('p', {}, t('welcome.review')),
      h(
        'div',
        { class: 'actions' },
        signedIn
          ? buttonLink('/overview', t('welcome.toOverview'))
          : [buttonLink('/sign-in', t('welcome.next')), buttonLink('/sign-up', t('welcome.create'), null, 'secondary')],
      ),
      signedIn ? null : h('p', {}, t('welcome.noAccount'), ' ', link('/sign-up', t('welcome.createLink')), '.'),
    );
  },
};
