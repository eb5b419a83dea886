import { h } from '../dom.js';
import { t } from '../i18n.js';
import { page, link } from '../view.js';

export default {
  title: 'notFound.title',
  render() {
    return page(t('notFound.title'), h('p', {}, t('notFound.text')), h('p', {}, link('/', t('notFound.home'))));
  },
};
