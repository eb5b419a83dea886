// Small pieces every page uses.
import { h } from './dom.js';
import { href } from './router.js';

// A page: its heading (focused when the page is drawn) and its content.
export function page(title, ...children) {
  return h('section', { class: 'page' }, h('h1', { tabindex: '-1' }, title), ...children);
}

// kind: success, info, warning, error. Errors are alerts; the rest are status
// messages, read without taking the focus.
export function notice(kind, ...children) {
  return h('div', { class: `notice notice-${kind}`, role: kind === 'error' ? 'alert' : 'status' }, ...children);
}

export function link(p, label, query, attrs = {}) {
  return h('a', { href: href(p, query), ...attrs }, label);
}

export function buttonLink(p, label, query, kind = 'primary') {
  return link(p, label, query, { class: `button ${kind}` });
}
