// Forms: every control with its label, hint and error beside it; a refusal from
// the API is written next to the field it names (and listed at the top, with links
// to the fields), and nothing the person typed is lost.
import { h, clear, uid } from './dom.js';
import { t } from './i18n.js';
import { Problem } from './api.js';
import { fieldMessage, problemMessage } from './problems.js';

// One control. name is the API's field path ("admin.email"): the path its value
// takes in the body and the field a problem's errors[] names.
export function field({ name, label, type = 'text', hint, required = true, options, local = false, ...attrs }) {
  const id = uid('f');
  const hintId = hint ? `${id}-hint` : null;
  const errId = `${id}-error`;
  const common = {
    id,
    name,
    required,
    'aria-describedby': [hintId, errId].filter(Boolean).join(' '),
    dataset: local ? { local: '1' } : undefined,
    ...attrs,
  };
  let control;
  if (type === 'select') {
    control = h('select', common, (options || []).map((o) => h('option', { value: o.value }, o.label)));
  } else if (type === 'textarea') {
    control = h('textarea', common);
  } else {
    control = h('input', { type, ...common });
  }
  const wrap = h(
    'div',
    { class: 'field', dataset: { field: name } },
    h('label', { for: id }, label, required ? null : h('span', { class: 'optional' }, ` ${t('form.optional')}`)),
    hint ? h('p', { class: 'hint', id: hintId }, hint) : null,
    h('p', { class: 'error', id: errId, hidden: true }),
    control,
  );
  return wrap;
}

export function checkbox({ name, label, local = false }) {
  const id = uid('f');
  const errId = `${id}-error`;
  return h(
    'div',
    { class: 'field checkbox', dataset: { field: name } },
    h('p', { class: 'error', id: errId, hidden: true }),
    h('input', { type: 'checkbox', id, name, 'aria-describedby': errId, dataset: local ? { local: '1' } : undefined }),
    h('label', { for: id }, label),
  );
}

// A form: onSubmit(values, form) runs with the submit button busy; a Problem it
// throws is shown. opts.overrides: see problems.problemMessage; opts.ruleFields
// maps a rule's code (a 422 without errors[]) to the field it is about, so that it
// is shown beside that field ({country_not_in_region: 'country'}).
export function form({ label, fields, submit, onSubmit, overrides, secondary, ruleFields = {} }) {
  const summary = h('div', { class: 'summary', tabindex: '-1', hidden: true });
  const button = h('button', { type: 'submit', class: 'primary' }, submit);
  const el = h(
    'form',
    { novalidate: true, 'aria-label': label },
    summary,
    fields,
    h('div', { class: 'actions' }, button, secondary),
  );
  el.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    if (button.disabled) return;
    clearErrors(el);
    const missing = requiredErrors(el);
    if (missing.length) {
      showProblem(el, new Problem(400, { errors: missing }));
      return;
    }
    button.disabled = true;
    el.setAttribute('aria-busy', 'true');
    try {
      await onSubmit(values(el), el);
    } catch (e) {
      if (!(e instanceof Problem)) throw e;
      if (e.code && ruleFields[e.code] && !e.errors.length) e.errors = [{ field: ruleFields[e.code], code: e.code }];
      showProblem(el, e, overrides);
    } finally {
      button.disabled = false;
      el.removeAttribute('aria-busy');
    }
  });
  return el;
}

function requiredErrors(el) {
  const out = [];
  for (const c of el.querySelectorAll('input[required], select[required], textarea[required]')) {
    if (c.type === 'checkbox' ? !c.checked : c.value.trim() === '') {
      out.push({ field: c.name, code: 'required' });
    }
  }
  return out;
}

// The form's values as the API's body: "a.b" becomes {a: {b}}; empty optional
// fields are left out; fields marked local (a confirmation) stay in the page.
export function values(el) {
  const out = {};
  for (const c of el.elements) {
    if (!c.name || c.dataset.local) continue;
    let v;
    if (c.type === 'checkbox') v = c.checked;
    else v = c.type === 'password' ? c.value : c.value.trim();
    if (v === '' && !c.required) continue;
    const path = c.name.split('.');
    let o = out;
    for (const p of path.slice(0, -1)) o = o[p] || (o[p] = {});
    o[path[path.length - 1]] = v;
  }
  return out;
}

export function clearErrors(el) {
  for (const w of el.querySelectorAll('.field.invalid')) {
    w.classList.remove('invalid');
    const err = w.querySelector('.error');
    err.hidden = true;
    err.textContent = '';
    for (const c of w.querySelectorAll('input, select, textarea')) c.removeAttribute('aria-invalid');
  }
  const s = el.querySelector('.summary');
  s.hidden = true;
  clear(s);
}

function fieldLabel(w) {
  return w.querySelector('label').firstChild.textContent.replace(/[.:]\s*$/, '');
}

// Writes problem p into form el: each error beside its field, and a summary at the
// top (linking to them), focused so that a screen reader reads it.
export function showProblem(el, p, overrides = {}) {
  clearErrors(el);
  const items = [];
  const unplaced = [];
  for (const err of p.errors) {
    const w = err.field ? el.querySelector(`.field[data-field="${CSS.escape(err.field)}"]`) : null;
    const text = fieldMessage(err);
    if (!w) {
      unplaced.push(text);
      continue;
    }
    if (w.classList.contains('invalid')) continue;
    w.classList.add('invalid');
    const e = w.querySelector('.error');
    e.textContent = text;
    e.hidden = false;
    const c = w.querySelector('input, select, textarea');
    c.setAttribute('aria-invalid', 'true');
    items.push(
      h('li', {}, h('a', { href: `#${c.id}`, onclick: (ev) => { ev.preventDefault(); c.focus(); } }, `${fieldLabel(w)}: ${text}`)),
    );
  }
  const s = el.querySelector('.summary');
  const general = items.length && !unplaced.length && p.status === 400 ? t('form.fix') : problemMessage(p, overrides);
  s.setAttribute('role', 'alert');
  s.append(h('p', { class: 'summary-title' }, general));
  if (unplaced.length) s.append(h('ul', {}, unplaced.map((x) => h('li', {}, x))));
  if (items.length) s.append(h('ul', {}, items));
  s.hidden = false;
  s.focus();
}

// A message beside an action that is not a form (a button in a list).
export function actionError(slot, p, overrides) {
  clear(slot);
  slot.hidden = false;
  slot.append(problemMessage(p, overrides));
}

// A group of boxes (legend, an optional hint) that a problem about field name is
// written beside: options [{value, label}], those in checked ticked. Their values
// are read with checkedValues, not sent as fields of their own.
export function checkboxes({ name, legend, hint, options, checked = [] }) {
  const errId = uid(`${name}-error`);
  const hintId = hint ? `${errId}-hint` : null;
  const describedBy = [hintId, errId].filter(Boolean).join(' ');
  return h(
    'fieldset',
    { class: `field boxes ${name}`, dataset: { field: name } },
    h('legend', {}, legend),
    hint ? h('p', { class: 'hint', id: hintId }, hint) : null,
    h('p', { class: 'error', id: errId, hidden: true }),
    options.map((o) => {
      const id = uid(name);
      return h(
        'div',
        { class: 'checkbox' },
        h('input', { type: 'checkbox', id, value: o.value, name: `${name}.${o.value}`, checked: checked.includes(o.value), 'aria-describedby': describedBy, dataset: { local: '1' } }),
        h('label', { for: id }, o.label),
      );
    }),
  );
}

export function checkedValues(el, name) {
  return [...el.querySelectorAll(`fieldset[data-field="${CSS.escape(name)}"] input:checked`)].map((c) => c.value);
}
