// Small pieces every page uses.
import { h } from './dom.js';
import { href } from './router.js';
import { Problem, call, nextPage } from './api.js';
import { problemMessage } from './problems.js';

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

// A definition list of [term, value] pairs (pairs with no value are left out).
export function facts(pairs, attrs = {}) {
  return h(
    'dl',
    { class: 'facts', ...attrs },
    pairs.filter(([, v]) => v !== null && v !== undefined && v !== '').map(([k, v]) => h('div', {}, h('dt', {}, k), h('dd', {}, v))),
  );
}

// A list of cards, each an item: its heading (level 2), facts and actions.
export function cards(label, items, empty) {
  if (!items.length) return h('p', { class: 'empty' }, empty);
  return h('ul', { class: 'cards', 'aria-label': label }, items);
}

export function card(title, ...children) {
  return h('li', { class: 'card' }, h('h2', { class: 'card-title' }, title), ...children);
}

// A message slot beside an action: role status for a success, alert for a refusal.
export function resultSlot() {
  return h('p', { class: 'action-result', hidden: true });
}

export function say(slot, kind, text) {
  slot.hidden = false;
  slot.className = `action-result ${kind === 'ok' ? 'ok' : 'error'}`;
  slot.setAttribute('role', kind === 'ok' ? 'status' : 'alert');
  slot.textContent = text;
}

// A button whose action must be confirmed: the first press shows the question
// and two buttons beside it (Yes / Cancel), focused on Cancel; run() is called on
// Yes. label, ariaLabel, question, yes, cancel: the words; kind: the button's
// class. A Problem run() throws is written beside the button (overrides: see
// problems.problemMessage).
export function confirmButton({ label, ariaLabel, question, yes, cancel, kind = 'danger', run, overrides }) {
  const slot = resultSlot();
  const box = h('div', { class: 'confirm', hidden: true, role: 'group', 'aria-label': question });
  const open = h('button', { type: 'button', class: kind, 'aria-label': ariaLabel || null, 'aria-expanded': 'false' }, label);
  const close = () => {
    box.hidden = true;
    open.hidden = false;
    open.setAttribute('aria-expanded', 'false');
    open.focus();
  };
  const no = h('button', { type: 'button', class: 'secondary', onclick: close }, cancel);
  const ok = h(
    'button',
    {
      type: 'button',
      class: kind,
      onclick: async () => {
        ok.disabled = true;
        try {
          await run(slot);
          box.hidden = true;
        } catch (e) {
          if (!(e instanceof Problem)) throw e;
          close();
          say(slot, 'error', problemMessage(e, overrides));
        } finally {
          ok.disabled = false;
        }
      },
    },
    yes,
  );
  box.append(h('p', {}, question), h('div', { class: 'actions' }, ok, no));
  open.addEventListener('click', () => {
    slot.hidden = true;
    box.hidden = false;
    open.hidden = true;
    open.setAttribute('aria-expanded', 'true');
    no.focus();
  });
  return h('div', { class: 'confirmable' }, open, box, slot);
}

// The button under a list that shows its next page (links.next of the page
// first): append gets the page's items; hidden once there is none; a refusal
// is said in slot.
export function moreButton(label, first, append, slot) {
  let next = nextPage(first);
  const more = h(
    'button',
    {
      type: 'button',
      class: 'secondary',
      hidden: !next,
      onclick: async () => {
        more.disabled = true;
        try {
          const { data } = await call('GET', next);
          append(data.items);
          next = nextPage(data);
          more.hidden = !next;
        } catch (e) {
          say(slot, 'error', problemMessage(e));
        } finally {
          more.disabled = false;
        }
      },
    },
    label,
  );
  return more;
}
